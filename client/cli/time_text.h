// Timestamps and durations as the command line reads and prints them.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_CLIENT_CLI_TIME_TEXT_H_
#define INDELIBLE_CLIENT_CLI_TIME_TEXT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace indelible::cli {

// Nanoseconds since the Unix epoch from either a decimal integer
// ("1700000000123456789") or RFC 3339 text ("2023-11-14T22:13:20.123Z",
// "2023-11-14T23:13:20+01:00"). InvalidArgument for anything else, or a time
// before the epoch or after 2262-04-11 (the int64 nanosecond range).
absl::StatusOr<uint64_t> ParseTimestamp(std::string_view text);

// RFC 3339 in UTC with as many fractional digits as needed:
// "2023-11-14T22:13:20.123Z". Beyond the int64 range: the decimal value.
std::string FormatTimestamp(uint64_t ns);

// A positive duration: "10s", "500ms", "1m30s", "1.5s" (Go syntax), or a bare
// number of seconds ("10"). InvalidArgument otherwise.
absl::StatusOr<std::chrono::milliseconds> ParseTimeout(std::string_view text);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_TIME_TEXT_H_
