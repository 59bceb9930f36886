#include "daemon/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "yaml-cpp/yaml.h"

namespace indelible {
namespace {

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
absl::Status RequireMap(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) return absl::OkStatus();
  std::string name = path.empty() ? "top level" : path;
  if (!name.empty() && name.back() == '.') name.pop_back();
  return absl::InvalidArgumentError(absl::StrCat("config: ", name, " must be a mapping"));
}

// A mapping key as text. A key may be any node in YAML ("? [a, b]: 1"), and
// as<std::string>() throws on those.
absl::StatusOr<std::string> KeyText(const YAML::Node& key, const std::string& path) {
  if (!key.IsScalar()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", path.empty() ? "top level" : path, ": keys must be scalars"));
  }
  return key.Scalar();
}

absl::Status CheckUnknown(const YAML::Node& node, const std::string& path,
                          const std::set<std::string>& known) {
  if (auto s = RequireMap(node, path); !s.ok()) return s;
  for (const auto& kv : node) {
    auto key_or = KeyText(kv.first, path);
    if (!key_or.ok()) return key_or.status();
    const std::string& key = *key_or;
    if (!known.count(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: unknown key ", path, key));
    }
  }
  return absl::OkStatus();
}

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status _s = (expr);          \
    if (!_s.ok()) return _s;           \
  } while (0)

absl::Status ParseLimits(const YAML::Node& n, IngestLimits* l) {
  std::set<std::string> k;
  const std::string p = "limits.";
  RETURN_IF_ERROR(RequireMap(n, p));
  RETURN_IF_ERROR(Read(n, p, "max_event_bytes", &k, &l->max_event_bytes));
  RETURN_IF_ERROR(Read(n, p, "max_event_id_bytes", &k, &l->max_event_id_bytes));
  RETURN_IF_ERROR(Read(n, p, "max_actor_id_bytes", &k, &l->max_actor_id_bytes));
  RETURN_IF_ERROR(
      Read(n, p, "max_short_field_bytes", &k, &l->max_short_field_bytes));
  RETURN_IF_ERROR(
      Read(n, p, "max_resource_id_bytes", &k, &l->max_resource_id_bytes));
  RETURN_IF_ERROR(Read(n, p, "max_reason_bytes", &k, &l->max_reason_bytes));
  RETURN_IF_ERROR(
      Read(n, p, "max_metadata_entries", &k, &l->max_metadata_entries));
  RETURN_IF_ERROR(
      Read(n, p, "max_metadata_key_bytes", &k, &l->max_metadata_key_bytes));
  RETURN_IF_ERROR(
      Read(n, p, "max_metadata_value_bytes", &k, &l->max_metadata_value_bytes));
  RETURN_IF_ERROR(Read(n, p, "max_batch_events", &k, &l->max_batch_events));
  uint64_t skew_s = l->max_future_skew_ns / 1000000000;
  RETURN_IF_ERROR(Read(n, p, "max_future_skew_seconds", &k, &skew_s));
  if (skew_s > UINT64_MAX / 1000000000) {
    return absl::InvalidArgumentError(
        "config: limits.max_future_skew_seconds: too large");
  }
  l->max_future_skew_ns = skew_s * 1000000000;
  return CheckUnknown(n, p, k);
}

absl::Status ReadDuration(const YAML::Node& n, const std::string& path,
                          const std::string& key, std::set<std::string>* known,
                          uint64_t* seconds) {
  std::string text;
  if (auto s = Read(n, path, key, known, &text); !s.ok()) return s;
  if (text.empty()) return absl::OkStatus();
  auto v = ParseRetentionDuration(text);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", path, key, ": ", v.status().message()));
  }
  *seconds = *v;
  return absl::OkStatus();
}

absl::Status ParseDurationMap(const YAML::Node& n, const std::string& path,
                              std::map<std::string, uint64_t>* out) {
  if (!n.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", path, " must be a mapping"));
  }
  std::set<std::string> k;
  for (const auto& kv : n) {
    auto key_or = KeyText(kv.first, path);
    if (!key_or.ok()) return key_or.status();
    const std::string& key = *key_or;
    uint64_t v = 0;
    RETURN_IF_ERROR(ReadDuration(n, path + ".", key, &k, &v));
    (*out)[key] = v;
  }
  return absl::OkStatus();
}

