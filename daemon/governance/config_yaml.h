// Internal to the config parser (config*.cc): the YAML reading helpers and
// one parser per top-level section. Every error is InvalidArgument with a
// message "config: <path><key>: ...".
#ifndef INDELIBLE_DAEMON_GOVERNANCE_CONFIG_YAML_H_
#define INDELIBLE_DAEMON_GOVERNANCE_CONFIG_YAML_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "daemon/governance/config.h"
#include "yaml-cpp/yaml.h"

namespace indelible {
namespace config_yaml {

// Reads `node[key]` into *out if present; records the key as known.
template <typename T>
absl::Status Read(const YAML::Node& node, const std::string& path,
                  const std::string& key, std::set<std::string>* known,
                  T* out) {
  known->insert(key);
  const YAML::Node v = node[key];
  if (!v) return absl::OkStatus();
  try {
    *out = v.as<T>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", path, key, ": invalid value"));
  }
  return absl::OkStatus();
}

// Subscripting a scalar node throws (YAML::BadSubscript): every section is
// checked to be a mapping before its keys are read.
absl::Status RequireMap(const YAML::Node& node, const std::string& path);

// A mapping key as text. A key may be any node in YAML ("? [a, b]: 1"), and
// as<std::string>() throws on those.
absl::StatusOr<std::string> KeyText(const YAML::Node& key, const std::string& path);

// InvalidArgument unless `node` is a mapping whose keys are all in `known`.
absl::Status CheckUnknown(const YAML::Node& node, const std::string& path,
                          const std::set<std::string>& known);

// Reads a retention-style duration ("90d", "12h", ...) as seconds.
absl::Status ReadDuration(const YAML::Node& n, const std::string& path,
                          const std::string& key, std::set<std::string>* known,
                          uint64_t* seconds);

// The sections (config_yaml.cc, config_auth.cc, config_ingest_rules.cc).
absl::Status ParseLimits(const YAML::Node& n, IngestLimits* l);
absl::Status ParseRetention(const YAML::Node& n, RetentionConfig* r);
absl::Status ParseBackup(const YAML::Node& n, BackupOptions* b);
absl::Status ParseWitnesses(const YAML::Node& n, std::vector<WitnessConfig>* out);
absl::Status ParseTls(const YAML::Node& n, TlsConfig* t);
absl::Status ParseAuth(const YAML::Node& n, AuthConfig* a);
absl::Status ParseIngestRules(const YAML::Node& n, IngestRulesConfig* r);

}  // namespace config_yaml
}  // namespace indelible

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status _s = (expr);          \
    if (!_s.ok()) return _s;           \
  } while (0)

#endif  // INDELIBLE_DAEMON_GOVERNANCE_CONFIG_YAML_H_
