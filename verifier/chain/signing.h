// Ed25519 keys and signatures (OpenSSL EVP), the only signature scheme of
// Indelible: checkpoints, reports and deletion certificates use it.
//
// Thread-safe: a key is immutable once made; Sign may be called from many
// threads at once.
#ifndef INDELIBLE_VERIFIER_CHAIN_SIGNING_H_
#define INDELIBLE_VERIFIER_CHAIN_SIGNING_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace indelible::chain {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519PrivateKey {
 public:
  // PKCS#8 PEM ("BEGIN PRIVATE KEY"), as `openssl genpkey -algorithm ed25519`
  // writes it. InvalidArgument if it is not an Ed25519 private key.
  static absl::StatusOr<Ed25519PrivateKey> FromPem(std::string_view pem);
  // The 32-byte RFC 8032 seed.
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(std::string_view seed);
  static absl::StatusOr<Ed25519PrivateKey> Generate();

  std::string PrivateKeyPem() const;
  std::string PublicKeyPem() const;
  // The raw 32-byte public key.
  const std::string& PublicKey() const { return public_key_; }

  // The 64-byte signature of `message`.
  std::string Sign(std::string_view message) const;

 private:
  explicit Ed25519PrivateKey(std::shared_ptr<EVP_PKEY> pkey);
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string public_key_;
};

// OK iff `signature` is a valid Ed25519 signature of `message` under the raw
// 32-byte `public_key`; DataLoss otherwise.
absl::Status VerifyEd25519(std::string_view public_key,
                           std::string_view message,
                           std::string_view signature);

// Raw 32-byte public key from a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
absl::StatusOr<std::string> PublicKeyFromPem(std::string_view pem);
// The PEM form of a raw 32-byte public key.
absl::StatusOr<std::string> PublicKeyToPem(std::string_view public_key);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_SIGNING_H_
