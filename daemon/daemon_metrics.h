// The daemon's scrape-time metrics collectors and its Prometheus endpoint
// (GET /metrics on its own port), as Daemon wires them up.
#ifndef INDELIBLE_DAEMON_DAEMON_METRICS_H_
#define INDELIBLE_DAEMON_DAEMON_METRICS_H_

#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "daemon/ops/backup.h"
#include "daemon/trust/checkpointer.h"
#include "daemon/clock.h"
#include "daemon/ops/metrics.h"
#include "daemon/security/redaction.h"
#include "daemon/ops/retention_filter.h"
#include "daemon/write/storage.h"
#include "httplib.h"

namespace indelible {

// Registers the collectors read at scrape time. Every pointer must outlive
// `metrics`' last Render.
void AddCollectors(Metrics* metrics, Storage* storage, Checkpointer* checkpointer,
                   Clock* clock, const RetentionCounters* counters,
                   const IngestRules* rules, const Backuper* backuper);

// The Prometheus endpoint: GET /metrics on its own loopback port.
class MetricsServer {
 public:
  explicit MetricsServer(const Metrics* metrics);
  ~MetricsServer() { Stop(); }
  // Binds host:port; returns the bound port or an error.
  absl::StatusOr<int> Start(const std::string& listen);
  void Stop();

 private:
  httplib::Server server_;
  std::thread thread_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_DAEMON_METRICS_H_
