#include "daemon/health.h"

#include <chrono>

#include "spdlog/spdlog.h"

namespace indelible {

HealthMonitor::HealthMonitor(grpc::HealthCheckServiceInterface* health,
                             Storage* storage, const Metrics* metrics,
                             std::vector<std::string> services)
    : health_(health), storage_(storage), metrics_(metrics), services_(std::move(services)) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return;
  started_ = true;
  // A name is known to the health service once it has a status; from then on
  // SetServingStatus(bool) moves it with "".
  for (const std::string& name : services_) health_->SetServingStatus(name, false);
  health_->SetServingStatus(false);
  storage_->db()->GetIntProperty("rocksdb.background-errors", &background_errors_);
  Evaluate();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    while (!stopping_) {
      cv_.wait_for(l, std::chrono::seconds(1));
      if (!stopping_) Evaluate();
    }
  });
}

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    serving_ = false;
    health_->SetServingStatus(false);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
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
  if (serving != serving_) {
    serving_ = serving;
    health_->SetServingStatus(serving);
    if (serving) {
      spdlog::info("event=health status=SERVING");
    } else {
      spdlog::warn("event=health status=NOT_SERVING reason={}",
                   exhausted ? "disk_full" : "rocksdb_background_error");
    }
  }
}

}  // namespace indelible
