// CheckStore: the offline check of a whole data directory (or one tenant of
// it), as `indelible-verify check` runs it.
//
// One sequential pass reads the heads, skeletons, bodies and checkpoints
// column families side by side in key order (they are all keyed by tenant,
// then seq), feeds each tenant's rows to a ChainChecker, and hands the
// hashing to a ParallelSink. Memory stays bounded whatever the size of the
// store: rows are streamed, and the sink holds a few chunks at most.
//
// Each tenant's pruned records are judged against the retention policies
// its chain records (policy_history.h): their early_prune findings follow
// the tenant's other findings, once the whole history is read. That costs
// 24 bytes per pruned record the policies have not settled yet.
//
// Findings go to the Reporter (on the calling thread, in tenant and seq
// order); the returned status is an error only when the check could not be
// run (I/O, bad input): damage is never an error, it is a finding.
#ifndef INDELIBLE_VERIFIER_CHECK_STORE_CHECK_H_
#define INDELIBLE_VERIFIER_CHECK_STORE_CHECK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/check/chain_checker.h"
#include "verifier/check/finding.h"
#include "verifier/check/parallel_sink.h"
#include "verifier/check/store_keys.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/store/reader.h"

namespace indelible::check {

struct StoreCheckOptions {
  // Check only this tenant; empty = every tenant in the store.
  std::string tenant;
  // Keys that stored checkpoints must be signed with (the daemon's key
  // history, as the auditor obtained it).
  TrustedKeys keys;
  // With no keys given: check signatures against the key history the store
  // lists itself (store_keys.h). If it lists none either, stored checkpoints
  // are still held against the chain, unsigned
  // (StoreCheckResult::signatures_checked is false).
  bool fall_back_to_store_keys = true;
  // A witness policy: each tenant's newest stored v2 checkpoint must be
  // cosigned by its quorum (StoreCheckResult::below_quorum), and every
  // cosignature by one of its witnesses must verify (else a
  // kCheckpointSignature finding). Supplied checkpoints are the auditor's
  // own and need only the log's signature.
  std::optional<chain::WitnessPolicy> witnesses;
  // An auditor's checkpoints (LoadSuppliedCheckpoint), of any tenants.
  std::vector<CheckpointClaim> supplied;
  // The time pruned records are judged at (policy_history.h): 0 for the
  // later of this machine's clock and the tenant's newest received_at.
  uint64_t now_ns = 0;
  // Hashing threads and chunking (see parallel_sink.h).
  ParallelSinkOptions parallel;
  // Called now and then with the records checked so far and the number the
  // heads column family leads to expect (0 if unknown).
  std::function<void(uint64_t done, uint64_t expected)> progress;
};

enum class KeySource {
  kGiven,  // StoreCheckOptions::keys
  kStore,  // the store's own key history: not independent evidence
  kNone,   // no keys: signatures of stored checkpoints not checked
};

struct StoreCheckResult {
  std::vector<TenantSummary> tenants;  // in tenant order
  uint64_t records = 0;
  uint64_t pruned = 0;
  uint64_t findings = 0;
  uint64_t stored_checkpoints = 0;
  // False when stored checkpoints exist but there was no key to check them.
  bool signatures_checked = true;
  KeySource key_source = KeySource::kNone;
  std::vector<std::string> keys_used;  // TrustedKeys::Describe()
  // With a witness policy: the tenants with records whose newest v2
  // checkpoint is below quorum (or who have none), in tenant order.
  bool witness_policy = false;
  std::vector<std::string> below_quorum;
  double seconds = 0;
};

// InvalidArgument if a supplied checkpoint is of a tenant other than
// options.tenant; NotFound if options.tenant is set and the store knows
// nothing of it (and no checkpoint was supplied for it); another error if
// the store cannot be read. Corruption reported by RocksDB is a finding
// (kStoreCorruption) that ends the scan.
absl::StatusOr<StoreCheckResult> CheckStore(const store::Reader& reader,
                                            const StoreCheckOptions& options,
                                            Reporter* reporter);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_STORE_CHECK_H_
