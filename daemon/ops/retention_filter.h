// Compaction filters that enforce retention (retention.h) as RocksDB
// compacts: on the bodies column family they drop expired bodies (salt and
// canonical bytes; the skeleton stays, so the chain still verifies) from
// their rows (store::BodyRun: a row is rewritten without them, or dropped
// once none is left; bodies_dropped counts bodies, not rows), judged
// by seq against the prune horizons computed from the skeletons
// (retention_compaction.h), never by the body's unhashed copy of
// received_at; on the event_ids column family the expired records'
// idempotency entries, judged by the entry's own copy (the index is no
// evidence: a damaged entry can only let a retry store a second record). Rows of
// purged tenants are dropped too. A row the filter cannot parse is kept:
// retention never deletes what it does not understand, and no exception
// leaves a filter.
//
// Each compaction takes one RetentionState snapshot and one reading of the
// clock, so a policy change applies from the next compaction on.
#ifndef INDELIBLE_DAEMON_OPS_RETENTION_FILTER_H_
#define INDELIBLE_DAEMON_OPS_RETENTION_FILTER_H_

#include <atomic>
#include <memory>

#include "daemon/clock.h"
#include "daemon/ops/retention.h"
#include "rocksdb/compaction_filter.h"

namespace indelible {

// Counts of what the filters dropped, for logs and metrics.
struct RetentionCounters {
  std::atomic<uint64_t> bodies_dropped{0};
  std::atomic<uint64_t> event_ids_dropped{0};
};

enum class RetentionTarget { kBodies, kEventIds };

// REQUIRES: state, clock and counters outlive every DB using the factory.
std::shared_ptr<rocksdb::CompactionFilterFactory> NewRetentionFilterFactory(
    RetentionTarget target, const RetentionState* state, Clock* clock,
    RetentionCounters* counters);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_RETENTION_FILTER_H_
