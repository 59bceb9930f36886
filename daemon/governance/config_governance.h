// Governed settings: the security- and retention-relevant part of a
// DaemonConfig (auth, retention, ingest rules, TLS files, the signing key,
// backups, witnesses) as flat `key -> value` text, so that a change can be recorded
// with its content (old -> new) and the settings last applied can be kept in
// the store across restarts (docs/SECURITY.md, "Configuration changes").
//
// Keys are dotted paths; entries of lists and maps put their names in
// brackets: `auth.bindings[reader][acme]`, `retention.tenants[acme][trace]`,
// `auth.tokens[<sha256>]`. A key that is absent on one side is kUnset.
#ifndef INDELIBLE_DAEMON_GOVERNANCE_CONFIG_GOVERNANCE_H_
#define INDELIBLE_DAEMON_GOVERNANCE_CONFIG_GOVERNANCE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/governance/config.h"

namespace indelible {

using GovernedSettings = std::map<std::string, std::string>;

inline constexpr char kUnset[] = "(unset)";

GovernedSettings GovernedSettingsOf(const DaemonConfig& config);

// The store's form (a JSON object of strings) and back; DataLoss if the
// text is not one.
std::string EncodeGovernedSettings(const GovernedSettings& settings);
absl::StatusOr<GovernedSettings> DecodeGovernedSettings(std::string_view text);

struct SettingChange {
  std::string key;
  std::string old_value;  // kUnset if absent
  std::string new_value;  // kUnset if absent
  // The one tenant the setting concerns; nullopt: every tenant.
  std::optional<std::string> tenant;
};

// Every key whose value differs, in key order.
std::vector<SettingChange> DiffGovernedSettings(const GovernedSettings& old_settings,
                                                const GovernedSettings& new_settings);

// What in `new_settings` weakens the two-person rule, read recording or
// retention compared with `old_settings`, one line each (empty: nothing):
// two_person_rule, record_reads or require_read_reason (or auth itself)
// turned off; two principals of one person made two persons; a shorter
// retention for any tenant and category; a backup retention that keeps
// fewer backups or keeps them for less time; a witness removed or given
// another key, or a lower witness_quorum.
std::vector<std::string> FindWeakenings(const GovernedSettings& old_settings,
                                        const GovernedSettings& new_settings);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_GOVERNANCE_CONFIG_GOVERNANCE_H_
