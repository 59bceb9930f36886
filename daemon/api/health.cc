#include "daemon/api/health.h"

#include <chrono>

#include "spdlog/spdlog.h"

namespace indelible {

HealthMonitor::HealthMonitor(grpc::HealthCheckServiceInterface* health,
                             Storage* storage, const Metrics* metrics,
                             std::vector<std::string> services)
    : health_(health), storage_(storage), metrics_(metrics), services_(std::move(services)),
      task_({.name = "health", .interval = std::chrono::seconds(1)}, [this] {
        std::lock_guard<std::mutex> l(mu_);
        if (!stopping_) Evaluate();
      }) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::AddCheck(std::string service, std::function<bool(std::string*)> ok) {
  std::lock_guard<std::mutex> l(mu_);
  checks_.push_back({std::move(service), std::move(ok), false});
}

void HealthMonitor::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return;
  started_ = true;
  // A name is known to the health service once it has a status; from then on
  // SetServingStatus(bool) moves it with "".
  for (const std::string& name : services_) health_->SetServingStatus(name, false);
  for (const Check& c : checks_) health_->SetServingStatus(c.service, false);
  health_->SetServingStatus(false);
  storage_->db()->GetIntProperty("rocksdb.background-errors", &background_errors_);
  Evaluate();
  task_.Start();
}

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    serving_ = false;
    health_->SetServingStatus(false);
  }
  task_.Stop();
}

void HealthMonitor::Evaluate() {
  const uint64_t ok = metrics_->OkAppends();
  uint64_t errors = 0;
  if (storage_->db()->GetIntProperty("rocksdb.background-errors", &errors) &&
      errors > background_errors_) {
    background_errors_ = errors;
    background_error_ = true;
    ok_appends_at_error_ = ok;
  } else if (background_error_ && ok > ok_appends_at_error_) {
    background_error_ = false;
  }
  const bool exhausted = metrics_->LastCommitExhausted();
  const bool serving = !exhausted && !background_error_;
  const bool changed = serving != serving_;
  if (changed) {
    serving_ = serving;
    health_->SetServingStatus(serving);
    if (serving) {
      spdlog::info("event=health status=SERVING");
    } else {
      spdlog::warn("event=health status=NOT_SERVING reason={}",
                   exhausted ? "disk_full" : "rocksdb_background_error");
    }
  }
  for (Check& c : checks_) {
    std::string reason;
    const bool ok = c.ok(&reason);
    const bool check_serving = serving && ok;
    // SetServingStatus(bool) above moved every name: set the checks again.
    if (check_serving != c.serving || changed) {
      health_->SetServingStatus(c.service, check_serving);
    }
    if (check_serving != c.serving) {
      c.serving = check_serving;
      if (check_serving) {
        spdlog::info("event=health service={} status=SERVING", c.service);
      } else {
        spdlog::warn("event=health service={} status=NOT_SERVING reason=\"{}\"", c.service,
                     ok ? "daemon_not_serving" : reason);
      }
    }
  }
}

}  // namespace indelible
