#include "verifier/chain/signing.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>

namespace indelible::chain {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::shared_ptr<EVP_PKEY> Wrap(EVP_PKEY* p) {
  return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

bool IsEd25519(EVP_PKEY* p) { return EVP_PKEY_get_id(p) == EVP_PKEY_ED25519; }

}  // namespace

Ed25519PrivateKey::Ed25519PrivateKey(std::shared_ptr<EVP_PKEY> pkey)
    : pkey_(std::move(pkey)) {
  public_key_.resize(kEd25519PublicKeySize);
  size_t len = public_key_.size();
  if (EVP_PKEY_get_raw_public_key(
          pkey_.get(), reinterpret_cast<unsigned char*>(public_key_.data()),
          &len) != 1 ||
      len != kEd25519PublicKeySize) {
    std::abort();  // An Ed25519 key always has a 32-byte public half.
  }
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromPem(
    std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
             BIO_free);
  if (!bio) return absl::ResourceExhaustedError("out of memory");
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (p == nullptr) {
    return absl::InvalidArgumentError("not a PEM private key");
  }
  auto key = Wrap(p);
  if (!IsEd25519(p)) {
    return absl::InvalidArgumentError("private key is not Ed25519");
  }
  return Ed25519PrivateKey(std::move(key));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(
    std::string_view seed) {
  if (seed.size() != 32) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  EVP_PKEY* p = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (p == nullptr) return absl::InternalError("cannot load Ed25519 seed");
  return Ed25519PrivateKey(Wrap(p));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  EVP_PKEY* p = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (p == nullptr) return absl::InternalError("Ed25519 key generation failed");
  return Ed25519PrivateKey(Wrap(p));
}

std::string Ed25519PrivateKey::PrivateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr,
                                       nullptr, 0, nullptr, nullptr) != 1) {
    std::abort();
  }
  return BioContents(bio.get());
}

std::string Ed25519PrivateKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) std::abort();
  return BioContents(bio.get());
}

std::string Ed25519PrivateKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string sig(kEd25519SignatureSize, '\0');
  size_t len = sig.size();
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      len != kEd25519SignatureSize) {
    std::abort();  // Signing with a valid key cannot fail but for memory.
  }
  return sig;
}

absl::Status VerifyEd25519(std::string_view public_key,
                           std::string_view message,
                           std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  if (signature.size() != kEd25519SignatureSize) {
    return absl::DataLossError("Ed25519 signature must be 64 bytes");
  }
  auto pkey = Wrap(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  if (!pkey) return absl::InvalidArgumentError("invalid Ed25519 public key");
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                                   pkey.get()) != 1) {
    return absl::InternalError("cannot initialise Ed25519 verification");
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
      signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
      message.size());
  if (rc != 1) return absl::DataLossError("Ed25519 signature does not verify");
  return absl::OkStatus();
}

absl::StatusOr<std::string> PublicKeyFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
             BIO_free);
  if (!bio) return absl::ResourceExhaustedError("out of memory");
  auto pkey = Wrap(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return absl::InvalidArgumentError("not a PEM public key");
  if (!IsEd25519(pkey.get())) {
    return absl::InvalidArgumentError("public key is not Ed25519");
  }
  std::string raw(kEd25519PublicKeySize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(
          pkey.get(), reinterpret_cast<unsigned char*>(raw.data()), &len) !=
      1) {
    return absl::InvalidArgumentError("cannot read Ed25519 public key");
  }
  return raw;
}

absl::StatusOr<std::string> PublicKeyToPem(std::string_view public_key) {
  auto pkey = Wrap(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  if (!pkey) return absl::InvalidArgumentError("invalid Ed25519 public key");
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return absl::InternalError("cannot encode public key");
  }
  return BioContents(bio.get());
}

}  // namespace indelible::chain
