// Witness cosignatures: C2SP tlog-cosignature, Ed25519 "cosignature/v1"
// (signature type 0x04 of signed-note).
//
//   key_id    = SHA-256(name || 0x0A || 0x04 || pubkey)[:4]
//   message   = "cosignature/v1\n" || "time " || decimal(ts) || "\n" || body
//   line      = "— " name " " base64(key_id || u64(ts) || Ed25519(message))
//   "\n" verifier key string = <name>+<hex(key_id)>+<base64(0x04 || pubkey)>
//
// `body` is the note text (every line up to the blank line, each with its
// newline) and ts is seconds since the epoch, at most 2^63 - 1. A cosigned
// note is the log's signed note with cosignature lines appended.
//
// Thread-safe: pure functions; a Cosigner is immutable.
#ifndef INDELIBLE_VERIFIER_CHAIN_COSIGNATURE_H_
#define INDELIBLE_VERIFIER_CHAIN_COSIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::chain {

inline constexpr uint64_t kMaxCosignatureTime = (uint64_t{1} << 63) - 1;

// A witness's public key, as a verifier is configured with it.
struct CosignerKey {
  std::string name;
  std::string public_key;  // raw 32 bytes
  uint32_t key_id = 0;

  bool operator==(const CosignerKey&) const = default;
};

uint32_t CosignerKeyId(std::string_view name, std::string_view public_key);
CosignerKey MakeCosignerKey(std::string name, std::string public_key);
std::string CosignerKeyString(const CosignerKey& key);
// InvalidArgument if malformed, the type byte is not 0x04, or the id does
// not match the key.
absl::StatusOr<CosignerKey> ParseCosignerKey(std::string_view s);

// The bytes a cosignature signs. REQUIRES: ts <= kMaxCosignatureTime.
std::string CosignedMessage(std::string_view body, uint64_t ts);

class Cosigner {
 public:
  // REQUIRES: name is non-empty and has no spaces, '+' or newlines.
  Cosigner(std::string name, Ed25519PrivateKey key);

  // The signature line (with its newline) cosigning note text `body` at
  // time ts. REQUIRES: ts <= kMaxCosignatureTime.
  std::string SignatureLine(std::string_view body, uint64_t ts) const;

  const CosignerKey& key() const { return key_; }

 private:
  Ed25519PrivateKey private_key_;
  CosignerKey key_;
};

// OK iff `sig` (a signature line's name, id and bytes after the id) is a
// valid cosignature of `body` by `key`; sets *ts. DataLoss otherwise.
absl::Status VerifyCosignature(const CosignerKey& key, std::string_view body,
                               const NoteSignature& sig, uint64_t* ts);

// Which witnesses a verifier trusts, and how many must have cosigned.
struct WitnessPolicy {
  std::vector<CosignerKey> witnesses;
  size_t quorum = 0;
};

// InvalidArgument if the quorum exceeds the number of distinct witnesses
// (distinct public keys).
absl::Status ValidateWitnessPolicy(const WitnessPolicy& policy);

struct WitnessCosignature {
  std::string name;
  uint32_t key_id = 0;
  uint64_t timestamp = 0;
};

// Checks a note's cosignatures against the policy: lines whose name and
// key id match no witness are ignored; a matching line that does not
// verify rejects the note (DataLoss); each witness (public key) counts once
// however often it signed or is listed. Returns one entry per distinct witness
// that cosigned, in policy order. DataLoss if the note is malformed or fewer
// than policy.quorum witnesses cosigned; InvalidArgument for a bad policy. The
// log's own signature is not checked here (VerifyCheckpointV2 does).
absl::StatusOr<std::vector<WitnessCosignature>> VerifyCosignatures(
    std::string_view note, const WitnessPolicy& policy);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_COSIGNATURE_H_
