#include "daemon/daemon_main.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "daemon/admin_service.h"
#include "daemon/backup.h"
#include "daemon/checkpointer.h"
#include "daemon/compactor.h"
#include "daemon/config.h"
#include "daemon/health.h"
#include "daemon/metrics.h"
#include "daemon/reflection_v1.h"
#include "daemon/service.h"
#include "daemon/version.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "httplib.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_file.h"

namespace indelible {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("indelibled");
  // logfmt: one event per line, key=value, UTC timestamps.
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// Self-pipe: the handler may run on any thread (gRPC and RocksDB start
// their own), so it only writes the signal number to a pipe that the main
// thread reads; shutdown then runs in ordinary code.
int g_signal_pipe[2] = {-1, -1};

void OnTerminationSignal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &b, 1);
}

absl::Status InstallSignalHandlers() {
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError("cannot create signal pipe");
  }
  struct sigaction sa = {};
  sa.sa_handler = OnTerminationSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGTERM, &sa, nullptr) != 0 ||
      sigaction(SIGINT, &sa, nullptr) != 0 ||
      sigaction(SIGHUP, &sa, nullptr) != 0) {
    return absl::InternalError("cannot install signal handlers");
  }
  return absl::OkStatus();
}

int WaitForSignal() {
  unsigned char b = 0;
  while (read(g_signal_pipe[0], &b, 1) != 1) {
    if (errno != EINTR) std::abort();
  }
  return b;
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return absl::InternalError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError("cannot rename " + tmp + ": " + ec.message());
  return absl::OkStatus();
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

// What a SIGHUP may change: log level, auth tokens, bindings and read rules,
// retention policies. Everything else needs a restart and is left alone
// with a warning. Each change is logged; auth and retention changes are
// recorded in the chain of every tenant.
struct Reloadable {
  const std::string* config_path;
  Authorizer* authorizer;
  RetentionState* retention;
  AdminService* admin;
  Sequencer* sequencer;
};

std::string FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return chain::ToHex(chain::Sha256(ss.str()));
}

bool SameAuth(const AuthConfig& a, const AuthConfig& b) {
  auto tokens = [](const AuthConfig& c) {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& t : c.tokens) v.emplace_back(t.principal, t.sha256_hex);
    return v;
  };
  auto bindings = [](const AuthConfig& c) {
    std::vector<std::tuple<std::string, std::vector<std::string>, int>> v;
    for (const auto& x : c.bindings) v.emplace_back(x.principal, x.tenants, x.roles);
    return v;
  };
  return tokens(a) == tokens(b) && bindings(a) == bindings(b) &&
         a.require_read_reason == b.require_read_reason &&
         a.record_reads == b.record_reads && a.two_person_rule == b.two_person_rule &&
         a.approval_window_seconds == b.approval_window_seconds;
}

bool SameRetention(const RetentionConfig& a, const RetentionConfig& b) {
  return a.default_seconds == b.default_seconds && a.min_seconds == b.min_seconds &&
         a.max_seconds == b.max_seconds && a.categories == b.categories &&
         a.tenants == b.tenants &&
         a.compaction_interval_seconds == b.compaction_interval_seconds;
}

