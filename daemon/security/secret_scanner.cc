#include "daemon/security/secret_scanner.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/ascii.h"

namespace indelible {
namespace {

// Shorter "Bearer xyz" is more often prose ("Bearer authentication") than
// a credential.
constexpr size_t kMinBearerTokenChars = 16;
constexpr size_t kAwsKeyIdChars = 20;
// The label between "-----BEGIN " and "-----" ("RSA PRIVATE KEY", ...).
constexpr size_t kMaxPemLabelChars = 64;

struct Span {
  size_t begin;
  size_t end;
  SecretKind kind;
};

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

bool IsKeyChar(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }

// RFC 6750 b64token, without the trailing '=' padding.
bool IsTokenChar(char c) {
  return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
         c == '/';
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Where an unquoted key=value value ends.
bool IsValueEnd(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '&' || c == ';' ||
         c == '"' || c == '\'';
}

void FindBearer(std::string_view s, std::vector<Span>* out) {
  for (std::string_view word : {"Bearer", "bearer", "BEARER"}) {
    for (size_t p = s.find(word); p != std::string_view::npos; p = s.find(word, p + 1)) {
      if (p > 0 && IsKeyChar(s[p - 1])) continue;
      size_t i = p + word.size();
      const size_t blanks = i;
      while (i < s.size() && IsBlank(s[i])) ++i;
      if (i == blanks) continue;
      const size_t token = i;
      while (i < s.size() && IsTokenChar(s[i])) ++i;
      if (i - token < kMinBearerTokenChars) continue;
      while (i < s.size() && s[i] == '=') ++i;
      out->push_back({token, i, SecretKind::kBearerToken});
    }
  }
}

void FindAwsKeyIds(std::string_view s, std::vector<Span>* out) {
  for (std::string_view prefix : {"AKIA", "ASIA"}) {
    for (size_t p = s.find(prefix); p != std::string_view::npos;
         p = s.find(prefix, p + 1)) {
      if (p > 0 && IsAlnum(s[p - 1])) continue;
      if (s.size() - p < kAwsKeyIdChars) break;
      const size_t end = p + kAwsKeyIdChars;
      if (end < s.size() && IsAlnum(s[end])) continue;
      bool ok = true;
      for (size_t i = p + prefix.size(); i < end && ok; ++i) {
        ok = absl::ascii_isupper(static_cast<unsigned char>(s[i])) ||
             absl::ascii_isdigit(static_cast<unsigned char>(s[i]));
      }
      if (ok) out->push_back({p, end, SecretKind::kAwsAccessKeyId});
    }
  }
}

void FindPrivateKeys(std::string_view s, std::vector<Span>* out) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kEnd = "-----END ";
  constexpr std::string_view kDashes = "-----";
  size_t p = s.find(kBegin);
  while (p != std::string_view::npos) {
    const size_t label = p + kBegin.size();
    const size_t label_end = s.find(kDashes, label);
    if (label_end == std::string_view::npos) return;
    const std::string_view l = s.substr(label, label_end - label);
    if (l.size() > kMaxPemLabelChars || l.find('\n') != std::string_view::npos ||
        !l.ends_with("PRIVATE KEY")) {
      p = s.find(kBegin, label);
      continue;
    }
    size_t end = s.size();
    const size_t end_line = s.find(kEnd, label_end + kDashes.size());
    if (end_line != std::string_view::npos) {
      const size_t close = s.find(kDashes, end_line + kEnd.size());
      if (close != std::string_view::npos) end = close + kDashes.size();
    }
    out->push_back({p, end, SecretKind::kPrivateKey});
    p = s.find(kBegin, end);
  }
}

// REQUIRES: `suffix` is lower case.
bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s.remove_prefix(s.size() - suffix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) != suffix[i]) return false;
  }
  return true;
}

// The kind of secret a key names, or false.
bool KeyKind(std::string_view key, SecretKind* kind) {
  if (EndsWithIgnoreCase(key, "secret_access_key")) {
    *kind = SecretKind::kAwsSecretAccessKey;
  } else if (EndsWithIgnoreCase(key, "password") || EndsWithIgnoreCase(key, "passwd")) {
    *kind = SecretKind::kPassword;
  } else if (EndsWithIgnoreCase(key, "secret")) {
    *kind = SecretKind::kSecret;
  } else if (EndsWithIgnoreCase(key, "token")) {
    *kind = SecretKind::kToken;
  } else {
    return false;
  }
  return true;
}

