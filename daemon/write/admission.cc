#include "daemon/write/admission.h"

#include <algorithm>

#include "daemon/ops/metrics.h"

namespace indelible {

Admission::Admission(size_t max_events, Metrics* metrics)
    : max_(std::max<size_t>(max_events, 1)), metrics_(metrics) {}

bool Admission::TryTake(size_t n) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (held_ == 0 || held_ + n <= max_) {
      held_ += n;
      Publish();
      return true;
    }
  }
  if (metrics_ != nullptr) metrics_->CountBackpressure(Metrics::Backpressure::kRefused);
  return false;
}

void Admission::Take(size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  held_ += n;
  Publish();
}

void Admission::Give(size_t n) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    held_ -= std::min(n, held_);
    Publish();
    if (held_ < max_) wake.swap(waiting_);
  }
  for (auto& w : wake) w();
}

bool Admission::RoomOrWait(std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (held_ < max_) return true;
    waiting_.push_back(std::move(wake));
  }
  if (metrics_ != nullptr) metrics_->CountBackpressure(Metrics::Backpressure::kPaused);
  return false;
}

uint64_t Admission::RetryAfterMs() const {
  const uint64_t ms = (cycle_ns_.load(std::memory_order_relaxed) + 999999) / 1000000;
  return std::clamp<uint64_t>(ms, 1, 1000);
}

size_t Admission::held() const {
  std::lock_guard<std::mutex> l(mu_);
  return held_;
}

void Admission::Publish() {
  if (metrics_ != nullptr) metrics_->SetHeldEvents(static_cast<int64_t>(held_));
}

}  // namespace indelible
