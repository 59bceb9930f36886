// TrustedKeys: the public keys a checkpoint may be signed with (the daemon's
// key history), and checkpoint verification under them.
//
// Keys come as C2SP verifier-key strings ("<name>+<hex id>+<base64(0x01 ||
// key)>") or as SubjectPublicKeyInfo PEM. A PEM key carries no key name; it
// is trusted under whatever name a signature line gives, as long as the
// line's key id (which commits to name and key) matches.
//
// Thread-safe after setup: the const methods may be called concurrently.
#ifndef INDELIBLE_VERIFIER_CHECK_TRUSTED_KEYS_H_
#define INDELIBLE_VERIFIER_CHECK_TRUSTED_KEYS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/note.h"

namespace indelible::check {

class TrustedKeys {
 public:
  // InvalidArgument if `s` is not a valid verifier-key string.
  absl::Status AddVerifierKey(std::string_view s);
  // InvalidArgument if `pem` is not an Ed25519 public key.
  absl::Status AddPublicKeyPem(std::string_view pem);

  // Trusts `key` from now on (a key reached by a rotation statement).
  void AddKey(chain::NoteVerifierKey key) { named_.push_back(std::move(key)); }
  // True if `key` (name and public key) is trusted: a named key, or a PEM
  // key with the same public key.
  bool Trusts(const chain::NoteVerifierKey& key) const;

  bool empty() const { return named_.empty() && unnamed_.empty(); }
  // One line per key: the verifier-key string, or "pem:<hex key>".
  std::vector<std::string> Describe() const;

  // The keys a signature line of `note` may match: every named key, and each
  // PEM key under each key name the note's signature lines give. Every key
  // id is computed from its name and key, never taken from the input.
  std::vector<chain::NoteVerifierKey> KeysFor(std::string_view note) const;

  // Verifies `note` as note.h's VerifyNote does and parses its checkpoint.
  // DataLoss naming the reason if it is malformed, signed by no trusted key,
  // or a trusted key's signature fails.
  absl::StatusOr<chain::Checkpoint> VerifyCheckpoint(
      std::string_view note) const;

 private:
  std::vector<chain::NoteVerifierKey> named_;
  std::vector<std::string> unnamed_;  // raw public keys from PEM
};

// Parses a checkpoint note's text WITHOUT checking any signature. DataLoss if
// the note has no signature block or its text is not a checkpoint.
absl::StatusOr<chain::Checkpoint> ParseCheckpointNote(std::string_view note);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_TRUSTED_KEYS_H_
