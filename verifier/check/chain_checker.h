// ChainChecker: the streaming check of one tenant's chain, fed its stored
// records in key (= seq) order. It runs the sequential part of the check of
// docs/FORMAT.md section 6 (seq continuity, received_at order, linkage to the
// previous stored entry_hash) and holds the chain against its head row and
// its checkpoints; the per-record hashing goes to a CheckSink, so it can run
// in parallel.
//
// Each record's entry_hash is checked against the PREVIOUS STORED entry_hash,
// not a recomputed one: a single modified record is named once (and the
// record after it, if its stored hash was rewritten too), instead of every
// record after it.
//
// Typical use:
//   ChainChecker c(tenant, head, &sink);
//   c.AddCheckpoint(...);           // before the record at its seq
//   for (each stored row in seq order) c.AddRecord(r);
//   c.Finish();
//
// Thread safety: not thread-safe; one tenant, one thread.
#ifndef INDELIBLE_VERIFIER_CHECK_CHAIN_CHECKER_H_
#define INDELIBLE_VERIFIER_CHECK_CHAIN_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/witness_policy.h"
#include "verifier/check/record.h"
#include "verifier/check/sink.h"
#include "verifier/store/layout.h"

namespace indelible::check {

// A statement about the chain to hold it against.
struct CheckpointClaim {
  enum class Source {
    kStored,    // a row of the checkpoints column family
    kSupplied,  // an auditor's saved checkpoint (--checkpoint)
  };
  Source source = Source::kStored;
  chain::Checkpoint checkpoint;
  // True if its signature verified under a trusted key; false if no key was
  // given (a checkpoint whose signature FAILS is not a claim at all).
  bool signature_verified = false;
};

// The heads column family's row for a tenant.
struct HeadRow {
  enum class State { kAbsent, kUnreadable, kPresent };
  State state = State::kAbsent;
  store::Head head;
};

struct TenantSummary {
  std::string tenant;
  uint64_t records = 0;  // skeleton rows, readable or not
  uint64_t pruned = 0;   // records without a body, not erased
  // A purged tenant (erasure.h): its records up to erased_through have no
  // body by the purge, `erased` of them; they are not counted as pruned.
  std::string erased_by;  // "purge", or empty
  uint64_t erased_through = 0;
  uint64_t erased = 0;
  bool erasure_verified = false;
  uint64_t first_seq = 0;
  // The last record in seq order: its seq, stored entry_hash and time
  // (0, genesis, 0 for an empty chain).
  uint64_t head_seq = 0;
  chain::Digest head_hash{};
  uint64_t head_received_at_ns = 0;
  uint64_t stored_checkpoints = 0;       // checkpoint rows seen
  uint64_t checkpoints_signed = 0;       // of those, signature verified
  uint64_t checkpoints_unverified = 0;   // compared without a key
  uint64_t supplied_checkpoints = 0;
  uint64_t checkpoints_confirmed = 0;    // claims the chain agrees with
  uint64_t findings = 0;                 // filled in by the store check
  // The Merkle tree (tree_check.h), filled in by the store check.
  bool tree_checked = false;
  uint64_t tree_nodes = 0;               // stored nodes compared
  uint64_t tree_leaves_pruned = 0;       // pruned: leaf from its kept category
  uint64_t v2_checkpoints = 0;
  // With a witness policy (StoreCheckOptions::witnesses): the newest v2
  // checkpoint that holds and its cosignatures (quorum.quorum is 0 when the
  // tenant has none, e.g. its tree was not checked).
  uint64_t witnessed_size = 0;
  chain::QuorumCheck quorum;
};

class ChainChecker {
 public:
  // REQUIRES: sink outlives the checker.
  ChainChecker(std::string tenant, HeadRow head, CheckSink* sink);

  // REQUIRES: called before the record at claim.checkpoint.seq is added;
  // stored claims in seq order (as they are stored). The tenant of the
  // claim is the caller's business (see checkpoint_rows.h).
  void AddCheckpoint(const CheckpointClaim& claim);
  // Counts a checkpoint row that produced no claim (bad signature,
  // malformed: the caller has reported it).
  void CountRejectedCheckpoint() { ++summary_.stored_checkpoints; }

  void AddRecord(const RecordView& r);
  // A skeleton row that could not be decoded (reported here as kMalformed):
  // the record exists, but the links to and from it cannot be checked.
  void AddUnreadableRecord(uint64_t seq, std::string detail);
  // A body row with no skeleton row.
  void AddOrphanBody(uint64_t seq);
  // Any other finding about this tenant, delivered in order.
  void Report(Kind kind, uint64_t seq, std::string detail);

  // Settles the head row and the checkpoints beyond the last record.
  void Finish();

  const TenantSummary& summary() const { return summary_; }
  const std::string& tenant() const { return summary_.tenant; }

 private:
  // Sequential checks before record `seq` is taken in; returns true if it
  // continues the chain (seq == expected).
  bool TakeSeq(uint64_t seq, uint64_t received_at_ns);
  void SettleClaimsBefore(uint64_t seq);
  // entry_hash is null when the record at seq is unreadable.
  void SettleClaimsAt(uint64_t seq, const chain::Digest* entry_hash);

  CheckSink* sink_;
  HeadRow head_;
  TenantSummary summary_;
  uint64_t expect_ = 1;          // the next seq that continues the chain
  uint64_t last_time_ = 0;
  chain::Digest prev_{};         // stored entry_hash of record expect_-1
  bool prev_known_ = true;       // false after an unreadable record or gap
  // Claims not yet compared, by seq.
  std::multimap<uint64_t, CheckpointClaim> pending_;
  // The newest (by timestamp) stored checkpoint so far, for rollbacks.
  uint64_t newest_stored_ts_ = 0;
  uint64_t newest_stored_seq_ = 0;
  bool any_stored_ = false;
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_CHAIN_CHECKER_H_
