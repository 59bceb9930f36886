// Findings: what the chain check reports, one per damaged place.
//
// A finding names the tenant, the FIRST seq at which the damage shows and a
// kind. The kinds, and the damage each one indicates, are listed in
// docs/VERIFY.md. Findings are delivered through a Reporter, in the spirit of
// LevelDB's log::Reader::Reporter: the checker never stops at the first one.
//
// Thread safety: a Reporter is called from one thread at a time, in stream
// order (tenant by tenant, and within a tenant in the order of the records).
#ifndef INDELIBLE_VERIFIER_CHECK_FINDING_H_
#define INDELIBLE_VERIFIER_CHECK_FINDING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace indelible::check {

enum class Kind {
  // A row that cannot be decoded: a skeleton of the wrong size, a body
  // shorter than its salt, a CE that is not well-formed v1, a bad key, an
  // invalid tenant id, an unreadable head or checkpoint row.
  kMalformed,
  // Records are missing: seq jumps over `seq` (record(s) deleted).
  kSeqGap,
  // A seq repeats or goes backwards (reordered or duplicated records).
  kSeqOutOfOrder,
  // received_at_ns is smaller than the previous record's.
  kReceivedAtDecreased,
  // SHA-256(salt || CE) != body_digest: the body (salt or CE) was modified.
  kBodyDigestMismatch,
  // The tenant inside CE is not the chain's tenant: a record spliced in from
  // another tenant.
  kTenantMismatch,
  // entry_hash does not follow from the previous entry_hash and the
  // skeleton: a skeleton was modified, or records were inserted/reordered.
  kEntryHashMismatch,
  // A body without a skeleton (a record's skeleton was deleted).
  kOrphanBody,
  // The heads column family disagrees with the last record (records
  // appended behind the daemon's back, or a head rewritten).
  kHeadMismatch,
  // The chain ends before a seq that the heads column family or a
  // checkpoint vouches for: records were cut off the end (or rolled back).
  kTruncated,
  // A checkpoint's head hash disagrees with the chain at its seq: history
  // was rewritten after it was signed (fork or rollback), or the record it
  // names is gone.
  kCheckpointMismatch,
  // A stored checkpoint's signature does not verify under the trusted keys
  // (forged, or signed by an unknown key).
  kCheckpointSignature,
  // The stored checkpoint history goes backwards: a checkpoint at a higher
  // seq was signed earlier than one at a lower seq (the daemon's state was
  // rolled back and it signed an older head again).
  kCheckpointRollback,
  // RocksDB reported corruption (a checksum mismatch) while reading: the
  // files were modified below the database.
  kStoreCorruption,
  // The body's copy of received_at_ns (kept for retention, covered by no
  // hash) differs from the skeleton's: the copy was modified.
  kBodyReceivedAtMismatch,
  // A stored node of the tenant's Merkle tree (format v2) differs from the
  // one recomputed from the records: the node row was modified, or at level
  // 0 the leaf's entry hash or category (the record's category was changed).
  kTreeNodeMismatch,
  // A node of the tree of the records is not stored (deleted rows).
  kTreeNodeMissing,
  // A stored node covers leaves beyond the records (records cut off, or a
  // row added).
  kTreeNodeExtra,
  // A v2 checkpoint's root is not the root of the tree of the records at its
  // size (history rewritten after it was signed), or it names a size beyond
  // the records.
  kCheckpointRootMismatch,
  // A key rotation record (category indelible.key) whose statement is
  // malformed, does not verify, or is signed by a key not trusted at that
  // point of the chain: its new key is not followed.
  kKeyRotation,
  // A pruned record whose body went missing earlier than any retention
  // policy recorded in the chain allowed, or while a legal hold was in force,
  // or of a category that is never pruned (indelible.*): deleted by hand.
  kEarlyPrune,
  // A purged tenant (erasure.h) whose stored deletion certificate does not
  // verify or disagrees with the chain or tree, or that has a body left or
  // a record after the certificate's final seq.
  kPurge,
};

inline constexpr int kNumKinds = static_cast<int>(Kind::kPurge) + 1;

// snake_case name without the k prefix, e.g. "entry_hash_mismatch": the
// stable spelling used in JSON output and docs.
std::string_view KindName(Kind kind);
std::optional<Kind> KindFromName(std::string_view name);

struct Finding {
  std::string tenant;
  uint64_t seq = 0;  // 0 when the finding is about the tenant as a whole
  Kind kind = Kind::kMalformed;
  std::string detail;
};

// "acme seq 10 entry_hash_mismatch: <detail>"
std::string ToString(const Finding& f);

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void Report(const Finding& finding) = 0;
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_FINDING_H_
