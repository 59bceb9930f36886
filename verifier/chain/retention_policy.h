// Retention policy records (docs/FORMAT.md section 15): the daemon records
// each tenant's effective retention policy in the tenant's own chain, as an
// event of category indelible.policy whose `policy` metadata value is the
// canonical text below; `indelible-verify check` reads them back to judge
// every pruned record (verifier/check/policy_history.h).
//
//   indelible/v1/retention-policy\n
//   tenant <tenant>\n
//   default <seconds>\n
//   min <seconds>\n
//   max <seconds>\n
//   legal_hold <true|false>\n
//   category <name> <seconds>\n      zero or more, names ascending (bytes)
//
// Numbers are decimal without leading zeros. Records of categories
// indelible.* are never pruned, whatever a policy says: a policy never
// lists them.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_RETENTION_POLICY_H_
#define INDELIBLE_VERIFIER_CHAIN_RETENTION_POLICY_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace indelible::chain {

inline constexpr std::string_view kPolicyCategory = "indelible.policy";
inline constexpr std::string_view kPolicyAction = "retention.policy";
inline constexpr std::string_view kPolicyMetadataKey = "policy";
inline constexpr std::string_view kPolicyTag = "indelible/v1/retention-policy";

// True for the categories that are never pruned (indelible.*).
bool IsNeverPruned(std::string_view category);

struct RetentionPolicy {
  std::string tenant;
  uint64_t default_seconds = 0;
  uint64_t min_seconds = 0;
  uint64_t max_seconds = 0;
  bool legal_hold = false;
  std::map<std::string, uint64_t, std::less<>> categories;

  // How long a body of `category` is kept: its own value, else the default.
  uint64_t Seconds(std::string_view category) const;
  // The shortest retention any category can have under this policy (for a
  // record whose category is unknown).
  uint64_t ShortestSeconds() const;
  bool operator==(const RetentionPolicy& o) const;
};

// The canonical text. Categories that are not valid event categories
// ([a-z0-9._-]+) or that are never pruned are left out: no record has them.
std::string FormatRetentionPolicy(const RetentionPolicy& policy);
// InvalidArgument naming the line if `text` is not canonical (the exact
// bytes FormatRetentionPolicy gives for what it parses to).
absl::StatusOr<RetentionPolicy> ParseRetentionPolicy(std::string_view text);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_RETENTION_POLICY_H_
