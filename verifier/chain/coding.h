// Fixed-width big-endian integers and length-prefixed strings: the only
// primitives of the Indelible byte format (docs/FORMAT.md).
//
//   u32(x) = 4 bytes big-endian, u64(x) = 8 bytes big-endian,
//   str(x) = u32(len(x)) || x
//
// Thread-safe: all functions are pure.
#ifndef INDELIBLE_VERIFIER_CHAIN_CODING_H_
#define INDELIBLE_VERIFIER_CHAIN_CODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace indelible::chain {

inline void PutU32(std::string* dst, uint32_t v) {
  char buf[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                 static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(buf, sizeof(buf));
}

inline void PutU64(std::string* dst, uint64_t v) {
  PutU32(dst, static_cast<uint32_t>(v >> 32));
  PutU32(dst, static_cast<uint32_t>(v));
}

// REQUIRES: s.size() < 2^32 (callers validate sizes far below that).
inline void PutStr(std::string* dst, std::string_view s) {
  PutU32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s.data(), s.size());
}

// REQUIRES: p points at 4 (resp. 8) readable bytes.
inline uint32_t DecodeU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
         (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

inline uint64_t DecodeU64(const char* p) {
  return (uint64_t{DecodeU32(p)} << 32) | DecodeU32(p + 4);
}

// Consume from the front of *in. Return false (leaving *in unspecified) if
// too few bytes remain.
inline bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeU32(in->data());
  in->remove_prefix(4);
  return true;
}

inline bool GetU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeU64(in->data());
  in->remove_prefix(8);
  return true;
}

inline bool GetStr(std::string_view* in, std::string_view* s) {
  uint32_t len;
  if (!GetU32(in, &len) || in->size() < len) return false;
  *s = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_CODING_H_
