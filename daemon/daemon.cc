#include "daemon/daemon.h"

#include <chrono>
#include <filesystem>
#include <utility>
#include <vector>

#include "common/process.h"
#include "daemon/api/admin_service.h"
#include "daemon/security/auth.h"
#include "daemon/ops/backup.h"
#include "daemon/trust/checkpointer.h"
#include "daemon/ops/compactor.h"
#include "daemon/governance/config_governance.h"
#include "daemon/governance/config_reload.h"
#include "daemon/daemon_metrics.h"
#include "daemon/governance/daemon_records.h"
#include "daemon/api/health.h"
#include "daemon/governance/key_rotation.h"
#include "daemon/trust/log_signer.h"
#include "daemon/ops/metrics.h"
#include "daemon/security/redaction.h"
#include "daemon/api/reflection_v1.h"
#include "daemon/ops/retention.h"
#include "daemon/ops/retention_filter.h"
#include "daemon/ops/retention_policy.h"
#include "daemon/write/sequencer.h"
#include "daemon/api/service.h"
#include "daemon/trust/signer_client.h"
#include "daemon/write/storage.h"
#include "daemon/trust/witnessing.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/key_file.h"
#include "verifier/store/crc32c.h"

namespace indelible {
namespace {

// A retention policy under which nothing expires in the life of the
// store: 100 years (received_at plus that still fits in a u64 of ns).
RetentionConfig KeepEverything() {
  RetentionConfig c;
  c.categories.clear();
  c.default_seconds = 36500 * kSecondsPerDay;
  return c;
}

// Each stream's HTTP/2 receive window on the server: about one 100-event
// request of 512-byte events (a read in progress gets the window it needs).
constexpr int kStreamWindowBytes = 16 * 1024;

// Logs a start-up failure in the daemon's words.
absl::Status StartupFailed(absl::Status s, std::string_view prefix = "") {
  spdlog::critical("event=startup_failed reason=\"{}{}\"", prefix, s.ToString());
  return s;
}

}  // namespace

Daemon::Daemon() = default;

Daemon::~Daemon() { Stop(); }

absl::Status Daemon::Start(DaemonOptions options) {
  options_ = std::move(options);
  if (auto s = OpenStore(); !s.ok()) return s;
  if (auto s = LoadSigner(); !s.ok()) return s;
  if (auto s = LoadIngestRules(); !s.ok()) return s;
  if (auto s = StartSequencer(); !s.ok()) return s;
  if (auto s = PutSettingsOnRecord(); !s.ok()) return s;
  if (auto s = BuildServices(); !s.ok()) return s;
  if (auto s = StartServer(); !s.ok()) return s;
  if (auto s = StartWitnessing(); !s.ok()) return s;
  StartBackgroundTasks();
  if (auto s = StartMetricsEndpoint(); !s.ok()) return s;
  StartHealth();
  if (auto s = WritePortFiles(); !s.ok()) return s;
  LogListening();
  std::lock_guard<std::mutex> l(mu_);
  running_ = true;
  return absl::OkStatus();
}

// The data directory, the test clock, and the store with the retention
// state that its compaction filters read.
absl::Status Daemon::OpenStore() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) {
    spdlog::critical("event=startup_failed reason=\"cannot create data_dir {}: {}\"",
                     config_.data_dir, ec.message());
    exit_code_ = kExitRuntime;
    return absl::InternalError("cannot create data_dir " + config_.data_dir + ": " +
                               ec.message());
  }
#ifdef INDELIBLE_TESTING_HOOKS
  if (config_.testing_manual_clock) {
    test_clock_ = std::make_unique<ManualClock>(clock_->NowNanos());
    clock_ = test_clock_.get();
    spdlog::warn("event=testing_manual_clock message=\"the clock moves only by "
                 "Admin.AdvanceTestClock: for tests, never for production\"");
  }