absl::Status ParseRetention(const YAML::Node& n, RetentionConfig* r) {
  std::set<std::string> k;
  const std::string p = "retention.";
  RETURN_IF_ERROR(RequireMap(n, p));
  RETURN_IF_ERROR(ReadDuration(n, p, "default", &k, &r->default_seconds));
  RETURN_IF_ERROR(ReadDuration(n, p, "min", &k, &r->min_seconds));
  RETURN_IF_ERROR(ReadDuration(n, p, "max", &k, &r->max_seconds));
  RETURN_IF_ERROR(
      ReadDuration(n, p, "compaction_interval", &k, &r->compaction_interval_seconds));
  k.insert("categories");
  if (n["categories"]) {
    RETURN_IF_ERROR(ParseDurationMap(n["categories"], p + "categories", &r->categories));
  }
  k.insert("tenants");
  if (n["tenants"]) {
    if (!n["tenants"].IsMap()) {
      return absl::InvalidArgumentError("config: retention.tenants must be a mapping");
    }
    for (const auto& kv : n["tenants"]) {
      auto tenant_or = KeyText(kv.first, p + "tenants");
      if (!tenant_or.ok()) return tenant_or.status();
      const std::string& tenant = *tenant_or;
      if (!chain::IsValidTenantId(tenant)) {
        return absl::InvalidArgumentError(
            absl::StrCat("config: retention.tenants.", tenant, ": not a valid tenant id"));
      }
      RETURN_IF_ERROR(ParseDurationMap(kv.second, p + "tenants." + tenant,
                                       &r->tenants[tenant]));
    }
  }
  return CheckUnknown(n, p, k);
}

absl::Status ParseBackup(const YAML::Node& n, BackupOptions* b) {
  std::set<std::string> k;
  const std::string p = "backup.";
  RETURN_IF_ERROR(Read(n, p, "dir", &k, &b->dir));
  RETURN_IF_ERROR(Read(n, p, "keep_days", &k, &b->retention.keep_days));
  RETURN_IF_ERROR(Read(n, p, "keep_count", &k, &b->retention.keep_count));
  RETURN_IF_ERROR(ReadDuration(n, p, "interval", &k, &b->interval_seconds));
  return CheckUnknown(n, p, k);
}

absl::Status ParseWitnesses(const YAML::Node& n, std::vector<WitnessConfig>* out) {
  if (!n.IsSequence()) {
    return absl::InvalidArgumentError("config: witnesses must be a list");
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string p = absl::StrCat("witnesses[", i, "].");
    if (!n[i].IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: witnesses[", i, "] must be a mapping {name: ..., url: ..., key: ...}"));
    }
    std::set<std::string> k;
    WitnessConfig w;
    RETURN_IF_ERROR(Read(n[i], p, "name", &k, &w.name));
    RETURN_IF_ERROR(Read(n[i], p, "url", &k, &w.url));
    RETURN_IF_ERROR(Read(n[i], p, "key", &k, &w.key));
    k.insert("tls");
    if (const YAML::Node tls = n[i]["tls"]) {
      std::set<std::string> tk;
      const std::string tp = p + "tls.";
      RETURN_IF_ERROR(RequireMap(tls, tp));
      RETURN_IF_ERROR(Read(tls, tp, "ca_file", &tk, &w.tls_ca_file));
      RETURN_IF_ERROR(Read(tls, tp, "cert_file", &tk, &w.tls_cert_file));
      RETURN_IF_ERROR(Read(tls, tp, "key_file", &tk, &w.tls_key_file));
      RETURN_IF_ERROR(CheckUnknown(tls, tp, tk));
    }
    RETURN_IF_ERROR(CheckUnknown(n[i], p, k));
    out->push_back(std::move(w));
  }
  return absl::OkStatus();
}

absl::Status ParseTls(const YAML::Node& n, TlsConfig* t) {
  std::set<std::string> k;
  const std::string p = "tls.";
  RETURN_IF_ERROR(Read(n, p, "cert_file", &k, &t->cert_file));
  RETURN_IF_ERROR(Read(n, p, "key_file", &k, &t->key_file));
  RETURN_IF_ERROR(Read(n, p, "client_ca_file", &k, &t->client_ca_file));
  return CheckUnknown(n, p, k);
}

