// Format v2 checkpoints: C2SP tlog-checkpoint notes over a tenant's Merkle
// tree, signed as v1 checkpoints are (note.h, Ed25519, key id type 0x01).
//
//   <log_name>/<tenant>\n            origin
//   <N>\n                            tree size, decimal, no leading zeros
//   <base64(root(N))>\n              standard base64 with padding
//   chain <base64(entry_hash(N))>\n  extension line: the v1 chain head
//   time <timestamp_ns>\n            extension line, decimal
//
// A v1 checkpoint (checkpoint.h) has four lines and no extension prefix, so
// neither text parses as the other. Cosignatures: cosignature.h.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_CHECKPOINT_V2_H_
#define INDELIBLE_VERIFIER_CHAIN_CHECKPOINT_V2_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"

namespace indelible::chain {

// Any tlog-checkpoint text: origin, size, root and opaque extension lines.
struct TlogCheckpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root{};
  std::vector<std::string> extensions;

  bool operator==(const TlogCheckpoint&) const = default;
};

// Parses tlog-checkpoint text (non-empty origin, canonical decimal size,
// strict base64 of a 32-byte root, non-empty extension lines, a final
// newline). DataLoss if malformed.
absl::StatusOr<TlogCheckpoint> ParseTlogCheckpoint(std::string_view text);

struct CheckpointV2 {
  std::string log_name;
  std::string tenant;
  uint64_t size = 0;    // seq of the newest record
  Digest root{};        // root(size)
  Digest chain_head{};  // entry_hash(size); genesis(tenant) when size is 0
  uint64_t timestamp_ns = 0;

  std::string origin() const { return log_name + "/" + tenant; }
  bool operator==(const CheckpointV2&) const = default;
};

// A log name: 1..200 bytes of printable ASCII without space or '+', not
// starting or ending with '/' (a schema-less URL such as audit.example.com).
bool IsValidLogName(std::string_view log_name);

// The five lines above, each with its newline: the note text to sign.
// REQUIRES: IsValidLogName(log_name) and IsValidTenantId(tenant).
std::string CheckpointV2Text(const CheckpointV2& c);

// Parses exactly the text CheckpointV2Text produces (one spelling per
// checkpoint). The origin splits at its last '/'. DataLoss if malformed.
absl::StatusOr<CheckpointV2> ParseCheckpointV2Text(std::string_view text);

// Verifies the log's signature on the note against `keys` (VerifyNote:
// other signature lines, such as cosignatures, are ignored) and parses it.
absl::StatusOr<CheckpointV2> VerifyCheckpointV2(
    std::string_view note, const std::vector<NoteVerifierKey>& keys);

// A checkpoint a verifier with a witness policy may trust: the log's
// signature by one of `keys` (VerifyCheckpointV2) and cosignatures of at
// least policy.quorum distinct witnesses (witness_policy.h's CheckQuorum).
// Sets *cosignatures, if given, to the witnesses that cosigned. DataLoss for
// a bad log signature or a forged cosignature; below quorum: QuorumStatus's
// Unauthenticated status (IsBelowQuorum).
absl::StatusOr<CheckpointV2> VerifyWitnessedCheckpointV2(
    std::string_view note, const std::vector<NoteVerifierKey>& keys,
    const WitnessPolicy& policy,
    std::vector<WitnessCosignature>* cosignatures = nullptr);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_CHECKPOINT_V2_H_