#endif
  // Until the configuration's retention is on record (PutSettingsOnRecord),
  // compactions that RocksDB starts on its own keep everything.
  retention_ = std::make_unique<RetentionState>(KeepEverything());
  counters_ = std::make_unique<RetentionCounters>();
  StorageOptions storage_options = config_.storage;
  storage_options.bodies_filter = NewRetentionFilterFactory(
      RetentionTarget::kBodies, retention_.get(), clock_, counters_.get());
  storage_options.event_ids_filter = NewRetentionFilterFactory(
      RetentionTarget::kEventIds, retention_.get(), clock_, counters_.get());
  auto storage = Storage::Open(config_.data_dir, storage_options);
  if (!storage.ok()) return Fail(kExitRuntime, StartupFailed(storage.status()));
  storage_ = *std::move(storage);
  spdlog::info("event=storage_opened data_dir={} crc32c={}", config_.data_dir,
               store::Crc32cImplementation());
  return absl::OkStatus();
}

// The log's signer: a signer process, a key file, or a development key.
absl::Status Daemon::LoadSigner() {
  // No private key in the data directory, ever (docs/SECURITY.md, "Key custody").
  const std::string key_path = !config_.signer_socket.empty() ? std::string()
                               : config_.signing_key_file.empty()
                                   ? DevelopmentKeyPath(config_.data_dir)
                                   : config_.signing_key_file;
  if (auto s = CheckNoKeyInDataDir(key_path, config_.data_dir); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", std::string(s.message()));
    return Fail(kExitUsage, s);
  }
  if (!config_.signer_socket.empty()) {
    auto client = SignerClient::Connect(config_.signer_socket);
    if (!client.ok()) {
      spdlog::critical("event=startup_failed field=signer_socket reason=\"{}\"",
                       client.status().ToString());
      return Fail(kExitRuntime, client.status());
    }
    signer_ = *std::move(client);
    spdlog::info("event=signer_connected socket={}", config_.signer_socket);
  } else {
    bool created = false;
    auto key = chain::LoadSigningKey(key_path, config_.signing_key_file.empty(), &created);
    if (!key.ok()) return Fail(kExitRuntime, StartupFailed(key.status()));
    if (created) {
      spdlog::warn("event=dev_signing_key_generated path={} message=\"generated a "
                   "development signing key; configure signer_socket or signing_key_file "
                   "for production (docs/OPERATIONS.md)\"", key_path);
    }
    signer_ = std::make_unique<KeyLogSigner>(
        chain::NoteSigner(config_.key_name, *std::move(key)));
  }
  spdlog::info("event=signing_key verifier_key={}",
               chain::NoteVerifierKeyString(signer_->verifier_key()));
  return absl::OkStatus();
}

// Key files are checked before anything listens; errors name the file.
absl::Status Daemon::LoadIngestRules() {
  auto rules = IngestRules::Create(config_.ingest_rules);
  if (!rules.ok()) return Fail(kExitRuntime, StartupFailed(rules.status()));
  ingest_rules_ = *std::move(rules);
  spdlog::info("event=ingest_rules tenant_sections={} default_detect_secrets={}",
               ingest_rules_->tenant_sections(),
               config_.ingest_rules.defaults.detect_secrets.value_or(true));
  return absl::OkStatus();
}

// Recovery, key rotation, and the checkpointer's view of what is signed.
absl::Status Daemon::StartSequencer() {
  if (auto s = LoadRetentionState(storage_.get(), retention_.get()); !s.ok()) {
    return Fail(kExitRuntime, StartupFailed(s));
  }
  metrics_ = std::make_unique<Metrics>();
  Sequencer::Options sequencer_options = config_.sequencer;
  sequencer_options.metrics = metrics_.get();
  sequencer_ = std::make_unique<Sequencer>(storage_.get(), clock_, sequencer_options);
  if (auto s = sequencer_->Start(); !s.ok()) return Fail(kExitRuntime, StartupFailed(s));
  // A new key takes over only by a statement of the old one, on record in
  // every chain before the new key signs anything.
  if (auto s = ApplyKeyRotation({storage_.get(), sequencer_.get(), clock_, config_.limits,
                                 signer_->verifier_key(), EffectiveLogName(config_),
                                 config_.key_rotation_statement_file});
      !s.ok()) {
    return Fail(absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime, StartupFailed(s));
  }
  recorder_ = std::make_unique<DaemonRecorder>(sequencer_.get(), storage_.get(), clock_,
                                               config_.limits);
  // A tenant created after a rotation carries the statements too.
  auto statements = CachedKeyRotations(storage_.get());
  if (!statements.ok()) return Fail(kExitRuntime, StartupFailed(statements.status()));
  checkpointer_ = std::make_unique<Checkpointer>(
      storage_.get(), sequencer_.get(), clock_, signer_.get(),
      Checkpointer::Options{std::chrono::milliseconds(config_.checkpoint_interval_ms),
                            EffectiveLogName(config_),
                            KeyHistoryRecorder(recorder_.get(), *std::move(statements))});
  if (auto s = checkpointer_->Init(); !s.ok()) return Fail(kExitRuntime, StartupFailed(s));
  return absl::OkStatus();
}

