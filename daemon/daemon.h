// Daemon: indelibled as an object. Start brings up storage, signer, the
// sequencer, the background tasks and the gRPC and metrics listeners in a
// fixed order; Reload re-reads the config file (SIGHUP); Stop drains calls
// and shuts down in the reverse order. daemon_main.cc parses flags and
// signals and drives one Daemon; tests may run one in their own process.
//
//   Daemon d;
//   if (!d.Start({.config = config}).ok()) return d.exit_code();
//   ... d.port() ...
//   d.Stop();
//
// Thread-safe: Reload, Stop and Wait may be called from any thread once
// Start has returned; Start is called once.
#ifndef INDELIBLE_DAEMON_DAEMON_H_
#define INDELIBLE_DAEMON_DAEMON_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "daemon/clock.h"
#include "daemon/governance/config.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace indelible {

class AdminService;
class AuditLogService;
class Authorizer;
class Backuper;
class Checkpointer;
class Compactor;
class ConfigReloader;
class DaemonRecorder;
class HealthMonitor;
class RetentionPolicyRecorder;
class IngestRules;
class LogSigner;
class Metrics;
class MetricsServer;
class ReflectionV1Service;
class RetentionState;
class Sequencer;
class Storage;
class WitnessSender;
struct RetentionCounters;

// Exit codes of indelibled (docs/OPERATIONS.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;  // cannot run: data dir locked or damaged, port in use
inline constexpr int kExitUsage = 2;    // usage or configuration error

struct DaemonOptions {
  DaemonConfig config;  // validated (ValidateConfig)
  std::string config_path;  // re-read by Reload; empty = no file
  bool accept_weaker_config = false;
};

class Daemon {
 public:
  Daemon();
  ~Daemon();  // Stop()
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Brings the daemon up and returns once it serves (port files written,
  // "event=listening" logged). On failure logs event=startup_failed, undoes
  // what was started and returns the error; exit_code() then says how
  // indelibled exits.
  absl::Status Start(DaemonOptions options);
  // Re-reads the config file; logs and counts its outcome.
  absl::Status Reload();
  // Drains in-flight calls (up to shutdown_grace_seconds), stops the
  // background tasks, signs the final heads and closes the store (releasing
  // the data directory's lock). Idempotent; a no-op unless started.
  void Stop();
  // Blocks until Stop has completed (on any thread).
  void Wait();

  // The bound ports (0 when not listening). REQUIRES: Start succeeded.
  int port() const { return port_; }
  int local_port() const { return local_port_; }
  int metrics_port() const { return metrics_port_; }
  // kExitOk, or the exit code for the error Start returned.
  int exit_code() const { return exit_code_; }

  // For tests; valid between Start and Stop.
  Storage* storage() const { return storage_.get(); }
  Sequencer* sequencer() const { return sequencer_.get(); }
  Metrics* metrics() const { return metrics_.get(); }
  Clock* clock() const { return clock_; }

 private:
  // Start-up, in order; each logs its own failure and sets exit_code_.
  absl::Status OpenStore();
  absl::Status LoadSigner();
  absl::Status LoadIngestRules();
  absl::Status StartSequencer();
  absl::Status PutSettingsOnRecord();
  absl::Status BuildServices();
  absl::Status StartServer();
  absl::Status StartWitnessing();
  void StartBackgroundTasks();
  absl::Status StartMetricsEndpoint();
  void StartHealth();
  absl::Status WritePortFiles();
  void LogListening() const;
  // Ends a failed Start: the server and the sequencer stop; the rest is
  // released by the destructor in reverse order of construction.
  absl::Status Fail(int exit_code, absl::Status status);
  void StopServing();

  DaemonOptions options_;
  const DaemonConfig& config_ = options_.config;
  int exit_code_ = kExitOk;
  int port_ = 0;
  int local_port_ = 0;
  int metrics_port_ = 0;

  // Declared in start-up order, so members are released in reverse.
  std::unique_ptr<ManualClock> test_clock_;
  Clock* clock_ = SystemClock::Default();
  std::unique_ptr<RetentionState> retention_;
  std::unique_ptr<RetentionCounters> counters_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<LogSigner> signer_;
  std::unique_ptr<IngestRules> ingest_rules_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<DaemonRecorder> recorder_;
  std::unique_ptr<RetentionPolicyRecorder> retention_policies_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<AuditLogService> service_;
  std::unique_ptr<Backuper> backuper_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<Compactor> compactor_;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<WitnessSender> witnessing_;
  std::unique_ptr<ConfigReloader> reloader_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<HealthMonitor> health_;

  std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool running_ = false;  // guarded by mu_
  bool stopped_ = false;  // guarded by mu_
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_DAEMON_H_
