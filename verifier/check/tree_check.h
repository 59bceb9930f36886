// CheckTenantTree: holds a tenant's stored Merkle tree (layout.h, "tree")
// and its v2 checkpoints against its records (docs/VERIFY.md, "The tree").
//
// Fed the tenant's records in seq order by the store check's one pass over
// them (so bodies are read once for chain and tree): each leaf is recomputed
// from the skeleton's entry hash and the category the skeleton keeps (for a
// record with a body it must be the body's) and folded into a compact
// range; every node the fold completes at a stored level (4 and above) is
// compared with the stored row at (level, index), read by one iterator per
// level, so rows missing, differing or beyond the records, and rows below
// level 4, are found without holding the tree in memory. A store in the
// previous layout (store::kTreeMarkerV1, not yet upgraded by a daemon) is
// checked as it was written: every node stored, a pruned record's category
// kept in its leaf row.
// Each v2 checkpoint's signature (when keys are given), root and chain head
// are compared at its size; with a witness policy its cosignatures are
// counted (a forged one is a kCheckpointSignature finding) and the summary
// says whether the newest v2 checkpoint reached the quorum.
//
// Thread-compatible; findings go to `sink` in seq order.
#ifndef INDELIBLE_VERIFIER_CHECK_TREE_CHECK_H_
#define INDELIBLE_VERIFIER_CHECK_TREE_CHECK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "verifier/chain/witness_policy.h"
#include "verifier/check/sink.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/store/reader.h"

namespace indelible::check {

struct TreeCheckSummary {
  uint64_t leaves = 0;            // records folded into the tree
  uint64_t leaves_pruned = 0;     // checked by the category kept with the leaf
  uint64_t nodes = 0;             // stored node rows compared
  uint64_t checkpoints = 0;       // v2 checkpoint rows seen
  // With a witness policy: the newest v2 checkpoint that holds (signature,
  // root and chain head) and how its cosignatures stand. quorum.quorum is 0
  // when there is none.
  uint64_t newest_size = 0;
  chain::QuorumCheck quorum;
};

// Whether the store has trees to check (store::TreeLayoutOf): a store
// written before the tree existed and not yet opened by a daemon that
// builds it has none.
bool StoreHasTree(const store::Reader& reader);

// Checks `tenant`'s tree up to its last record in an unbroken run from seq
// 1 (a gap or an unreadable skeleton, which the chain check reports, ends
// it). Corruption reported by RocksDB is a finding (kStoreCorruption).
class TreeChecker {
 public:
  // REQUIRES: reader, keys, sink and policy outlive the checker. `policy`
  // may be null (no witness policy).
  TreeChecker(const store::Reader& reader, const std::string& tenant, const TrustedKeys& keys,
              CheckSink* sink, const chain::WitnessPolicy* policy = nullptr);
  ~TreeChecker();
  TreeChecker(const TreeChecker&) = delete;
  TreeChecker& operator=(const TreeChecker&) = delete;

  // The tenant's next record (well-formed key) in seq order; `skeleton` is
  // null when it could not be decoded, `body` the stored body value.
  void AddRecord(uint64_t seq, const store::Skeleton* skeleton, bool has_body,
                 std::string_view body);
  // The category of the leaf of the record last added (for a pruned record,
  // the one kept for its leaf); nullopt if its leaf was not taken.
  std::optional<std::string_view> LeafCategory() const;
  // After the last record: rows beyond the records, checkpoints of sizes
  // the records never reached.
  TreeCheckSummary Finish();

 private:
  class Scan;
  std::unique_ptr<Scan> scan_;
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_TREE_CHECK_H_
