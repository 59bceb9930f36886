#include "daemon/health.h"

#include <chrono>

#include "spdlog/spdlog.h"

namespace indelible {

HealthMonitor::HealthMonitor(grpc::HealthCheckServiceInterface* health,
                             Storage* storage, const Metrics* metrics)
    : health_(health), storage_(storage), metrics_(metrics) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return;
  started_ = true;
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