// The configuration's security and retention settings are on record in
// the chains they concern before any of them takes effect.
absl::Status Daemon::PutSettingsOnRecord() {
  if (auto s = CommitSettings(storage_.get(), *recorder_, GovernedSettingsOf(config_),
                              kConfigStartAction, options_.accept_weaker_config);
      !s.ok()) {
    return Fail(absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime, StartupFailed(s));
  }
  // Each tenant's retention policy on record in its chain before it prunes.
  retention_policies_ =
      std::make_unique<RetentionPolicyRecorder>(retention_.get(), storage_.get(), recorder_.get());
  if (auto s = retention_policies_->Start(config_.retention); !s.ok()) {
    return Fail(kExitRuntime, StartupFailed(s));
  }
  authorizer_ = std::make_unique<Authorizer>(config_.auth);
  if (config_.auth.enabled) {
    spdlog::info("event=auth_enabled tokens={} bindings={} two_person_rule={}",
                 config_.auth.tokens.size(), config_.auth.bindings.size(),
                 config_.auth.two_person_rule);
  } else {
    spdlog::warn("event=auth_disabled message=\"open mode: every caller may do "
                 "everything; loopback development only (docs/SECURITY.md)\"");
  }
  return absl::OkStatus();
}

// The gRPC services and the tasks they drive (not started yet).
absl::Status Daemon::BuildServices() {
  ServiceOptions service_options;
  service_options.authorizer = authorizer_.get();
  service_options.limits = config_.limits;
  service_options.max_read_records = config_.max_read_records;
  service_options.ingest_rules = ingest_rules_.get();
  service_options.proof_counter = [m = metrics_.get()](const absl::Status& s) {
    m->CountProof(s.ok());
  };
  service_ = std::make_unique<AuditLogService>(sequencer_.get(), storage_.get(), clock_,
                                               signer_.get(), service_options);
  const std::chrono::milliseconds poll(config_.testing_manual_clock ? 100 : 1000);
  backuper_ = std::make_unique<Backuper>(
      Backuper::Deps{.storage = storage_.get(),
                     .checkpointer = checkpointer_.get(),
                     .clock = clock_,
                     .signer = signer_.get(),
                     .data_dir = config_.data_dir,
                     .record_scheduled =
                         [recorder = recorder_.get(),
                          authorizer = authorizer_.get()](const std::string& name) {
                           if (!authorizer->record_reads()) return absl::OkStatus();
                           return RecordBackup(
                               *recorder, Principal{"indelibled", "daemon", "", "indelibled"},
                               "daemon", "scheduled backup (backup.interval)", name);
                         }},
      config_.backup, poll);
  AdminDeps admin_deps;
  admin_deps.sequencer = sequencer_.get();
  admin_deps.storage = storage_.get();
  admin_deps.clock = clock_;
  admin_deps.test_clock = test_clock_.get();
  admin_deps.retention = retention_.get();
  admin_deps.counters = counters_.get();
  admin_deps.signer = signer_.get();
  admin_deps.checkpointer = checkpointer_.get();
  admin_deps.backuper = backuper_.get();
  admin_deps.limits = config_.limits;
  admin_deps.authorizer = authorizer_.get();
  admin_ = std::make_unique<AdminService>(admin_deps);
  compactor_ = std::make_unique<Compactor>(
      storage_.get(), clock_, retention_.get(), counters_.get(),
      Compactor::Options{config_.retention.compaction_interval_seconds * 1000000000ull, poll});
  return absl::OkStatus();
}

