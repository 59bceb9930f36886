// The daemon's configuration (daemon/governance/config.h) and the retention durations
// in it (daemon/ops/retention.h): any YAML text gives a config or an
// InvalidArgument, never an exception or a crash; a duration prints back to
// text that parses to the same duration.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/governance/config.h"
#include "daemon/ops/retention.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string in(reinterpret_cast<const char*>(data), size);

  auto config = ParseConfig(in);
  if (config.ok()) {
    (void)ValidateConfig(*config);
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(config.status()));
  }

  auto seconds = ParseRetentionDuration(in);
  if (seconds.ok()) {
    auto again = ParseRetentionDuration(FormatRetentionDuration(*seconds));
    FUZZ_CHECK(again.ok() && *again == *seconds);
  }
  return 0;
}