// key=value and key: value pairs; `sep` is '=' or ':'. The key may be
// quoted ("password": "x"), the value too (then it runs to the closing
// quote, skipping backslash escapes, or to the end of the line).
void FindKeyValues(std::string_view s, char sep, std::vector<Span>* out) {
  for (size_t p = s.find(sep); p != std::string_view::npos; p = s.find(sep, p + 1)) {
    size_t k = p;
    while (k > 0 && IsBlank(s[k - 1])) --k;
    if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\'')) --k;
    const size_t key_end = k;
    while (k > 0 && IsKeyChar(s[k - 1])) --k;
    SecretKind kind;
    if (k == key_end || !KeyKind(s.substr(k, key_end - k), &kind)) continue;
    size_t v = p + 1;
    while (v < s.size() && IsBlank(s[v])) ++v;
    char quote = 0;
    if (v < s.size() && (s[v] == '"' || s[v] == '\'')) quote = s[v++];
    size_t e = v;
    if (quote != 0) {
      // A backslash escapes the next byte, as in JSON.
      while (e < s.size() && s[e] != quote && s[e] != '\n') e += s[e] == '\\' ? 2 : 1;
      e = std::min(e, s.size());
    } else {
      while (e < s.size() && !IsValueEnd(s[e])) ++e;
    }
    if (e == v) continue;
    out->push_back({v, e, kind});
    p = e;
  }
}

// The bytes each detector's match must hold: a value without them skips
// that detector.
enum Trigger : uint8_t {
  kDash = 1,        // "-----BEGIN "
  kB = 2,           // "Bearer", "bearer", "BEARER"
  kA = 4,           // "AKIA", "ASIA"
  kEquals = 8,      // key=value
  kColon = 16,      // key: value
};

constexpr std::array<uint8_t, 256> TriggerTable() {
  std::array<uint8_t, 256> t{};
  t['-'] = kDash;
  t['B'] = kB;
  t['b'] = kB;
  t['A'] = kA;
  t['='] = kEquals;
  t[':'] = kColon;
  return t;
}
constexpr std::array<uint8_t, 256> kTriggerOf = TriggerTable();

// The triggers present in `s`, in one pass: most values hold few of them,
// and the detectors' own searches run only for those.
uint32_t TriggersIn(std::string_view s) {
  uint32_t found = 0;
  size_t i = 0;
#if defined(__SSE2__)
  if (s.size() >= 16) {
    const __m128i dash = _mm_set1_epi8('-'), upper_b = _mm_set1_epi8('B'),
                  lower_b = _mm_set1_epi8('b'), a = _mm_set1_epi8('A'),
                  equals = _mm_set1_epi8('='), colon = _mm_set1_epi8(':');
    __m128i any_dash = _mm_setzero_si128(), any_b = any_dash, any_a = any_dash,
            any_equals = any_dash, any_colon = any_dash;
    for (; i + 16 <= s.size(); i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      any_dash = _mm_or_si128(any_dash, _mm_cmpeq_epi8(v, dash));
      any_b = _mm_or_si128(any_b, _mm_or_si128(_mm_cmpeq_epi8(v, upper_b),
                                               _mm_cmpeq_epi8(v, lower_b)));
      any_a = _mm_or_si128(any_a, _mm_cmpeq_epi8(v, a));
      any_equals = _mm_or_si128(any_equals, _mm_cmpeq_epi8(v, equals));
      any_colon = _mm_or_si128(any_colon, _mm_cmpeq_epi8(v, colon));
    }
    if (_mm_movemask_epi8(any_dash) != 0) found |= kDash;
    if (_mm_movemask_epi8(any_b) != 0) found |= kB;
    if (_mm_movemask_epi8(any_a) != 0) found |= kA;
    if (_mm_movemask_epi8(any_equals) != 0) found |= kEquals;
    if (_mm_movemask_epi8(any_colon) != 0) found |= kColon;
  }
#endif
  for (; i < s.size(); ++i) found |= kTriggerOf[static_cast<unsigned char>(s[i])];
  return found;
}

}  // namespace

std::string_view SecretKindName(SecretKind kind) {
  static constexpr std::string_view kNames[kSecretKinds] = {
      "bearer_token", "aws_access_key_id", "aws_secret_access_key", "private_key",
      "password",     "secret",            "token"};
  return kNames[static_cast<size_t>(kind)];
}

bool RedactSecrets(std::string* value, SecretCounts* counts) {
  const std::string_view s = *value;
  const uint32_t triggers = TriggersIn(s);
  if (triggers == 0) return false;
  std::vector<Span> spans;
  if (triggers & kDash) FindPrivateKeys(s, &spans);
  if (triggers & kB) FindBearer(s, &spans);
  if (triggers & kA) FindAwsKeyIds(s, &spans);
  if (triggers & kEquals) FindKeyValues(s, '=', &spans);
  if (triggers & kColon) FindKeyValues(s, ':', &spans);
  if (spans.empty()) return false;

  // Overlapping matches merge into the earliest, so nothing of either stays.
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t i = 0; i < spans.size();) {
    Span cur = spans[i++];
    while (i < spans.size() && spans[i].begin < cur.end) {
      cur.end = std::max(cur.end, spans[i++].end);
    }
    out.append(s.substr(pos, cur.begin - pos));
    out.append("[REDACTED:").append(SecretKindName(cur.kind)).append("]");
    ++(*counts)[static_cast<size_t>(cur.kind)];
    pos = cur.end;
  }
  out.append(s.substr(pos));
  *value = std::move(out);
  return true;
}

}  // namespace indelible