bool IsHexSha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::Status ParsePrincipalName(const YAML::Node& n, const std::string& path,
                                std::set<std::string>* known, std::string* out) {
  RETURN_IF_ERROR(Read(n, path, "principal", known, out));
  if (out->empty() || out->size() > 256 ||
      out->find_first_of(" \t\n\r") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", path, "principal: required, 1-256 characters, no spaces"));
  }
  return absl::OkStatus();
}

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

// Reads the optional `person` of a token or binding entry for `principal`
// into a->persons; every entry of one principal must name the same person.
absl::Status ParsePerson(const YAML::Node& n, const std::string& path,
                         std::set<std::string>* known, const std::string& principal,
                         std::map<std::string, std::string>* where, AuthConfig* a) {
  known->insert("person");
  if (!n["person"]) return absl::OkStatus();
  std::string person;
  RETURN_IF_ERROR(Read(n, path, "person", known, &person));
  if (person.empty() || person.size() > 256 ||
      person.find_first_of(" \t\n\r") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", path, "person: 1-256 characters, no spaces"));
  }
  auto [it, inserted] = a->persons.emplace(principal, person);
  if (!inserted && it->second != person) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", path, "person: principal \"", principal, "\" is person \"",
        it->second, "\" at ", (*where)[principal], "person"));
  }
  where->emplace(principal, path);
  return absl::OkStatus();
}

absl::Status ParseAuth(const YAML::Node& n, AuthConfig* a) {
  std::set<std::string> k;
  std::map<std::string, std::string> person_paths;  // principal -> first entry
  const std::string p = "auth.";
  RETURN_IF_ERROR(Read(n, p, "enabled", &k, &a->enabled));
  a->record_reads = a->enabled;  // the default follows the mode
  RETURN_IF_ERROR(Read(n, p, "require_read_reason", &k, &a->require_read_reason));
  RETURN_IF_ERROR(Read(n, p, "record_reads", &k, &a->record_reads));
  RETURN_IF_ERROR(Read(n, p, "two_person_rule", &k, &a->two_person_rule));
  RETURN_IF_ERROR(ReadDuration(n, p, "approval_window", &k, &a->approval_window_seconds));
  k.insert("tokens");
  if (const YAML::Node tokens = n["tokens"]) {
    if (!tokens.IsSequence()) {
      return absl::InvalidArgumentError("config: auth.tokens must be a list");
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string tp = absl::StrCat(p, "tokens[", i, "].");
      if (!tokens[i].IsMap()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", tp, " must be a mapping"));
      }
      std::set<std::string> tk;
      AuthConfig::Token t;
      RETURN_IF_ERROR(ParsePrincipalName(tokens[i], tp, &tk, &t.principal));
      RETURN_IF_ERROR(ParsePerson(tokens[i], tp, &tk, t.principal, &person_paths, a));
      RETURN_IF_ERROR(Read(tokens[i], tp, "sha256", &tk, &t.sha256_hex));
      if (!IsHexSha256(t.sha256_hex)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config: ", tp, "sha256: want the token's SHA-256 as 64 lower-case hex "
            "digits (indelible token new prints it); never the token itself"));
      }
      RETURN_IF_ERROR(CheckUnknown(tokens[i], tp, tk));
      a->tokens.push_back(std::move(t));
    }
  }
  k.insert("bindings");
  if (const YAML::Node bindings = n["bindings"]) {
    if (!bindings.IsSequence()) {
      return absl::InvalidArgumentError("config: auth.bindings must be a list");
    }
    for (size_t i = 0; i < bindings.size(); ++i) {
      const std::string bp = absl::StrCat(p, "bindings[", i, "].");
      if (!bindings[i].IsMap()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", bp, " must be a mapping"));
      }
      std::set<std::string> bk;
      AuthConfig::Binding b;
      RETURN_IF_ERROR(ParsePrincipalName(bindings[i], bp, &bk, &b.principal));
      RETURN_IF_ERROR(ParsePerson(bindings[i], bp, &bk, b.principal, &person_paths, a));
      std::vector<std::string> roles;
      RETURN_IF_ERROR(Read(bindings[i], bp, "roles", &bk, &roles));
      RETURN_IF_ERROR(Read(bindings[i], bp, "tenants", &bk, &b.tenants));
      if (roles.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", bp, "roles: required"));
      }
      for (const auto& r : roles) {
        auto role = ParseRole(r);
        if (!role.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("config: ", bp, "roles: ", role.status().message()));
        }
        b.roles |= *role;
      }
      if (b.tenants.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config: ", bp, "tenants: required (tenant ids or \"*\")"));
      }
      for (const auto& t : b.tenants) {
        if (t != kAnyTenant && !chain::IsValidTenantId(t)) {
          return absl::InvalidArgumentError(
              absl::StrCat("config: ", bp, "tenants: \"", t, "\" is not a tenant id"));
        }
      }
      RETURN_IF_ERROR(CheckUnknown(bindings[i], bp, bk));
      a->bindings.push_back(std::move(b));
    }
  }
  return CheckUnknown(n, p, k);
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

