// The ingest_rules section: per-tenant redaction rules.
#include "daemon/governance/config_yaml.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace config_yaml {
namespace {

absl::Status ParseFieldRules(const YAML::Node& n, const std::string& path,
                             std::vector<FieldRule>* out) {
  if (!n.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", path, " must be a list"));
  }
  std::set<std::string> fields;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string p = absl::StrCat(path, "[", i, "].");
    const YAML::Node r = n[i];
    if (!r.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", path, "[", i, "] must be a mapping {field: ..., action: ...}"));
    }
    std::set<std::string> k;
    FieldRule rule;
    std::string action;
    RETURN_IF_ERROR(Read(r, p, "field", &k, &rule.field));
    RETURN_IF_ERROR(Read(r, p, "action", &k, &action));
    RETURN_IF_ERROR(Read(r, p, "keep_last", &k, &rule.keep_last));
    RETURN_IF_ERROR(CheckUnknown(r, p, k));
    if (action.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("config: ", p, "action: required"));
    }
    auto a = ParseRuleAction(action);
    if (!a.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "action: ", a.status().message()));
    }
    rule.action = *a;
    if (rule.action == RuleAction::kMask && !r["keep_last"]) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "keep_last: required for mask (0 masks all)"));
    }
    if (auto s = ValidateFieldRule(rule); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config: ", p, s.message()));
    }
    if (!fields.insert(rule.field).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "field: ", rule.field, " already has a rule"));
    }
    out->push_back(std::move(rule));
  }
  return absl::OkStatus();
}

absl::Status ParseTenantRules(const YAML::Node& n, const std::string& path,
                              TenantRulesConfig* t) {
  if (!n.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", path, " must be a mapping"));
  }
  std::set<std::string> k;
  const std::string p = path + ".";
  if (n["detect_secrets"]) {
    bool v = true;
    RETURN_IF_ERROR(Read(n, p, "detect_secrets", &k, &v));
    t->detect_secrets = v;
  }
  k.insert("detect_secrets");
  if (n["pseudonym_key_file"]) {
    std::string v;
    RETURN_IF_ERROR(Read(n, p, "pseudonym_key_file", &k, &v));
    if (v.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "pseudonym_key_file: empty path"));
    }
    t->pseudonym_key_file = v;
  }
  k.insert("pseudonym_key_file");
  k.insert("rules");
  if (n["rules"]) {
    t->rules.emplace();
    RETURN_IF_ERROR(ParseFieldRules(n["rules"], p + "rules", &*t->rules));
  }
  return CheckUnknown(n, p, k);
}

}  // namespace

// Mirrors retention: a `default` section and per-tenant overrides. Whether
// every pseudonymize rule has a key is checked here too, so that a
// configuration error is exit code 2 before anything is opened.
absl::Status ParseIngestRules(const YAML::Node& n, IngestRulesConfig* r) {
  std::set<std::string> k;
  const std::string p = "ingest_rules.";
  if (!n.IsMap()) return absl::InvalidArgumentError("config: ingest_rules must be a mapping");
  k.insert("default");
  if (n["default"]) {
    RETURN_IF_ERROR(ParseTenantRules(n["default"], p + "default", &r->defaults));
  }
  k.insert("tenants");
  if (n["tenants"]) {
    if (!n["tenants"].IsMap()) {
      return absl::InvalidArgumentError("config: ingest_rules.tenants must be a mapping");
    }
    for (const auto& kv : n["tenants"]) {
      const std::string tenant = kv.first.as<std::string>();
      if (!chain::IsValidTenantId(tenant)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config: ingest_rules.tenants.", tenant, ": not a valid tenant id"));
      }
      RETURN_IF_ERROR(
          ParseTenantRules(kv.second, p + "tenants." + tenant, &r->tenants[tenant]));
    }
  }
  RETURN_IF_ERROR(CheckUnknown(n, p, k));
  const auto needs_key = [&](const TenantRulesConfig& t, const std::string& section) {
    const auto& rules = t.rules ? t.rules : r->defaults.rules;
    const bool has_key = t.pseudonym_key_file || r->defaults.pseudonym_key_file;
    if (!rules || has_key) return absl::OkStatus();
    for (size_t i = 0; i < rules->size(); ++i) {
      if ((*rules)[i].action == RuleAction::kPseudonymize) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config: ", section, ": rule ", (*rules)[i].field,
            " pseudonymizes, but no pseudonym_key_file is set"));
      }
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(needs_key(r->defaults, "ingest_rules.default"));
  for (const auto& [tenant, t] : r->tenants) {
    RETURN_IF_ERROR(needs_key(t, "ingest_rules.tenants." + tenant));
  }
  return absl::OkStatus();
}

}  // namespace config_yaml
}  // namespace indelible
