// Small text helpers over std::string_view. Debian's abseil is built with its
// own absl::string_view (not an alias of std::string_view), so the few absl
// string functions we use are wrapped here once.
#ifndef INDELIBLE_VERIFIER_CHAIN_TEXT_H_
#define INDELIBLE_VERIFIER_CHAIN_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace indelible::chain {

// The same bytes as the other library's string_view type.
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

inline std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(ToAbsl(bytes));
}

// Strict standard base64 with padding: false unless `b64` is exactly the
// encoding of the bytes it decodes to.
inline bool Base64Decode(std::string_view b64, std::string* bytes) {
  return absl::Base64Unescape(ToAbsl(b64), bytes) &&
         absl::Base64Escape(*bytes) == b64;
}

inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Decimal with no sign and no leading zeros ("0" itself is allowed).
inline bool ParseDecimal(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(ToAbsl(s), v);
}

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_TEXT_H_