absl::Status Daemon::StartServer() {
  auto credentials = MakeServerCredentials(config_.tls);
  if (!credentials.ok()) return Fail(kExitRuntime, StartupFailed(credentials.status()));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second daemon on the same address
  // would start and the kernel would split connections between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(config_.listen, *credentials, &port_);
  if (!config_.local_listen.empty()) {
    builder.AddListeningPort(config_.local_listen, grpc::InsecureServerCredentials(),
                             &local_port_);
  }
  builder.SetMaxReceiveMessageSize(16 << 20);
  // Flow control: gRPC's BDP probing grows each stream's HTTP/2 receive
  // window to megabytes, so a client's messages would wait in the transport,
  // unread, whatever max_queued_events says. A fixed window keeps about one
  // unread message per stream there, and a paused stream pushes back on the
  // client (docs/ARCHITECTURE.md, "Flow control").
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, kStreamWindowBytes);
  builder.RegisterService(service_.get());
  builder.RegisterService(admin_.get());
  reflection_v1_ = std::make_unique<ReflectionV1Service>(std::vector<std::string>{
      v1::AuditLog::service_full_name(), v1::Admin::service_full_name(),
      "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
      grpc::reflection::v1::ServerReflection::service_full_name()});
  builder.RegisterService(reflection_v1_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0 || (!config_.local_listen.empty() && local_port_ == 0)) {
    // Ports are bound in order; the first one left unset is the one that failed.
    const std::string& failed = port_ == 0 ? config_.listen : config_.local_listen;
    spdlog::critical("event=startup_failed reason=\"cannot listen on {}: address in use "
                     "or not available\"", failed);
    return Fail(kExitRuntime,
                absl::UnavailableError("cannot listen on " + failed +
                                       ": address in use or not available"));
  }
  return absl::OkStatus();
}

// Witnesses: their own threads; appends and the checkpointer never wait
// for them (docs/WITNESS.md).
absl::Status Daemon::StartWitnessing() {
  if (config_.witnesses.empty()) return absl::OkStatus();
  WitnessSender::Options wo;
  wo.witnesses = config_.witnesses;
  wo.quorum = EffectiveWitnessQuorum(config_);
  wo.grace = std::chrono::seconds(config_.witness_grace_seconds);
  wo.interval = std::chrono::milliseconds(config_.checkpoint_interval_ms);
  witnessing_ = std::make_unique<WitnessSender>(
      storage_.get(),
      [sequencer = sequencer_.get()] {
        std::vector<std::pair<std::string, uint64_t>> out;
        for (const auto& [tenant, head] : sequencer->AllHeads()) {
          out.emplace_back(tenant, head.seq);
        }
        return out;
      },
      std::move(wo));
  if (auto s = witnessing_->Init(); !s.ok()) {
    return Fail(kExitRuntime, StartupFailed(s, "witnesses: "));
  }
  spdlog::info("event=witnessing witnesses={} quorum={}", config_.witnesses.size(),
               EffectiveWitnessQuorum(config_));
  return absl::OkStatus();
}

void Daemon::StartBackgroundTasks() {
  checkpointer_->Start();
  if (witnessing_) witnessing_->Start();
  compactor_->Start();
  admin_->StartExpiry(std::chrono::milliseconds(config_.testing_manual_clock ? 100 : 1000));
  backuper_->Start();
  AddCollectors(metrics_.get(), storage_.get(), checkpointer_.get(), clock_, counters_.get(),
                ingest_rules_.get(), backuper_.get());
  reloader_ = std::make_unique<ConfigReloader>(
      ConfigReloader::Deps{.config_path = options_.config_path,
                           .authorizer = authorizer_.get(),
                           .retention = retention_.get(),
                           .storage = storage_.get(),
                           .recorder = recorder_.get()},
      config_);
  reloader_->AddMetrics(metrics_.get());
  if (witnessing_) {
    metrics_->AddCollector([w = witnessing_.get()](std::string* out) { w->RenderMetrics(out); });
  }
}

