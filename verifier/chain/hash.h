// Hashing of the chain: body digest, genesis and entry hash, exactly as
// docs/FORMAT.md fixes them.
//
//   body_digest     = SHA-256(salt || CE)
//   genesis(tenant) = SHA-256("indelible/v1/genesis" || 0x00 || str(tenant))
//   entry_hash(n)   = SHA-256("indelible/v1/entry" || 0x00 || str(tenant)
//                             || u64(n) || u64(received_at_ns)
//                             || entry_hash(n-1) || body_digest)
//   entry_hash(0)   = genesis(tenant)
//
// Thread-safe: pure functions (SHA-256 through OpenSSL EVP).
#ifndef INDELIBLE_VERIFIER_CHAIN_HASH_H_
#define INDELIBLE_VERIFIER_CHAIN_HASH_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace indelible::chain {

inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kSaltSize = 16;

using Digest = std::array<uint8_t, kDigestSize>;
using Salt = std::array<uint8_t, kSaltSize>;

inline std::string_view AsBytes(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}
inline std::string_view AsBytes(const Salt& s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

// Copies 32 (resp. 16) bytes; false if `bytes` has another length.
bool DigestFromBytes(std::string_view bytes, Digest* out);
bool SaltFromBytes(std::string_view bytes, Salt* out);

// SHA-256 of the concatenation of `a` and `b`.
Digest Sha256(std::string_view a, std::string_view b = {});

// Incremental SHA-256, for data streamed in pieces (reports, files).
// Not thread-safe; one instance per stream.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  // Ends the stream. REQUIRES: called once.
  Digest Final();

 private:
  struct Ctx;
  Ctx* ctx_;
};

// Fills *salt from OpenSSL's CSPRNG (drawn 64 salts at a time per thread).
// Internal on failure (the process should not accept events it cannot salt).
absl::Status RandomSalt(Salt* salt);

Digest BodyDigest(const Salt& salt, std::string_view canonical_event);
Digest BodyDigest(std::string_view salt, std::string_view canonical_event);

Digest Genesis(std::string_view tenant);

Digest EntryHash(std::string_view tenant, uint64_t seq, uint64_t received_at_ns,
                 const Digest& prev, const Digest& body_digest);

// True iff `tenant` matches [a-z0-9][a-z0-9._-]{0,62}.
bool IsValidTenantId(std::string_view tenant);

// Lower-case hex of bytes, and its inverse (false on odd length / non-hex).
std::string ToHex(std::string_view bytes);
inline std::string ToHex(const Digest& d) { return ToHex(AsBytes(d)); }
bool FromHex(std::string_view hex, std::string* bytes);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_HASH_H_