absl::Status ValidateHostPort(const std::string& key, const std::string& l) {
  const size_t colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == l.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", key, ": want host:port, got \"", l, "\""));
  }
  return absl::OkStatus();
}

bool IsLoopbackHost(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// A backup inside the data directory would be backed up itself, and a data
// directory inside the backup directory would be taken for a backup.
absl::Status ValidateBackup(const DaemonConfig& c) {
  if (c.backup.dir.empty()) {
    if (c.backup.interval_seconds > 0) {
      return absl::InvalidArgumentError("config: backup.interval: needs backup.dir");
    }
    return absl::OkStatus();
  }
  std::error_code ec;
  const auto norm = [&ec](const std::string& p) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(p), ec);
  };
  const std::filesystem::path backup = norm(c.backup.dir), data = norm(c.data_dir);
  auto within = [](const std::filesystem::path& inner, const std::filesystem::path& outer) {
    auto m = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
    return m.first == outer.end();
  };
  if (!ec && (within(backup, data) || within(data, backup))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: backup.dir: ", c.backup.dir,
        " must be outside data_dir and must not contain it"));
  }
  return absl::OkStatus();
}

// A witness URL: its scheme, host and port; http only to loopback.
absl::Status ValidateWitnessUrl(const std::string& field, const std::string& url) {
  auto parts = SplitWitnessUrl(url);
  if (!parts.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", field, ": ", parts.status().message()));
  }
  const bool loopback =
      parts->host == "127.0.0.1" || parts->host == "localhost" || parts->host == "::1";
  if (!parts->https && !loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", field, ": ", url,
        " is plain http off loopback; use https (and tls.ca_file for a private CA)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateWitnesses(const DaemonConfig& c) {
  std::set<std::string> names, keys;
  for (size_t i = 0; i < c.witnesses.size(); ++i) {
    const WitnessConfig& w = c.witnesses[i];
    const std::string p = absl::StrCat("witnesses[", i, "].");
    if (w.key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", p, "key: required (the witness's verifier key, name+id+base64)"));
    }
    auto key = chain::ParseCosignerKey(w.key);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "key: ", key.status().message()));
    }
    if (w.name != key->name) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", p, "name: \"", w.name, "\" is not the name in key (\"", key->name,
          "\")"));
    }
    if (!names.insert(w.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "name: ", w.name, " is listed twice"));
    }
    if (!keys.insert(key->public_key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "key: the same key as an earlier witness"));
    }
    if (w.url.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("config: ", p, "url: required"));
    }
    RETURN_IF_ERROR(ValidateWitnessUrl(p + "url", w.url));
    if (w.tls_cert_file.empty() != w.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "tls: cert_file and key_file go together"));
    }
  }
  if (c.witness_quorum > c.witnesses.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: witness_quorum: ", c.witness_quorum, " is more than the ",
        c.witnesses.size(), " witnesses listed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DaemonConfig> ParseYaml(const YAML::Node& root) {
  DaemonConfig c;
  if (root.IsNull()) return c;  // empty file: all defaults
  RETURN_IF_ERROR(RequireMap(root, ""));
  std::set<std::string> k;
  RETURN_IF_ERROR(Read(root, "", "listen", &k, &c.listen));
  RETURN_IF_ERROR(Read(root, "", "data_dir", &k, &c.data_dir));
  RETURN_IF_ERROR(Read(root, "", "log_level", &k, &c.log_level));
  RETURN_IF_ERROR(Read(root, "", "port_file", &k, &c.port_file));
  RETURN_IF_ERROR(Read(root, "", "metrics_listen", &k, &c.metrics_listen));
  RETURN_IF_ERROR(Read(root, "", "metrics_allow_non_loopback", &k,
                       &c.metrics_allow_non_loopback));
  RETURN_IF_ERROR(Read(root, "", "local_listen", &k, &c.local_listen));
  RETURN_IF_ERROR(
      Read(root, "", "shutdown_grace_seconds", &k, &c.shutdown_grace_seconds));
  RETURN_IF_ERROR(Read(root, "", "max_read_records", &k, &c.max_read_records));
  RETURN_IF_ERROR(Read(root, "", "signing_key_file", &k, &c.signing_key_file));
  RETURN_IF_ERROR(Read(root, "", "key_rotation_statement_file", &k,
                       &c.key_rotation_statement_file));
  RETURN_IF_ERROR(Read(root, "", "key_name", &k, &c.key_name));
  RETURN_IF_ERROR(Read(root, "", "log_name", &k, &c.log_name));
  RETURN_IF_ERROR(
      Read(root, "", "checkpoint_interval_ms", &k, &c.checkpoint_interval_ms));
  RETURN_IF_ERROR(Read(root, "", "max_group_events", &k,
                       &c.sequencer.max_group_events));
  RETURN_IF_ERROR(Read(root, "", "compression", &k, &c.storage.compress));
  RETURN_IF_ERROR(
      Read(root, "", "block_cache_bytes", &k, &c.storage.block_cache_bytes));
  RETURN_IF_ERROR(
      Read(root, "", "write_buffer_bytes", &k, &c.storage.write_buffer_bytes));
  RETURN_IF_ERROR(
      Read(root, "", "max_total_wal_bytes", &k, &c.storage.max_total_wal_bytes));
  RETURN_IF_ERROR(Read(root, "", "memtable_budget_bytes", &k,
                       &c.storage.memtable_budget_bytes));
#ifdef INDELIBLE_TESTING_HOOKS
  RETURN_IF_ERROR(
      Read(root, "", "testing_manual_clock", &k, &c.testing_manual_clock));
#else
  if (root["testing_manual_clock"]) {
    return absl::InvalidArgumentError(
        "config: testing_manual_clock: not accepted by indelibled; only the test "
        "build indelibled-testing has a manual clock");
  }
#endif
  k.insert("retention");
  if (root["retention"]) RETURN_IF_ERROR(ParseRetention(root["retention"], &c.retention));
  k.insert("backup");
  if (root["backup"]) RETURN_IF_ERROR(ParseBackup(root["backup"], &c.backup));
  k.insert("tls");
  if (root["tls"]) RETURN_IF_ERROR(ParseTls(root["tls"], &c.tls));
  k.insert("auth");
  if (root["auth"]) RETURN_IF_ERROR(ParseAuth(root["auth"], &c.auth));

  k.insert("ingest_rules");
  if (root["ingest_rules"]) {
    RETURN_IF_ERROR(ParseIngestRules(root["ingest_rules"], &c.ingest_rules));
  }
  k.insert("limits");
  if (root["limits"]) RETURN_IF_ERROR(ParseLimits(root["limits"], &c.limits));
  k.insert("witnesses");
  if (root["witnesses"]) RETURN_IF_ERROR(ParseWitnesses(root["witnesses"], &c.witnesses));
  RETURN_IF_ERROR(Read(root, "", "witness_quorum", &k, &c.witness_quorum));
  RETURN_IF_ERROR(Read(root, "", "witness_grace_seconds", &k, &c.witness_grace_seconds));
  RETURN_IF_ERROR(CheckUnknown(root, "", k));
  return c;
}

}  // namespace

