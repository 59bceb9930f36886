// Compactor: the scheduled retention compaction. Every
// `interval` of the daemon's clock it recomputes the prune horizons and
// compacts the bodies and event_ids column families to the last level
// (retention_compaction.h), so the retention filters see every row: an
// expired body lingers on disk at most `interval` plus one compaction.
// Start() computes the horizons once, so the compactions RocksDB runs on its
// own prune what had expired when the daemon started (of the tenants whose
// policy is on record; each scheduled compaction records the others' first,
// retention_policy.h).
// It checks the (injectable) clock every `poll` of real time, so a test that
// moves the clock sees the compaction within a poll.
#ifndef INDELIBLE_DAEMON_OPS_COMPACTOR_H_
#define INDELIBLE_DAEMON_OPS_COMPACTOR_H_

#include <chrono>
#include <cstdint>

#include "daemon/clock.h"
#include "daemon/periodic_task.h"
#include "daemon/ops/retention.h"
#include "daemon/ops/retention_filter.h"
#include "daemon/write/storage.h"

namespace indelible {

class Compactor {
 public:
  struct Options {
    uint64_t interval_ns = 24ull * 3600 * 1000000000;
    std::chrono::milliseconds poll{1000};
  };
  // REQUIRES: pointers outlive the compactor.
  Compactor(Storage* storage, Clock* clock, RetentionState* retention,
            RetentionCounters* counters, Options options);
  ~Compactor();  // Stop()

  void Start();
  void Stop();

 private:
  // At start: the prune horizons, from now; the schedule starts now.
  void UpdateHorizons();
  void CompactIfDue();

  Storage* const storage_;
  Clock* const clock_;
  RetentionState* const retention_;
  RetentionCounters* const counters_;
  const Options options_;
  ClockSchedule schedule_;  // used on task_'s thread
  // Wakes every poll; compacts when interval_ns has passed on the clock.
  PeriodicTask task_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_COMPACTOR_H_
