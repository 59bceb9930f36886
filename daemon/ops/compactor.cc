#include "daemon/ops/compactor.h"

#include "daemon/ops/retention_compaction.h"
#include "spdlog/spdlog.h"

namespace indelible {

Compactor::Compactor(Storage* storage, Clock* clock, RetentionState* retention,
                     RetentionCounters* counters, Options options)
    : storage_(storage), clock_(clock), retention_(retention), counters_(counters),
      options_(options),
      schedule_(clock, options_.interval_ns),
      task_({.name = "compactor", .interval = options_.poll, .run_at_start = true},
            [this, started = false]() mutable {
              if (!started) {
                started = true;
                UpdateHorizons();
              } else {
                CompactIfDue();
              }
            }) {}

Compactor::~Compactor() { Stop(); }

void Compactor::Start() { task_.Start(); }

void Compactor::Stop() { task_.Stop(); }

void Compactor::UpdateHorizons() {
  const uint64_t now = clock_->NowNanos();
  schedule_.Reset(now);
  if (auto s = UpdateRetentionHorizons(storage_, retention_, now); !s.ok()) {
    spdlog::error("event=retention_horizon_failed status=\"{}\"", s.ToString());
  }
}

void Compactor::CompactIfDue() {
  uint64_t now = 0;
  if (!schedule_.Due(&now)) return;
  const uint64_t before = counters_->bodies_dropped.load();
  if (auto s = CompactForRetention(storage_, retention_, now); !s.ok()) {
    spdlog::error("event=retention_compaction_failed status=\"{}\"", s.ToString());
  } else {
    spdlog::info("event=retention_compaction bodies_dropped={}",
                 counters_->bodies_dropped.load() - before);
  }
}

}  // namespace indelible
