// Checkpoints: signed statements "tenant T's chain had head H at seq N at
// time S", in C2SP signed-note form (see note.h).
//
//   indelible/v1/<tenant>\n
//   <seq>\n                       decimal, no leading zeros
//   <base64(entry_hash(seq))>\n   standard base64 with padding
//   <timestamp_ns>\n              decimal
//   \n
//   — <key_name> <base64(key_id || signature)>\n
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_CHECKPOINT_H_
#define INDELIBLE_VERIFIER_CHAIN_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"

namespace indelible::chain {

inline constexpr std::string_view kOriginPrefix = "indelible/v1/";

struct Checkpoint {
  std::string tenant;
  uint64_t seq = 0;
  Digest head{};
  uint64_t timestamp_ns = 0;

  bool operator==(const Checkpoint&) const = default;
};

// The four-line statement "<origin_prefix><tenant>, seq, base64 head, time"
// that checkpoints and deletion certificates (deletion.h) share; they differ
// in the origin prefix only, so neither can pass for the other. The parser
// checks the grammar above; errors are DataLoss prefixed with `what`.
std::string HeadStatementText(std::string_view origin_prefix, const Checkpoint& c);
absl::StatusOr<Checkpoint> ParseHeadStatementText(std::string_view text,
                                                  std::string_view origin_prefix,
                                                  std::string_view what);

// The signed text of a checkpoint (four lines, each with its newline).
std::string CheckpointText(const Checkpoint& c);

// Parses the text produced by CheckpointText. DataLoss if malformed.
absl::StatusOr<Checkpoint> ParseCheckpointText(std::string_view text);

// Verifies the note's signature against `keys` and parses its text.
absl::StatusOr<Checkpoint> VerifyCheckpoint(
    std::string_view note, const std::vector<NoteVerifierKey>& keys);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_CHECKPOINT_H_
