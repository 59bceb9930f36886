// What the `indelible` command reads (client/cli/): event JSON lines from
// --stdin, timestamps and timeouts from flags. Any text gives a value or an
// InvalidArgument, never an exception or a crash; a timestamp prints to text
// that parses back to the same nanosecond.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "client/cli/event_json.h"
#include "client/cli/time_text.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto event = cli::ParseEventJson(in);
  if (!event.ok()) FUZZ_CHECK(absl::IsInvalidArgument(event.status()));

  auto ns = cli::ParseTimestamp(in);
  if (ns.ok()) {
    FUZZ_CHECK(*ns <= uint64_t{std::numeric_limits<int64_t>::max()});
    auto again = cli::ParseTimestamp(cli::FormatTimestamp(*ns));
    FUZZ_CHECK(again.ok() && *again == *ns);
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(ns.status()));
  }

  auto timeout = cli::ParseTimeout(in);
  if (timeout.ok()) FUZZ_CHECK(timeout->count() > 0);
  return 0;
}
