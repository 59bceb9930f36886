// HealthMonitor: drives the standard gRPC health service from real state,
// for the overall status ("") and each service name given, all alike.
// NOT_SERVING until Start() (startup and recovery run before it); while the
// last answered append failed with RESOURCE_EXHAUSTED (disk full), until an
// append succeeds again; after RocksDB counts a new background error, until
// an append succeeds again; and from Stop() on. SERVING otherwise. Polls once
// a second. Extra checks (AddCheck) give a service name of their own a status
// that is SERVING only while the overall status is and the check passes,
// without changing the overall status (e.g. "indelible.v1.Witnessing").
#ifndef INDELIBLE_DAEMON_API_HEALTH_H_
#define INDELIBLE_DAEMON_API_HEALTH_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/ops/metrics.h"
#include "daemon/periodic_task.h"
#include "daemon/write/storage.h"
#include "grpcpp/health_check_service_interface.h"

namespace indelible {

class HealthMonitor {
 public:
  // `services`: full service names answered with the overall status
  // (e.g. "indelible.v1.AuditLog"); others stay NOT_FOUND.
  // REQUIRES: all pointers outlive the monitor.
  HealthMonitor(grpc::HealthCheckServiceInterface* health, Storage* storage,
                const Metrics* metrics, std::vector<std::string> services);
  ~HealthMonitor();  // Calls Stop().

  // `ok` returns whether the check passes and, if not, why (for the log).
  // REQUIRES: called before Start().
  void AddCheck(std::string service, std::function<bool(std::string* reason)> ok);

  // Evaluates now, then every second on a thread.
  void Start();
  // Stops polling and reports NOT_SERVING. Idempotent.
  void Stop();

 private:
  void Evaluate();  // REQUIRES: mu_ held

  grpc::HealthCheckServiceInterface* const health_;
  Storage* const storage_;
  const Metrics* const metrics_;
  const std::vector<std::string> services_;
  struct Check {
    std::string service;
    std::function<bool(std::string*)> ok;
    bool serving = false;
  };
  std::vector<Check> checks_;  // guarded by mu_ once started

  std::mutex mu_;
  bool stopping_ = false;                // guarded by mu_
  bool serving_ = false;                 // guarded by mu_
  bool started_ = false;                 // guarded by mu_
  uint64_t background_errors_ = 0;       // guarded by mu_
  bool background_error_ = false;        // guarded by mu_
  uint64_t ok_appends_at_error_ = 0;     // guarded by mu_
  PeriodicTask task_;  // Evaluate every second
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_HEALTH_H_
