// Retention policies on record: each tenant's effective retention policy
// (every category with a value of its own, the default, the bounds, the
// legal hold) is recorded in the tenant's own chain before anything of the
// tenant is pruned under it (docs/RETENTION.md, "Policies on record";
// docs/FORMAT.md section 15 for the record).
//
// A tenant's policy is first recorded by the first retention compaction
// that finds its chain, before that compaction prunes anything of it; from
// then on every change is recorded before it applies: a start with another
// configuration, a reload, SetRetention, SetLegalHold. The text last
// recorded per tenant is kept in the store (meta rows
// retention_policy/<tenant>, written in the same batch as the record), and
// RetentionState's gate keeps a tenant whose effective policy differs from
// it from losing anything.
//
// Thread-safe. Must not be called from a Sequencer callback.
#ifndef INDELIBLE_DAEMON_OPS_RETENTION_POLICY_H_
#define INDELIBLE_DAEMON_OPS_RETENTION_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "daemon/governance/daemon_records.h"
#include "daemon/ops/retention.h"
#include "daemon/write/storage.h"

namespace indelible {

inline constexpr char kPolicyRecordPrefix[] = "retention_policy/";

class RetentionPolicyRecorder {
 public:
  // REQUIRES: the pointers outlive the recorder and the state's use of it.
  RetentionPolicyRecorder(RetentionState* state, Storage* storage,
                          const DaemonRecorder* recorder)
      : state_(state), storage_(storage), recorder_(recorder) {}

  // Loads the texts on record, puts the gate in place, makes the state
  // record its changes through this recorder, then applies `config` (the
  // configuration at start-up) as a change with cause config.start. An
  // error only if the store cannot be read; a policy that cannot be
  // recorded is logged (the gate holds its tenant's pruning).
  absl::Status Start(const RetentionConfig& config);

  // RetentionState::RecordAndApply.
  absl::Status RecordAndApply(const RetentionState::PolicyChange& change);

 private:
  RetentionState* const state_;
  Storage* const storage_;
  const DaemonRecorder* const recorder_;
};

// Records the policies not yet on record of every tenant with a chain
// (cause retention.compaction): what a retention compaction does before it
// computes the prune horizons.
absl::Status RecordPendingPolicies(RetentionState* state);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_RETENTION_POLICY_H_
