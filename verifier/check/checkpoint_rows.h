// Turning checkpoint notes into claims a ChainChecker holds the chain
// against: stored rows of the checkpoints column family (whose problems are
// findings) and an auditor's saved checkpoints (whose problems are errors of
// the input, not of the data).
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHECK_CHECKPOINT_ROWS_H_
#define INDELIBLE_VERIFIER_CHECK_CHECKPOINT_ROWS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "verifier/check/chain_checker.h"
#include "verifier/check/trusted_keys.h"

namespace indelible::check {

// Feeds the row key(checker->tenant(), key_seq) -> `note` to *checker: as a
// claim if it parses, belongs there, and (when `keys` is non-empty) its
// signature verifies; otherwise reports kMalformed, kCheckpointMismatch
// (a checkpoint of another tenant or seq filed here) or kCheckpointSignature
// through the checker and counts the row as rejected.
void AddStoredCheckpoint(uint64_t key_seq, std::string_view note,
                         const TrustedKeys& keys, ChainChecker* checker);

// An auditor's saved checkpoint. With keys, its signature must verify; with
// none it is taken as is (signature_verified = false). InvalidArgument if it
// is malformed or does not verify.
absl::StatusOr<CheckpointClaim> LoadSuppliedCheckpoint(std::string_view note,
                                                       const TrustedKeys& keys);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_CHECKPOINT_ROWS_H_
