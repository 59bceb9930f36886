#include "client/cli/time_text.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "verifier/chain/text.h"

namespace indelible::cli {

using chain::ToAbsl;

absl::StatusOr<uint64_t> ParseTimestamp(std::string_view text) {
  uint64_t ns = 0;
  if (chain::ParseDecimal(text, &ns)) {
    if (ns > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat("timestamp out of range: ", ToAbsl(text)));
    }
    return ns;
  }
  absl::Time t;
  std::string why;
  if (!absl::ParseTime(absl::RFC3339_full, ToAbsl(text), &t, &why)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an RFC 3339 time or integer nanoseconds: \"", ToAbsl(text), "\""));
  }
  if (t < absl::UnixEpoch() ||
      t > absl::FromUnixNanos(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp out of range: ", ToAbsl(text)));
  }
  return static_cast<uint64_t>(absl::ToUnixNanos(t));
}

std::string FormatTimestamp(uint64_t ns) {
  if (ns > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::StrCat(ns);
  }
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                          absl::FromUnixNanos(static_cast<int64_t>(ns)),
                          absl::UTCTimeZone());
}

absl::StatusOr<std::chrono::milliseconds> ParseTimeout(std::string_view text) {
  absl::Duration d;
  uint64_t seconds = 0;
  if (chain::ParseDecimal(text, &seconds) && seconds <= 1000000) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(ToAbsl(text), &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a duration (e.g. 10s, 500ms): \"", ToAbsl(text), "\""));
  }
  const int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms <= 0 || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timeout must be at least 1ms and finite: \"", ToAbsl(text), "\""));
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace indelible::cli
