#include "verifier/store/crc32c.h"

#include <dlfcn.h>
#include <nmmintrin.h>

#include <array>
#include <cstring>

namespace indelible::store {
namespace {

constexpr uint32_t kCastagnoliReflected = 0x82f63b78u;

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kCastagnoliReflected : 0);
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t TableCrc(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t HardwareCrc(uint32_t crc, const uint8_t* p,
                                                        size_t n) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

bool HasSse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}

// a(x) * b(x) mod P(x), bit-reflected (zlib's multmodp).
uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31;
  uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kCastagnoliReflected : b >> 1;
  }
  return p;
}

// x^(8 * n) mod P(x): appending n zero bytes.
uint32_t XPow8N(size_t n) {
  uint32_t p = 1u << 31;     // x^0
  uint32_t sq = 1u << 23;    // x^8, then x^16, x^32, ...
  for (; n != 0; n >>= 1) {
    if (n & 1) p = MultModP(sq, p);
    sq = MultModP(sq, sq);
  }
  return p;
}

}  // namespace

namespace internal {
uint32_t Crc32cByTable(uint32_t crc, const char* data, size_t n) {
  return TableCrc(crc, reinterpret_cast<const uint8_t*>(data), n);
}
uint32_t Crc32cBySse42(uint32_t crc, const char* data, size_t n) {
  return HardwareCrc(crc, reinterpret_cast<const uint8_t*>(data), n);
}
}  // namespace internal

std::string_view Crc32cImplementation() {
  // A static link has no dynamic symbol for it (and would fail on two
  // definitions); a shared librocksdb binds its calls to the one found here.
  void* bound = dlsym(RTLD_DEFAULT, "_ZN7rocksdb6crc32c6ExtendEjPKcm");
  if (bound != nullptr && bound != reinterpret_cast<void*>(&rocksdb::crc32c::Extend)) {
    return "librocksdb";
  }
  return HasSse42() ? "sse4.2" : "table";
}

}  // namespace indelible::store

namespace rocksdb::crc32c {

uint32_t Extend(uint32_t init_crc, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  const uint32_t crc = init_crc ^ 0xffffffffu;
  const uint32_t out = indelible::store::HasSse42()
                           ? indelible::store::HardwareCrc(crc, p, n)
                           : indelible::store::TableCrc(crc, p, n);
  return out ^ 0xffffffffu;
}

uint32_t Crc32cCombine(uint32_t crc1, uint32_t crc2, size_t crc2len) {
  return indelible::store::MultModP(indelible::store::XPow8N(crc2len), crc1) ^ crc2;
}

std::string IsFastCrc32Supported() {
  return std::string(indelible::store::Crc32cImplementation()) + " (indelible)";
}

}  // namespace rocksdb::crc32c
