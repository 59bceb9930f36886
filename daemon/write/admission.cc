#include "daemon/write/admission.h"

#include <algorithm>
#include <iterator>

#include "daemon/ops/metrics.h"

namespace indelible {

Admission::Admission(size_t max_events, Clock* clock, Metrics* metrics)
    : max_(std::max<size_t>(max_events, 1)), clock_(clock), metrics_(metrics) {}

bool Admission::TryTake(size_t n, std::string_view key) {
  std::vector<std::function<void()>> wake;
  bool admitted = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    // Without reservations (a daemon below its bound) a call reads no
    // clock and looks up no key.
    if (!reservations_.empty()) ExpireLocked(clock_->NowNanos());
    // Free room is what neither held nor reserved events take; a resend
    // may add the room reserved for it, even while streams hold more.
    const size_t used = held_ + reserved_;
    const size_t free = used < max_ ? max_ - used : 0;
    const size_t mine = reservations_.empty() ? 0 : ReleaseLocked(key);
    admitted = held_ == 0 || n <= mine + free;
    if (admitted) {
      held_ += n;
    } else {
      ReserveLocked(key, n, clock_->NowNanos());
    }
    Publish();
    if (StreamRoomLocked()) wake.swap(waiting_);
  }
  if (!admitted && metrics_ != nullptr) {
    metrics_->CountBackpressure(Metrics::Backpressure::kRefused);
  }
  for (auto& w : wake) w();
  return admitted;
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
    if (!reservations_.empty()) ExpireLocked(clock_->NowNanos());
    held_ -= std::min(n, held_);
    Publish();
    if (StreamRoomLocked()) wake.swap(waiting_);
  }
  for (auto& w : wake) w();
}

bool Admission::RoomOrWait(std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!reservations_.empty()) {
      ExpireLocked(clock_->NowNanos());
      Publish();
    }
    if (StreamRoomLocked()) return true;
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

size_t Admission::reserved() const {
  std::lock_guard<std::mutex> l(mu_);
  return reserved_;
}

void Admission::ExpireLocked(uint64_t now_ns) {
  // Oldest first; a clock that went back expires what it passed.
  while (!reservations_.empty()) {
    const Reservation& r = reservations_.front();
    if (now_ns >= r.at_ns && now_ns - r.at_ns < kReservationTtlNs) break;
    reserved_ -= r.events;
    by_key_.erase(r.key);
    reservations_.pop_front();
  }
}

size_t Admission::ReleaseLocked(std::string_view key) {
  const auto found = by_key_.find(key);
  if (found == by_key_.end()) return 0;
  const auto it = found->second;
  const size_t events = it->events;
  reserved_ -= events;
  by_key_.erase(found);
  reservations_.erase(it);
  return events;
}

void Admission::ReserveLocked(std::string_view key, size_t n, uint64_t now_ns) {
  const size_t cap = max_ / 2;
  if (reserved_ >= cap) return;
  const size_t events = std::min(n, cap - reserved_);
  reservations_.push_back({std::string(key), events, now_ns});
  by_key_.emplace(reservations_.back().key, std::prev(reservations_.end()));
  reserved_ += events;
}

void Admission::Publish() {
  if (metrics_ == nullptr) return;
  metrics_->SetHeldEvents(static_cast<int64_t>(held_));
  metrics_->SetReservedEvents(static_cast<int64_t>(reserved_));
}

}  // namespace indelible
