// Built-in secret detectors of the ingest rules (docs/SECURITY.md, "Ingest
// rules"): find credentials that callers put into free-text fields by
// mistake and replace only the secret part by "[REDACTED:<kind>]".
//
//   bearer_token           "Bearer <token>" ("Bearer", "bearer" or "BEARER",
//                          blanks, then at least 16 RFC 6750 token chars)
//   aws_access_key_id      AKIA or ASIA + 16 of [A-Z0-9], not inside a word
//   private_key            a PEM block "-----BEGIN ...PRIVATE KEY-----" up to
//                          and including its "-----END ...-----" line (to the
//                          end of the value if the END line is missing)
//   aws_secret_access_key  the value of a key=value or key: value pair
//   password               whose key ends (case-insensitively) in
//   secret                 secret_access_key, password or passwd, secret,
//   token                  token respectively
//
// The scanner is written by hand: one pass finds which of the bytes a match
// must start with or hold ('-', 'B', 'b', 'A', '=', ':') the value has, and
// only the detectors those allow search it, their fixed prefixes with
// memchr-based searches (docs/PERFORMANCE.md, "Ingest rules").
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_DAEMON_SECURITY_SECRET_SCANNER_H_
#define INDELIBLE_DAEMON_SECURITY_SECRET_SCANNER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace indelible {

enum class SecretKind : uint8_t {
  kBearerToken,
  kAwsAccessKeyId,
  kAwsSecretAccessKey,
  kPrivateKey,
  kPassword,
  kSecret,
  kToken,
};
inline constexpr size_t kSecretKinds = 7;

// "bearer_token", "aws_access_key_id", ...: the <kind> of the marker.
std::string_view SecretKindName(SecretKind kind);

// Number of secrets replaced, by kind.
using SecretCounts = std::array<uint32_t, kSecretKinds>;

// Replaces every secret found in *value by "[REDACTED:<kind>]" and adds the
// replacements to *counts. Returns whether anything was replaced. Matches
// start and end at ASCII bytes, so valid UTF-8 stays valid.
bool RedactSecrets(std::string* value, SecretCounts* counts);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SECURITY_SECRET_SCANNER_H_
