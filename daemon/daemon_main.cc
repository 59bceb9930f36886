#include "daemon/daemon_main.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/process.h"
#include "daemon/admin_service.h"
#include "daemon/backup.h"
#include "daemon/checkpointer.h"
#include "daemon/compactor.h"
#include "daemon/retention_policy.h"
#include "daemon/config.h"
#include "daemon/config_governance.h"
#include "daemon/config_reload.h"
#include "daemon/daemon_records.h"
#include "daemon/health.h"
#include "daemon/key_rotation.h"
#include "daemon/metrics.h"
#include "daemon/reflection_v1.h"
#include "daemon/service.h"
#include "daemon/signer_client.h"
#include "daemon/version.h"
#include "daemon/witnessing.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "httplib.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_file.h"

namespace indelible {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// A retention policy under which nothing expires in the life of the
// store: 100 years (received_at plus that still fits in a u64 of ns).
RetentionConfig KeepEverything() {
  RetentionConfig c;
  c.categories.clear();
  c.default_seconds = 36500 * kSecondsPerDay;
  return c;
}

// Registers the collectors read at scrape time.
void AddCollectors(Metrics* metrics, Storage* storage, Checkpointer* checkpointer,
                   Clock* clock, const RetentionCounters* counters,
                   const IngestRules* rules, const Backuper* backuper) {
  metrics->AddCollector([rules](std::string* out) {
    *out +=
        "# HELP indelible_ingest_redactions_total Values rewritten at ingest by "
        "rule action or secret kind.\n"
        "# TYPE indelible_ingest_redactions_total counter\n";
    for (size_t i = 0; i < IngestRules::kCounters; ++i) {
      absl::StrAppend(out, "indelible_ingest_redactions_total{kind=\"",
                      std::string(IngestRules::CounterName(i)), "\"} ", rules->Count(i), "\n");
    }
  });
  if (backuper->enabled()) {
    metrics->AddCollector([backuper](std::string* out) {
      absl::StrAppend(
          out,
          "# HELP indelible_backups_total Backups attempted since the daemon started.\n"
          "# TYPE indelible_backups_total counter\n"
          "indelible_backups_total{outcome=\"ok\"} ", backuper->succeeded(), "\n",
          "indelible_backups_total{outcome=\"failed\"} ", backuper->failed(), "\n",
          "# HELP indelible_backup_last_success_timestamp_seconds When the last backup "
          "since the daemon started was taken (daemon clock); 0 if none.\n"
          "# TYPE indelible_backup_last_success_timestamp_seconds gauge\n"
          "indelible_backup_last_success_timestamp_seconds ",
          backuper->last_success_ns() / 1000000000, "\n");
    });
  }
  metrics->AddCollector([storage](std::string* out) {
    struct Prop {
      const char* name;
      const char* property;
      const char* help;
    };
    static const Prop kProps[] = {
        {"indelible_rocksdb_live_sst_bytes", "rocksdb.live-sst-files-size",
         "Size of the live table files of a column family."},
        {"indelible_rocksdb_pending_compaction_bytes",
         "rocksdb.estimate-pending-compaction-bytes",
         "Estimated bytes compaction still has to rewrite in a column family."},
        {"indelible_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables",
         "Memory held by a column family's memtables (active, immutable, pinned)."},
        {"indelible_rocksdb_table_readers_bytes", "rocksdb.estimate-table-readers-mem",
         "Memory held by a column family's open table files outside the block cache."},
    };
    for (const Prop& p : kProps) {
      absl::StrAppend(out, "# HELP ", p.name, " ", p.help, "\n# TYPE ", p.name, " gauge\n");
      for (rocksdb::ColumnFamilyHandle* cf : storage->column_families()) {
        uint64_t v = 0;
        if (!storage->db()->GetIntProperty(cf, p.property, &v)) continue;
        absl::StrAppend(out, p.name, "{column_family=\"", EscapeLabelValue(cf->GetName()),
                        "\"} ", v, "\n");
      }
    }
    // One block cache serves every column family: report it once.
    uint64_t usage = 0, pinned = 0;
    if (storage->db()->GetIntProperty("rocksdb.block-cache-usage", &usage) &&
        storage->db()->GetIntProperty("rocksdb.block-cache-pinned-usage", &pinned)) {
      absl::StrAppend(
          out,
          "# HELP indelible_rocksdb_block_cache_bytes Memory held by the block cache "
          "(data, index and filter blocks); pinned = in use or pinned, not evictable.\n"
          "# TYPE indelible_rocksdb_block_cache_bytes gauge\n"
          "indelible_rocksdb_block_cache_bytes{state=\"all\"} ", usage, "\n",
          "indelible_rocksdb_block_cache_bytes{state=\"pinned\"} ", pinned, "\n");
    }
  });
  metrics->AddCollector([checkpointer, clock](std::string* out) {
    const uint64_t now = clock->NowNanos();
    *out +=
        "# HELP indelible_checkpoint_age_seconds Seconds since the tenant's newest "
        "checkpoint, on the daemon's clock.\n"
        "# TYPE indelible_checkpoint_age_seconds gauge\n";
    for (const auto& [tenant, ts] : checkpointer->LastCheckpointTimes()) {
      if (ts == 0) continue;
      const double age = now > ts ? static_cast<double>(now - ts) / 1e9 : 0.0;
      absl::StrAppend(out, "indelible_checkpoint_age_seconds{tenant=\"",
                      EscapeLabelValue(tenant), "\"} ", age, "\n");
    }
    absl::StrAppend(
        out,
        "# HELP indelible_checkpoint_sign_failures_total Checkpoints not signed since the "
        "daemon started: refused by the signer (not a consistent extension) or unsigned "
        "(signer unreachable or failing). The log names each tenant.\n"
        "# TYPE indelible_checkpoint_sign_failures_total counter\n"
        "indelible_checkpoint_sign_failures_total{reason=\"refused\"} ",
        checkpointer->refused(), "\n",
        "indelible_checkpoint_sign_failures_total{reason=\"unavailable\"} ",
        checkpointer->unavailable(), "\n");
  });
  metrics->AddCollector([counters](std::string* out) {
    absl::StrAppend(
        out,
        "# HELP indelible_retention_dropped_total Rows dropped by retention "
        "during compaction.\n"
        "# TYPE indelible_retention_dropped_total counter\n"
        "indelible_retention_dropped_total{column_family=\"bodies\"} ",
        counters->bodies_dropped.load(std::memory_order_relaxed), "\n",
        "indelible_retention_dropped_total{column_family=\"event_ids\"} ",
        counters->event_ids_dropped.load(std::memory_order_relaxed), "\n");
  });
}

// The Prometheus endpoint: GET /metrics on its own loopback port.
class MetricsServer {
 public:
  explicit MetricsServer(const Metrics* metrics) {
    // cpp-httplib sets SO_REUSEPORT by default, which lets a second daemon
    // bind the same address and take half the scrapes: SO_REUSEADDR only.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server_.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  ~MetricsServer() { Stop(); }
  // Binds host:port; returns the bound port or an error.
  absl::StatusOr<int> Start(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    const int want = std::atoi(listen.substr(colon + 1).c_str());
    const int port = want == 0 ? server_.bind_to_any_port(host) : 
                     (server_.bind_to_port(host, want) ? want : -1);
    if (port <= 0) {
      return absl::UnavailableError(
          "cannot listen on " + listen + ": address in use or not available");
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return port;
  }
  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

 private:
  httplib::Server server_;
  std::thread thread_;
};

int Run(const DaemonConfig& config, const std::string& config_path, bool accept_weaker_config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    spdlog::critical("event=startup_failed reason=\"cannot create data_dir {}: {}\"",
                     config.data_dir, ec.message());
    return kExitRuntime;
  }
  // The clock, and retention state that the compaction filters read.
  std::unique_ptr<ManualClock> test_clock;
  Clock* clock = SystemClock::Default();
#ifdef INDELIBLE_TESTING_HOOKS
  if (config.testing_manual_clock) {
    test_clock = std::make_unique<ManualClock>(clock->NowNanos());
    clock = test_clock.get();
    spdlog::warn("event=testing_manual_clock message=\"the clock moves only by "
                 "Admin.AdvanceTestClock: for tests, never for production\"");
  }
#endif
  // Until the configuration's retention is on record (below), compactions
  // that RocksDB starts on its own keep everything.
  RetentionState retention(KeepEverything());
  RetentionCounters counters;
  StorageOptions storage_options = config.storage;
  storage_options.bodies_filter =
      NewRetentionFilterFactory(RetentionTarget::kBodies, &retention, clock, &counters);
  storage_options.event_ids_filter =
      NewRetentionFilterFactory(RetentionTarget::kEventIds, &retention, clock, &counters);
  auto storage = Storage::Open(config.data_dir, storage_options);
  if (!storage.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", storage.status().ToString());
    return kExitRuntime;
  }
  // No private key in the data directory, ever (docs/SECURITY.md, "Key custody").
  const std::string key_path = !config.signer_socket.empty() ? std::string()
                               : config.signing_key_file.empty()
                                   ? DevelopmentKeyPath(config.data_dir)
                                   : config.signing_key_file;
  if (auto s = CheckNoKeyInDataDir(key_path, config.data_dir); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", std::string(s.message()));
    return kExitUsage;
  }
  std::unique_ptr<LogSigner> log_signer;
  if (!config.signer_socket.empty()) {
    auto client = SignerClient::Connect(config.signer_socket);
    if (!client.ok()) {
      spdlog::critical("event=startup_failed field=signer_socket reason=\"{}\"",
                       client.status().ToString());
      return kExitRuntime;
    }
    log_signer = *std::move(client);
    spdlog::info("event=signer_connected socket={}", config.signer_socket);
  } else {
    bool created = false;
    auto key = chain::LoadSigningKey(key_path, config.signing_key_file.empty(), &created);
    if (!key.ok()) {
      spdlog::critical("event=startup_failed reason=\"{}\"", key.status().ToString());
      return kExitRuntime;
    }
    if (created) {
      spdlog::warn("event=dev_signing_key_generated path={} message=\"generated a "
                   "development signing key; configure signer_socket or signing_key_file "
                   "for production (docs/OPERATIONS.md)\"", key_path);
    }
    log_signer = std::make_unique<KeyLogSigner>(
        chain::NoteSigner(config.key_name, *std::move(key)));
  }
  LogSigner& signer = *log_signer;
  spdlog::info("event=signing_key verifier_key={}",
               chain::NoteVerifierKeyString(signer.verifier_key()));

  // Key files are checked before anything listens; errors name the file.
  auto ingest_rules = IngestRules::Create(config.ingest_rules);
  if (!ingest_rules.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", ingest_rules.status().ToString());
    return kExitRuntime;
  }
  spdlog::info("event=ingest_rules tenant_sections={} default_detect_secrets={}",
               (*ingest_rules)->tenant_sections(),
               config.ingest_rules.defaults.detect_secrets.value_or(true));

  if (auto s = LoadRetentionState(storage->get(), &retention); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  Metrics metrics;
  Sequencer::Options sequencer_options = config.sequencer;
  sequencer_options.metrics = &metrics;
  Sequencer sequencer(storage->get(), clock, sequencer_options);
  if (auto s = sequencer.Start(); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  // A new key takes over only by a statement of the old one, on record in
  // every chain before the new key signs anything.
  if (auto s = ApplyKeyRotation({storage->get(), &sequencer, clock, config.limits,
                                 signer.verifier_key(), EffectiveLogName(config),
                                 config.key_rotation_statement_file});
      !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime;
  }
  Checkpointer checkpointer(storage->get(), &sequencer, clock, &signer,
                            {std::chrono::milliseconds(config.checkpoint_interval_ms),
                             EffectiveLogName(config)});
  if (auto s = checkpointer.Init(); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  // The configuration's security and retention settings are on record in
  // the chains they concern before any of them takes effect.
  DaemonRecorder recorder(&sequencer, storage->get(), clock, config.limits);
  if (auto s = CommitSettings(storage->get(), recorder, GovernedSettingsOf(config),
                              kConfigStartAction, accept_weaker_config);
      !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime;
  }
  // Each tenant's retention policy on record in its chain before it prunes.
  RetentionPolicyRecorder policies(&retention, storage->get(), &recorder);
  if (auto s = policies.Start(config.retention); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  Authorizer authorizer(config.auth);
  if (config.auth.enabled) {
    spdlog::info("event=auth_enabled tokens={} bindings={} two_person_rule={}",
                 config.auth.tokens.size(), config.auth.bindings.size(),
                 config.auth.two_person_rule);
  } else {
    spdlog::warn("event=auth_disabled message=\"open mode: every caller may do "
                 "everything; loopback development only (docs/SECURITY.md)\"");
  }
  auto credentials = MakeServerCredentials(config.tls);
  if (!credentials.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", credentials.status().ToString());
    return kExitRuntime;
  }
  ServiceOptions service_options;
  service_options.authorizer = &authorizer;
  service_options.limits = config.limits;
  service_options.max_read_records = config.max_read_records;
  service_options.ingest_rules = ingest_rules->get();
  service_options.proof_counter = [&metrics](const absl::Status& s) {
    metrics.CountProof(s.ok());
  };
  AuditLogService service(&sequencer, storage->get(), clock, &signer,
                          service_options);
  Backuper backuper({.storage = storage->get(),
                     .checkpointer = &checkpointer,
                     .clock = clock,
                     .signer = &signer,
                     .data_dir = config.data_dir,
                     .record_scheduled =
                         [&recorder, &authorizer](const std::string& name) {
                           if (!authorizer.record_reads()) return absl::OkStatus();
                           return RecordBackup(
                               recorder, Principal{"indelibled", "daemon", "", "indelibled"},
                               "daemon", "scheduled backup (backup.interval)", name);
                         }},
                    config.backup,
                    std::chrono::milliseconds(config.testing_manual_clock ? 100 : 1000));
  AdminDeps admin_deps;
  admin_deps.sequencer = &sequencer;
  admin_deps.storage = storage->get();
  admin_deps.clock = clock;
  admin_deps.test_clock = test_clock.get();
  admin_deps.retention = &retention;
  admin_deps.counters = &counters;
  admin_deps.signer = &signer;
  admin_deps.checkpointer = &checkpointer;
  admin_deps.backuper = &backuper;
  admin_deps.limits = config.limits;
  admin_deps.authorizer = &authorizer;
  AdminService admin(admin_deps);
  Compactor compactor(storage->get(), clock, &retention, &counters,
                      {config.retention.compaction_interval_seconds * 1000000000ull,
                       std::chrono::milliseconds(config.testing_manual_clock ? 100 : 1000)});

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second daemon on the same address
  // would start and the kernel would split connections between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(config.listen, *credentials, &port);
  int local_port = 0;
  if (!config.local_listen.empty()) {
    builder.AddListeningPort(config.local_listen, grpc::InsecureServerCredentials(),
                             &local_port);
  }
  builder.SetMaxReceiveMessageSize(16 << 20);
  builder.RegisterService(&service);
  builder.RegisterService(&admin);
  ReflectionV1Service reflection_v1(
      {v1::AuditLog::service_full_name(), v1::Admin::service_full_name(),
       "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
       grpc::reflection::v1::ServerReflection::service_full_name()});
  builder.RegisterService(&reflection_v1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0 || (!config.local_listen.empty() && local_port == 0)) {
    // Ports are bound in order; the first one left unset is the one that failed.
    const std::string& failed = port == 0 ? config.listen : config.local_listen;
    spdlog::critical("event=startup_failed reason=\"cannot listen on {}: address in use "
                     "or not available\"", failed);
    sequencer.Stop();
    return kExitRuntime;
  }
  // Witnesses: their own threads; appends and the checkpointer never wait
  // for them (docs/WITNESS.md).
  std::unique_ptr<WitnessSender> witnessing;
  if (!config.witnesses.empty()) {
    WitnessSender::Options wo;
    wo.witnesses = config.witnesses;
    wo.quorum = EffectiveWitnessQuorum(config);
    wo.grace = std::chrono::seconds(config.witness_grace_seconds);
    wo.interval = std::chrono::milliseconds(config.checkpoint_interval_ms);
    witnessing = std::make_unique<WitnessSender>(
        storage->get(),
        [&sequencer] {
          std::vector<std::pair<std::string, uint64_t>> out;
          for (const auto& [tenant, head] : sequencer.AllHeads()) {
            out.emplace_back(tenant, head.seq);
          }
          return out;
        },
        std::move(wo));
    if (auto s = witnessing->Init(); !s.ok()) {
      spdlog::critical("event=startup_failed reason=\"witnesses: {}\"", s.ToString());
      server->Shutdown();
      sequencer.Stop();
      return kExitRuntime;
    }
    spdlog::info("event=witnessing witnesses={} quorum={}", config.witnesses.size(),
                 EffectiveWitnessQuorum(config));
  }
  checkpointer.Start();
  if (witnessing) witnessing->Start();
  compactor.Start();
  admin.StartExpiry(std::chrono::milliseconds(config.testing_manual_clock ? 100 : 1000));
  backuper.Start();
  AddCollectors(&metrics, storage->get(), &checkpointer, clock, &counters,
                ingest_rules->get(), &backuper);
  ConfigReloader reloader({.config_path = config_path,
                           .authorizer = &authorizer,
                           .retention = &retention,
                           .storage = storage->get(),
                           .recorder = &recorder},
                          config);
  reloader.AddMetrics(&metrics);
  if (witnessing) {
    metrics.AddCollector([w = witnessing.get()](std::string* out) { w->RenderMetrics(out); });
  }
  MetricsServer metrics_server(&metrics);
  if (!config.metrics_listen.empty()) {
    auto metrics_port = metrics_server.Start(config.metrics_listen);
    absl::Status s = metrics_port.status();
    if (s.ok() && !config.port_file.empty()) {
      s = process::WritePortFile(config.port_file + ".metrics", *metrics_port);
    }
    if (!s.ok()) {
      spdlog::critical("event=startup_failed reason=\"metrics: {}\"", s.ToString());
      server->Shutdown();
      sequencer.Stop();
      return kExitRuntime;
    }
    spdlog::info("event=metrics_listening listen={} port={}", config.metrics_listen,
                 *metrics_port);
  }
  HealthMonitor health(server->GetHealthCheckService(), storage->get(), &metrics,
                       {v1::AuditLog::service_full_name(), v1::Admin::service_full_name()});
  if (witnessing) {
    health.AddCheck(kWitnessingHealthService,
                    [w = witnessing.get()](std::string* reason) { return w->Healthy(reason); });
  }
  health.Start();
  if (!config.port_file.empty() && local_port != 0) {
    if (auto s = process::WritePortFile(config.port_file + ".local", local_port); !s.ok()) {
      spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
      server->Shutdown();
      sequencer.Stop();
      return kExitRuntime;
    }
  }
  if (local_port != 0) {
    spdlog::info("event=local_listening listen={} port={}", config.local_listen, local_port);
  }
  if (!config.port_file.empty()) {
    if (auto s = process::WritePortFile(config.port_file, port); !s.ok()) {
      spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
      server->Shutdown();
      sequencer.Stop();
      return kExitRuntime;
    }
  }
  spdlog::info("event=listening listen={} port={} data_dir={} tls={}", config.listen,
               port, config.data_dir,
               !config.tls.enabled()            ? "off"
               : config.tls.client_ca_file.empty() ? "tls1.3"
                                                 : "tls1.3+client_certificates");

  int sig = 0;
  while ((sig = process::WaitForSignal()) == SIGHUP) {
    spdlog::info("event=reload_started signal=SIGHUP");
    (void)reloader.Reload();  // logs and counts its outcome
  }
  spdlog::info("event=shutdown_started signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  health.Stop();
  admin.StopExpiry();
  // Stops accepting calls and waits for in-flight ones; the sequencer keeps
  // committing until they are answered (or cancelled at the deadline).
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(config.shutdown_grace_seconds));
  server->Wait();
  metrics_server.Stop();
  backuper.Stop();
  compactor.Stop();
  sequencer.Stop();
  checkpointer.Stop();  // signs the final heads
  if (witnessing) witnessing->Stop();
  storage->reset();
  spdlog::info("event=shutdown_complete");
  return kExitOk;
}

}  // namespace

int DaemonMain(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, which leaves absl::Mutex's
  // deadlock detection on: a lock-order graph updated on every lock that
  // gRPC takes (about 4% of the daemon's CPU on a unary load). It is a
  // debugging aid; production code turns it off (docs/PERFORMANCE.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // glibc gives each thread that allocates concurrently an arena of its own,
  // up to 8 per core, and memory freed in one arena is not reused by the
  // others: with gRPC's threads that was about 85 MiB of a 340 MiB peak
  // under streaming load. One arena per core (at least 2) keeps the peak
  // near 250 MiB at the same throughput (docs/PERFORMANCE.md, "Where the time goes").
  // MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  }
  // Memtables are built of 1 MiB blocks. glibc serves blocks that large with
  // mmap at first, but each one freed raises its mmap threshold above that
  // size, so once the first memtable is flushed the next ones come from the
  // heap, and memory freed with them stays with the process, scattered
  // between live blocks: 80-100 MiB above memtables plus block cache after
  // two minutes of load, growing in steps over a soak. A fixed threshold
  // keeps them mmapped, so a flushed memtable goes back to the system
  // (docs/PERFORMANCE.md, "Where the time goes"). MALLOC_MMAP_THRESHOLD_ still wins.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
  }
  CLI::App app{"indelibled: the Indelible audit-log daemon"};
  std::string config_path, listen, data_dir, log_level, port_file;
  app.add_option("-c,--config", config_path, "YAML config file (docs/CONFIG.md)");
  bool accept_weaker_config = false;
  app.add_flag("--accept-weaker-config", accept_weaker_config,
               "apply (and record as accepted) a configuration that weakens the two-person "
               "rule, read recording or retention (docs/SECURITY.md)");
  app.add_option("--listen", listen, "host:port to listen on (default 127.0.0.1:7410)");
  app.add_option("--data-dir", data_dir, "data directory (default ./data)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  app.add_option("--port-file", port_file, "write the bound port to this file");
  std::string metrics_listen;
  std::string local_listen;
  app.add_option("--local-listen", local_listen,
                 "loopback host:port of a plaintext listener for local probes (default off)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port of the Prometheus /metrics endpoint (default off)");
  bool testing_manual_clock = false;
#ifdef INDELIBLE_TESTING_HOOKS
  // Only in indelibled-testing: indelibled has no manual clock at all.
  app.add_flag("--testing-manual-clock", testing_manual_clock,
               "TESTS ONLY: a clock that moves only by Admin.AdvanceTestClock");
#endif
  app.set_version_flag("--version", absl::StrCat("indelibled ", kIndelibleVersion));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  DaemonConfig config;
  if (!config_path.empty()) {
    auto c = LoadConfigFile(config_path);
    if (!c.ok()) {
      std::fprintf(stderr, "indelibled: %s\n", std::string(c.status().message()).c_str());
      return kExitUsage;
    }
    config = *c;
  }
  if (!listen.empty()) config.listen = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!log_level.empty()) config.log_level = log_level;
  if (!port_file.empty()) config.port_file = port_file;
  if (!metrics_listen.empty()) config.metrics_listen = metrics_listen;
  if (!local_listen.empty()) config.local_listen = local_listen;
  if (testing_manual_clock) config.testing_manual_clock = true;
  if (auto s = ValidateConfig(config); !s.ok()) {
    std::fprintf(stderr, "indelibled: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  if (config.tls.enabled()) {
    // Before anything initialises OpenSSL (the signing key load does).
    if (auto s = ImposeTls13Minimum(); !s.ok()) {
      std::fprintf(stderr, "indelibled: %s\n", std::string(s.message()).c_str());
      return kExitRuntime;
    }
  }
  process::SetUpLogging("indelibled", config.log_level);
  if (auto s = process::InstallSignalHandlers({SIGTERM, SIGINT, SIGHUP}); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  return Run(config, config_path, accept_weaker_config);
}

}  // namespace indelible
