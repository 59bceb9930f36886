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

// What a check proves. Findings are proof of damage whatever the keys;
// otherwise the data counts as verified only if a key the auditor gave
// (--key, --key-pem) verified at least one checkpoint signature (a stored
// checkpoint's, or a supplied --checkpoint's). Fail closed: no trusted key,
// or no signature verified with one, is never "verified". Tenants with
// records that no such signature covers are listed (a tenant younger than
// the daemon's checkpoint interval has none yet, so they do not change the
// verdict). With a witness policy, every tenant with records must also have
// its newest v2 checkpoint cosigned by a quorum; otherwise the verdict is
// kBelowQuorum (exit 3, as not verified), naming the tenants.
enum class Verdict { kVerified, kFindings, kNoTrustedKey, kBelowQuorum };

struct Trust {
  Verdict verdict = Verdict::kNoTrustedKey;
  uint64_t trusted_signatures = 0;  // checkpoint signatures verified by given keys
  std::vector<std::string> unsigned_tenants;  // with records, no such signature
};

Trust JudgeTrust(const check::StoreCheckResult& result);

nlohmann::ordered_json CheckReportJson(const CheckReport& report);
std::string CheckReportText(const CheckReport& report);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_CHECK_OUTPUT_H_
