// Key rotation statements (docs/FORMAT.md, "Key rotation statements"): a
// C2SP signed note by which a log announces that it signs with a new key
// from now on. Signed by the old key (the announcement) and by the new one
// (proof that whoever announced it holds it):
//
//   indelible/v1/key-rotation\n
//   log <log_name>\n
//   old <verifier key string of the old key>\n
//   new <verifier key string of the new key>\n
//   time <timestamp_ns>\n
//   \n
//   — <old key name> <base64(old key_id || signature)>\n
//   — <new key name> <base64(new key_id || signature)>\n
//
// Whether the old key is one to trust is the caller's business: a statement
// only proves that both keys agreed to it.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_KEY_ROTATION_H_
#define INDELIBLE_VERIFIER_CHAIN_KEY_ROTATION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/note.h"

namespace indelible::chain {

inline constexpr std::string_view kKeyRotationHeader = "indelible/v1/key-rotation";

struct KeyRotation {
  std::string log_name;
  NoteVerifierKey old_key;
  NoteVerifierKey new_key;
  uint64_t timestamp_ns = 0;
};

// The five lines above, each with its newline.
// REQUIRES: IsValidLogName(log_name).
std::string KeyRotationText(const KeyRotation& r);

// Parses exactly the text KeyRotationText produces. DataLoss if malformed,
// if the log name is not valid, or if the two keys are the same public key.
absl::StatusOr<KeyRotation> ParseKeyRotationText(std::string_view text);

// The statement for `r`, signed by `old_signer` then `new_signer`.
// InvalidArgument if the signers' verifier keys are not r.old_key and
// r.new_key, or the keys are the same.
absl::StatusOr<std::string> SignKeyRotation(const KeyRotation& r, const NoteSigner& old_signer,
                                            const NoteSigner& new_signer);

// Parses a statement and checks that it carries a valid signature by the
// old key and one by the new key its text names. DataLoss naming the reason
// otherwise. Other signature lines are ignored.
absl::StatusOr<KeyRotation> VerifyKeyRotation(std::string_view note);

// Follows rotation statements supplied together, in any order, from the
// keys `trusts` accepts: a statement whose old key is trusted hands trust to
// its new key (`adopt` is called for a new key not yet trusted) until none
// is left. InvalidArgument naming a statement that does not verify (by its
// position, from 1) or one that no trusted key leads to.
absl::Status FollowKeyRotations(const std::vector<std::string>& statements,
                                const std::function<bool(const NoteVerifierKey&)>& trusts,
                                const std::function<void(const NoteVerifierKey&)>& adopt);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_KEY_ROTATION_H_
