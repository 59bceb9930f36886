#include "verifier/chain/hash.h"

// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP,
// but kept: see Hasher.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

constexpr std::string_view kGenesisTag{"indelible/v1/genesis\0", 21};
constexpr std::string_view kEntryTag{"indelible/v1/entry\0", 19};

// One reusable context per thread. SHA-256 through OpenSSL's own SHA256_*
// functions: the same code as EVP's, without the provider dispatch and the
// context allocation EVP_DigestInit_ex2 makes for every hash (a fifth of the
// time of hashing a tree node).
class Hasher {
 public:
  void Init() { SHA256_Init(&ctx_); }
  void Update(std::string_view s) { SHA256_Update(&ctx_, s.data(), s.size()); }
  Digest Final() {
    Digest d;
    SHA256_Final(d.data(), &ctx_);
    return d;
  }

 private:
  SHA256_CTX ctx_;
};

Hasher& ThreadHasher() {
  thread_local Hasher h;
  return h;
}

}  // namespace

bool DigestFromBytes(std::string_view bytes, Digest* out) {
  if (bytes.size() != out->size()) return false;
  std::memcpy(out->data(), bytes.data(), out->size());
  return true;
}

bool SaltFromBytes(std::string_view bytes, Salt* out) {
  if (bytes.size() != out->size()) return false;
  std::memcpy(out->data(), bytes.data(), out->size());
  return true;
}

Digest Sha256(std::string_view a, std::string_view b) {
  Hasher& h = ThreadHasher();
  h.Init();
  h.Update(a);
  h.Update(b);
  return h.Final();
}

struct Sha256Stream::Ctx {
  Hasher hasher;
};

Sha256Stream::Sha256Stream() : ctx_(new Ctx) { ctx_->hasher.Init(); }
Sha256Stream::~Sha256Stream() { delete ctx_; }
void Sha256Stream::Update(std::string_view data) { ctx_->hasher.Update(data); }
Digest Sha256Stream::Final() { return ctx_->hasher.Final(); }

absl::Status RandomSalt(Salt* salt) {
  // Each RAND_bytes call costs about 0.65 us whatever its size (locking and
  // reseed checks of the DRBG), several times the hashing of a whole event;
  // so a thread draws 64 salts at once. Each salt is wiped from the buffer
  // as it is handed out.
  constexpr size_t kSalts = 64;
  thread_local std::array<uint8_t, kSalts * kSaltSize> buffer;
  thread_local size_t used = kSalts;
  if (used == kSalts) {
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
      return absl::InternalError("CSPRNG failed to produce a salt");
    }
    used = 0;
  }
  uint8_t* next = buffer.data() + used * kSaltSize;
  std::memcpy(salt->data(), next, kSaltSize);
  OPENSSL_cleanse(next, kSaltSize);
  ++used;
  return absl::OkStatus();
}

Digest BodyDigest(const Salt& salt, std::string_view ce) {
  return Sha256(AsBytes(salt), ce);
}

Digest BodyDigest(std::string_view salt, std::string_view ce) {
  return Sha256(salt, ce);
}

Digest Genesis(std::string_view tenant) {
  std::string buf(kGenesisTag);
  PutStr(&buf, tenant);
  return Sha256(buf);
}

Digest EntryHash(std::string_view tenant, uint64_t seq, uint64_t received_at_ns,
                 const Digest& prev, const Digest& body_digest) {
  // Hashed from three pieces on the stack, not a heap buffer: this runs
  // once for every record written and every record checked.
  auto put = [](char* p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v);
  };
  char head[kEntryTag.size() + 4];
  std::memcpy(head, kEntryTag.data(), kEntryTag.size());
  put(head + kEntryTag.size(), tenant.size(), 4);
  char tail[16 + 2 * kDigestSize];
  put(tail, seq, 8);
  put(tail + 8, received_at_ns, 8);
  std::memcpy(tail + 16, prev.data(), kDigestSize);
  std::memcpy(tail + 16 + kDigestSize, body_digest.data(), kDigestSize);
  Hasher& h = ThreadHasher();
  h.Init();
  h.Update(std::string_view(head, sizeof(head)));
  h.Update(tenant);
  h.Update(std::string_view(tail, sizeof(tail)));
  return h.Final();
}

bool IsValidTenantId(std::string_view t) {
  if (t.empty() || t.size() > 63) return false;
  auto lower_digit = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!lower_digit(t[0])) return false;
  for (char c : t.substr(1)) {
    if (!lower_digit(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string ToHex(std::string_view bytes) {
  return absl::BytesToHexString(ToAbsl(bytes));
}

bool FromHex(std::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  *bytes = absl::HexStringToBytes(ToAbsl(hex));
  return true;
}

}  // namespace indelible::chain