void Reload(const Reloadable& r, DaemonConfig* current) {
  if (r.config_path->empty()) {
    spdlog::warn("event=reload_skipped reason=\"started without --config\"");
    return;
  }
  auto next = LoadConfigFile(*r.config_path);
  absl::Status s = next.status();
  if (s.ok()) {
    // Flags given at start keep overriding the file.
    next->listen = current->listen;
    next->data_dir = current->data_dir;
    next->port_file = current->port_file;
    next->metrics_listen = current->metrics_listen;
    next->local_listen = current->local_listen;
    next->testing_manual_clock = current->testing_manual_clock;
    s = ValidateConfig(*next);
  }
  if (s.ok() && next->auth.enabled != current->auth.enabled) {
    s = absl::FailedPreconditionError("auth.enabled cannot change without a restart");
  }
  if (!s.ok()) {
    spdlog::error("event=reload_failed status=\"{}\" message=\"kept the running configuration\"",
                  s.ToString());
    return;
  }
  std::vector<std::string> changed;
  if (next->log_level != current->log_level) {
    spdlog::default_logger()->set_level(spdlog::level::from_str(next->log_level));
    changed.push_back("log_level");
  }
  bool record = false;
  if (!SameAuth(next->auth, current->auth)) {
    if (auto rs = r.authorizer->Reload(next->auth); !rs.ok()) {
      spdlog::error("event=reload_failed status=\"{}\"", rs.ToString());
      return;
    }
    changed.push_back("auth");
    record = true;
  }
  if (!SameRetention(next->retention, current->retention)) {
    r.retention->SetConfig(next->retention);
    changed.push_back("retention");
    record = true;
  }
  if (next->tls.cert_file != current->tls.cert_file ||
      next->tls.key_file != current->tls.key_file ||
      next->tls.client_ca_file != current->tls.client_ca_file ||
      next->signing_key_file != current->signing_key_file ||
      next->key_name != current->key_name) {
    spdlog::warn("event=reload_needs_restart keys=\"tls, signing_key_file or key_name\" "
                 "message=\"these take effect at the next start\"");
  }
  const std::string digest = FileSha256(*r.config_path);
  const std::string what = changed.empty() ? "nothing" : absl::StrJoin(changed, ",");
  spdlog::info("event=config_reloaded changed={} config_sha256={}", what, digest);
  if (!record) {
    *current = *next;
    return;
  }
  for (const auto& [tenant, head] : r.sequencer->AllHeads()) {
    auto receipt = r.admin->RecordOperatorChange(
        tenant, "config.reload", "configuration reloaded on SIGHUP",
        {{"changed", what}, {"config_sha256", digest}});
    if (!receipt.ok()) {
      spdlog::error("event=reload_record_failed tenant={} status=\"{}\"", tenant,
                    receipt.status().ToString());
    }
  }
  *current = *next;
}

int Run(const DaemonConfig& config, const std::string& config_path) {
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
  RetentionState retention(config.retention);
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
  const std::string key_path = config.signing_key_file.empty()
                                   ? config.data_dir + "/signing-key.pem"
                                   : config.signing_key_file;
  bool created = false;
  auto key = chain::LoadSigningKey(key_path, config.signing_key_file.empty(), &created);
  if (!key.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", key.status().ToString());
    return kExitRuntime;
  }
  if (created) {
    spdlog::warn("event=dev_signing_key_generated path={} message=\"generated a "
                 "development signing key; configure signing_key_file for "
                 "production (docs/OPERATIONS.md)\"", key_path);
  }
  const chain::NoteSigner signer(config.key_name, *std::move(key));
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
  Checkpointer checkpointer(storage->get(), &sequencer, clock, &signer,
                            {std::chrono::milliseconds(config.checkpoint_interval_ms),
                             EffectiveLogName(config)});
  if (auto s = checkpointer.Init(); !s.ok()) {
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
                     .signing_key_path = key_path},
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
  checkpointer.Start();
  compactor.Start();
  admin.StartExpiry(std::chrono::milliseconds(config.testing_manual_clock ? 100 : 1000));
  backuper.Start();
  AddCollectors(&metrics, storage->get(), &checkpointer, clock, &counters,
                ingest_rules->get(), &backuper);
  MetricsServer metrics_server(&metrics);
  if (!config.metrics_listen.empty()) {
    auto metrics_port = metrics_server.Start(config.metrics_listen);
    absl::Status s = metrics_port.status();
    if (s.ok() && !config.port_file.empty()) {
      s = WritePortFile(config.port_file + ".metrics", *metrics_port);
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
  health.Start();
  if (!config.port_file.empty() && local_port != 0) {
    if (auto s = WritePortFile(config.port_file + ".local", local_port); !s.ok()) {
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
    if (auto s = WritePortFile(config.port_file, port); !s.ok()) {
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

  DaemonConfig current = config;
  const Reloadable reloadable{&config_path, &authorizer, &retention, &admin,
                              &sequencer};
  int sig = 0;
  while ((sig = WaitForSignal()) == SIGHUP) {
    spdlog::info("event=reload_started signal=SIGHUP");
    Reload(reloadable, &current);
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
  // near 250 MiB at the same throughput (docs/PERFORMANCE.md, section 8).
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
  // (docs/PERFORMANCE.md, section 8). MALLOC_MMAP_THRESHOLD_ still wins.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
  }
  CLI::App app{"indelibled: the Indelible audit-log daemon"};
  std::string config_path, listen, data_dir, log_level, port_file;
  app.add_option("-c,--config", config_path, "YAML config file (docs/CONFIG.md)");
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
  SetUpLogging(config.log_level);
  if (auto s = InstallSignalHandlers(); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  return Run(config, config_path);
}

}  // namespace indelible