absl::StatusOr<WitnessUrl> SplitWitnessUrl(const std::string& url) {
  WitnessUrl out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.https = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("want http://host:port or https://host:port");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.path_prefix = rest.substr(slash);
  while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  std::string port_text;
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    port_text = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || authority.find_first_of(" @?#") != std::string::npos) {
    return absl::InvalidArgumentError("want http://host:port or https://host:port");
  }
  out.host = authority;
  if (out.host.size() > 2 && out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  out.port = out.https ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    for (char ch : port_text) {
      if (ch < '0' || ch > '9' || port > 65535) {
        return absl::InvalidArgumentError("the port is not a number from 1 to 65535");
      }
      port = port * 10 + (ch - '0');
    }
    if (port < 1 || port > 65535) {
      return absl::InvalidArgumentError("the port is not a number from 1 to 65535");
    }
    out.port = port;
  }
  return out;
}

absl::StatusOr<DaemonConfig> ParseConfig(const std::string& text) {
  // The checks above keep yaml-cpp from throwing on any input we know of;
  // this is the backstop, so that no config file can end the daemon with an
  // uncaught exception.
  try {
    return ParseYaml(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: not valid YAML: ", e.what()));
  }
}

absl::StatusOr<DaemonConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("config: cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str());
}

absl::Status ValidateConfig(const DaemonConfig& c) {
  if (c.data_dir.empty()) {
    return absl::InvalidArgumentError("config: data_dir: required");
  }
  if (spdlog::level::from_str(c.log_level) == spdlog::level::off &&
      c.log_level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("config: log_level: unknown level \"", c.log_level, "\""));
  }
  if (auto s = ValidateHostPort("listen", c.listen); !s.ok()) return s;
  if (!IsLoopbackHost(c.listen) && (!c.tls.enabled() || !c.auth.enabled)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: listen: ", c.listen,
        " is not loopback; a non-loopback listener needs tls (cert_file, key_file) "
        "and auth.enabled: true (docs/SECURITY.md)"));
  }
  if (c.tls.enabled() && (c.tls.cert_file.empty() || c.tls.key_file.empty())) {
    return absl::InvalidArgumentError("config: tls: cert_file and key_file go together");
  }
  if (!c.local_listen.empty()) {
    if (auto s = ValidateHostPort("local_listen", c.local_listen); !s.ok()) return s;
    if (!IsLoopbackHost(c.local_listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: local_listen: ", c.local_listen, " is not loopback; it is plaintext"));
    }
  }
  if (!c.metrics_listen.empty()) {
    if (auto s = ValidateHostPort("metrics_listen", c.metrics_listen); !s.ok()) return s;
    if (!IsLoopbackHost(c.metrics_listen) && !c.metrics_allow_non_loopback) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: metrics_listen: ", c.metrics_listen,
          " is not loopback; the metrics endpoint serves plain HTTP without "
          "authentication: keep it on loopback, or set metrics_allow_non_loopback: "
          "true and fence the port (docs/OPERATIONS.md, \"Metrics\")"));
    }
  }
  if (c.auth.enabled && c.auth.approval_window_seconds == 0) {
    return absl::InvalidArgumentError("config: auth.approval_window: must be positive");
  }
  // As ParseNoteVerifierKey requires of the names it accepts.
  const bool bad_name_char =
      std::any_of(c.key_name.begin(), c.key_name.end(), [](char ch) {
        return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '+';
      });
  if (c.key_name.empty() || bad_name_char) {
    return absl::InvalidArgumentError(
        "config: key_name: required, without spaces, control characters or '+'");
  }
  if (!c.log_name.empty() && !chain::IsValidLogName(c.log_name)) {
    return absl::InvalidArgumentError(
        "config: log_name: a schema-less URL such as audit.example.com: 1..200 printable "
        "ASCII bytes without space or '+', not starting or ending with '/'");
  }
  if (c.log_name.empty() && !IsLoopbackHost(c.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: log_name: required when listen (", c.listen,
        ") is not loopback: it names this deployment in every v2 checkpoint "
        "(docs/CONFIG.md)"));
  }
  if (c.checkpoint_interval_ms < 10) {
    return absl::InvalidArgumentError(
        "config: checkpoint_interval_ms: at least 10");
  }
  if (auto s = ValidateRetentionConfig(c.retention); !s.ok()) return s;
  if (auto s = ValidateBackup(c); !s.ok()) return s;
  if (auto s = ValidateWitnesses(c); !s.ok()) return s;
  if (c.limits.max_batch_events == 0 || c.limits.max_event_bytes == 0 ||
      c.sequencer.max_group_events == 0 || c.max_read_records == 0) {
    return absl::InvalidArgumentError("config: limits must be positive");
  }
  return absl::OkStatus();
}

}  // namespace indelible
