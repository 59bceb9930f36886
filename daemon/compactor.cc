#include "daemon/compactor.h"

#include "daemon/retention_compaction.h"
#include "spdlog/spdlog.h"

namespace indelible {

Compactor::Compactor(Storage* storage, Clock* clock, RetentionState* retention,
                     RetentionCounters* counters, Options options)
    : storage_(storage), clock_(clock), retention_(retention), counters_(counters),
      options_(options) {}

Compactor::~Compactor() { Stop(); }

void Compactor::Start() {
  thread_ = std::thread([this] {
    uint64_t last = clock_->NowNanos();
    if (auto s = UpdateRetentionHorizons(storage_, retention_, last); !s.ok()) {
      spdlog::error("event=retention_horizon_failed status=\"{}\"", s.ToString());
    }
    std::unique_lock<std::mutex> l(mu_);
    while (!stopping_) {
      cv_.wait_for(l, options_.poll, [this] { return stopping_; });
      if (stopping_) break;
      const uint64_t now = clock_->NowNanos();
      if (now < last + options_.interval_ns) continue;
      last = now;
      l.unlock();
      const uint64_t before = counters_->bodies_dropped.load();
      if (auto s = CompactForRetention(storage_, retention_, now); !s.ok()) {
        spdlog::error("event=retention_compaction_failed status=\"{}\"", s.ToString());
      } else {
        spdlog::info("event=retention_compaction bodies_dropped={}",
                     counters_->bodies_dropped.load() - before);
      }
      l.lock();
    }
  });
}

void Compactor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace indelible
