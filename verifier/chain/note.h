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

// The signature types of signed-note this code knows (the byte in key ids
// and verifier keys): 0x01 Ed25519 note signatures, 0x04 timestamped
// Ed25519 cosignatures (cosignature.h).
inline constexpr uint8_t kNoteSigEd25519 = 0x01;
inline constexpr uint8_t kNoteSigCosignatureV1 = 0x04;
// What starts a signature line: U+2014 EM DASH and a space.
inline constexpr std::string_view kNoteSignaturePrefix = "\xe2\x80\x94 ";

// First 4 bytes (big-endian) of SHA-256(key_name || 0x0A || sig_type || key).
uint32_t SignedNoteKeyId(std::string_view key_name, uint8_t sig_type,
                         std::string_view public_key);
// "<name>+<hex(key_id)>+<base64(sig_type || public_key)>".
std::string VerifierKeyString(std::string_view key_name, uint32_t key_id,
                              uint8_t sig_type, std::string_view public_key);
// Parses the string above for a 32-byte Ed25519 key of `sig_type`; sets
// *name and *public_key. InvalidArgument if malformed, the name is not a
// valid key name, the type differs, or the id does not match the key.
absl::Status ParseVerifierKeyString(std::string_view s, uint8_t sig_type,
                                    std::string* name,
                                    std::string* public_key);

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

// One signature line of a note, split but not verified.
struct NoteSignature {
  std::string_view name;
  uint32_t key_id = 0;
  std::string signature;  // the bytes after the key id
};

// A note split at its last blank line. Views point into the parsed note.
struct SplitNoteResult {
  std::string_view text;  // with its final newline
  std::vector<NoteSignature> signatures;
};

// Splits a note into its text and signature lines, checking their form
// ("— <name> <base64(key_id || signature)>", at least one). DataLoss if
// malformed.
absl::StatusOr<SplitNoteResult> SplitNote(std::string_view note);

// Splits a note, checks that at least one signature line is by one of `keys`
// and verifies, and returns the signed text. DataLoss if the note is
// malformed, carries no signature by a known key, or a signature by a known
// key (name and id) fails to verify.
absl::StatusOr<std::string> VerifyNote(std::string_view note,
                                       const std::vector<NoteVerifierKey>& keys);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_NOTE_H_
