// The two renderings of a check's outcome: a human summary and JSON (its
// shape is documented in docs/VERIFY.md and is a stable interface).
#ifndef INDELIBLE_VERIFIER_CLI_CHECK_OUTPUT_H_
#define INDELIBLE_VERIFIER_CLI_CHECK_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "verifier/check/finding.h"
#include "verifier/check/store_check.h"

namespace indelible::verify {

struct CheckReport {
  std::string data_dir;
  std::string tenant;  // the --tenant filter, or empty
  check::StoreCheckResult result;
  std::vector<check::Finding> findings;  // the first --max-findings
  uint64_t findings_omitted = 0;
};

nlohmann::ordered_json CheckReportJson(const CheckReport& report);
std::string CheckReportText(const CheckReport& report);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_CHECK_OUTPUT_H_
