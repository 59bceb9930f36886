// Retention's compaction: run by the Compactor on schedule and by
// Admin.Compact. It first computes the prune horizons from the skeletons,
// then compacts the bodies and event_ids column families to the last level,
// so the filters (retention_filter.h) see every row.
//
// The horizon of (tenant, retention r) is the highest seq whose skeleton's
// received_at_ns + r <= now: the skeleton's time is covered by the chain,
// the copy stored with each body is not, so retention never reads the copy.
// received_at never decreases within a tenant (the sequencer guarantees it,
// the chain check verifies it), so each horizon is a binary search over the
// seqs 1..head: about log2(n) skeleton reads per tenant and retention.
// Horizons only grow with time, so compactions that RocksDB runs on its own
// between two of these use the last ones and at most keep a body longer.
//
// Before it computes the horizons, a retention compaction records in each
// tenant's chain its policy if that is not on record yet
// (retention_policy.h); a tenant whose policy is not on record gets no
// horizon and loses nothing. The horizons are computed under the state's
// policy mutex, so none mixes a policy change not yet applied with a time
// after it was recorded.
//
// Thread-safe: may run concurrently with appends and other compactions.
#ifndef INDELIBLE_DAEMON_OPS_RETENTION_COMPACTION_H_
#define INDELIBLE_DAEMON_OPS_RETENTION_COMPACTION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "daemon/ops/retention.h"
#include "daemon/write/storage.h"

namespace indelible {

// Recomputes every tenant's horizons at `now_ns` into `state`. A tenant
// whose skeletons cannot be read keeps its previous horizons (logged); one
// whose policy is not on record (with the gate on) gets none.
absl::Status UpdateRetentionHorizons(Storage* storage, RetentionState* state,
                                     uint64_t now_ns);

// RecordPendingPolicies (a failure is logged), UpdateRetentionHorizons,
// then Storage::CompactForRetention.
absl::Status CompactForRetention(Storage* storage, RetentionState* state,
                                 uint64_t now_ns);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_RETENTION_COMPACTION_H_