absl::Status Daemon::StartMetricsEndpoint() {
  metrics_server_ = std::make_unique<MetricsServer>(metrics_.get());
  if (config_.metrics_listen.empty()) return absl::OkStatus();
  auto metrics_port = metrics_server_->Start(config_.metrics_listen);
  absl::Status s = metrics_port.status();
  if (s.ok() && !config_.port_file.empty()) {
    s = process::WritePortFile(config_.port_file + ".metrics", *metrics_port);
  }
  if (!s.ok()) return Fail(kExitRuntime, StartupFailed(s, "metrics: "));
  metrics_port_ = *metrics_port;
  spdlog::info("event=metrics_listening listen={} port={}", config_.metrics_listen,
               metrics_port_);
  return absl::OkStatus();
}

void Daemon::StartHealth() {
  health_ = std::make_unique<HealthMonitor>(
      server_->GetHealthCheckService(), storage_.get(), metrics_.get(),
      std::vector<std::string>{v1::AuditLog::service_full_name(),
                               v1::Admin::service_full_name()});
  if (witnessing_) {
    health_->AddCheck(kWitnessingHealthService, [w = witnessing_.get()](std::string* reason) {
      return w->Healthy(reason);
    });
  }
  health_->Start();
}

absl::Status Daemon::WritePortFiles() {
  if (!config_.port_file.empty() && local_port_ != 0) {
    if (auto s = process::WritePortFile(config_.port_file + ".local", local_port_); !s.ok()) {
      return Fail(kExitRuntime, StartupFailed(s));
    }
  }
  if (local_port_ != 0) {
    spdlog::info("event=local_listening listen={} port={}", config_.local_listen, local_port_);
  }
  if (!config_.port_file.empty()) {
    if (auto s = process::WritePortFile(config_.port_file, port_); !s.ok()) {
      return Fail(kExitRuntime, StartupFailed(s));
    }
  }
  return absl::OkStatus();
}

void Daemon::LogListening() const {
  spdlog::info("event=listening listen={} port={} data_dir={} tls={}", config_.listen,
               port_, config_.data_dir,
               !config_.tls.enabled()              ? "off"
               : config_.tls.client_ca_file.empty() ? "tls1.3"
                                                    : "tls1.3+client_certificates");
}

absl::Status Daemon::Fail(int exit_code, absl::Status status) {
  exit_code_ = exit_code;
  if (server_) server_->Shutdown();
  if (sequencer_) sequencer_->Stop();
  return status;
}

absl::Status Daemon::Reload() {
  std::lock_guard<std::mutex> l(mu_);
  if (!running_) return absl::FailedPreconditionError("the daemon is not running");
  return reloader_->Reload();  // logs and counts its outcome
}

void Daemon::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!running_) return;
    running_ = false;
  }
  StopServing();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
  }
  stopped_cv_.notify_all();
}

void Daemon::Wait() {
  std::unique_lock<std::mutex> l(mu_);
  stopped_cv_.wait(l, [this] { return stopped_; });
}

// The reverse of Start: health first (probes see NOT_SERVING while calls
// drain), the store last.
void Daemon::StopServing() {
  health_->Stop();
  admin_->StopExpiry();
  // Stops accepting calls and waits for in-flight ones; the sequencer keeps
  // committing until they are answered (or cancelled at the deadline).
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::seconds(config_.shutdown_grace_seconds));
  server_->Wait();
  metrics_server_->Stop();
  backuper_->Stop();
  compactor_->Stop();
  // A round while the sequencer still runs: a tenant never checkpointed
  // can take its key history (Checkpointer::Options::before_first) first.
  if (auto s = checkpointer_->RunOnce(); !s.ok()) {
    spdlog::error("event=checkpoint_failed status=\"{}\"", s.ToString());
  }
  sequencer_->Stop();
  checkpointer_->Stop();  // signs the final heads
  if (witnessing_) witnessing_->Stop();
  storage_.reset();
  spdlog::info("event=shutdown_complete");
}

}  // namespace indelible
