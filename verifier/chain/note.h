// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.
//
//   <text, one or more lines, each ending in \n>
//   \n
//   — <key_name> <base64(key_id || signature)>\n      (one or more)
//
// key_id    = first 4 bytes of SHA-256(key_name || 0x0A || 0x01 || pubkey)
// signature = Ed25519 over the text (every line up to the blank line,
//             each with its newline)
// verifier key string = <key_name>+<hex(key_id)>+<base64(0x01 || pubkey)>
//
// Thread-safe: pure functions; NoteSigner is immutable.
#ifndef INDELIBLE_VERIFIER_CHAIN_NOTE_H_
#define INDELIBLE_VERIFIER_CHAIN_NOTE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/signing.h"

namespace indelible::chain {

// A public key that may have signed a note.
struct NoteVerifierKey {
  std::string name;
  std::string public_key;  // raw 32 bytes
  uint32_t key_id = 0;
};

uint32_t NoteKeyId(std::string_view key_name, std::string_view public_key);
std::string NoteVerifierKeyString(const NoteVerifierKey& key);
NoteVerifierKey MakeNoteVerifierKey(std::string key_name,
                                    std::string public_key);
// Parses "<name>+<hex id>+<base64(0x01 || pubkey)>"; InvalidArgument if
// malformed, the name has a space or control character, or the id does not
// match the key.
absl::StatusOr<NoteVerifierKey> ParseNoteVerifierKey(std::string_view s);

class NoteSigner {
 public:
  // REQUIRES: key_name is non-empty and has no spaces, '+' or newlines.
  NoteSigner(std::string key_name, Ed25519PrivateKey key);

  // REQUIRES: text is non-empty, ends in '\n' and has no blank line.
  std::string Sign(std::string_view text) const;

  const NoteVerifierKey& verifier_key() const { return verifier_key_; }
  const Ed25519PrivateKey& private_key() const { return key_; }

 private:
  Ed25519PrivateKey key_;
  NoteVerifierKey verifier_key_;
};

// Splits a note, checks that at least one signature line is by one of `keys`
// and verifies, and returns the signed text. DataLoss if the note is
// malformed, carries no signature by a known key, or a signature by a known
// key (name and id) fails to verify.
absl::StatusOr<std::string> VerifyNote(std::string_view note,
                                       const std::vector<NoteVerifierKey>& keys);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_NOTE_H_
