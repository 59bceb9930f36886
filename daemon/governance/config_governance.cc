#include "daemon/governance/config_governance.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/ops/retention.h"
#include "nlohmann/json.hpp"

namespace indelible {
namespace {

std::string Bool(bool b) { return b ? "true" : "false"; }

std::string Bracket(const std::string& name) { return "[" + name + "]"; }

void AddTenantRules(const std::string& prefix, const TenantRulesConfig& t,
                    GovernedSettings* out) {
  if (t.detect_secrets) (*out)[prefix + ".detect_secrets"] = Bool(*t.detect_secrets);
  if (t.pseudonym_key_file) (*out)[prefix + ".pseudonym_key_file"] = *t.pseudonym_key_file;
  if (t.rules) {
    std::vector<std::string> rules;
    for (const FieldRule& r : *t.rules) {
      std::string text = absl::StrCat(r.field, "=", std::string(RuleActionName(r.action)));
      if (r.action == RuleAction::kMask) absl::StrAppend(&text, "/", r.keep_last);
      rules.push_back(std::move(text));
    }
    (*out)[prefix + ".rules"] = rules.empty() ? "(none)" : absl::StrJoin(rules, ", ");
  }
}

std::string Get(const GovernedSettings& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? kUnset : it->second;
}

// Whether the rule `key` is in force: auth enabled and the setting true.
bool InForce(const GovernedSettings& s, const std::string& key) {
  return Get(s, "auth.enabled") == "true" && Get(s, key) == "true";
}

uint64_t Seconds(const GovernedSettings& s, const std::string& key, uint64_t fallback) {
  auto it = s.find(key);
  if (it == s.end()) return fallback;
  auto v = ParseRetentionDuration(it->second);
  return v.ok() ? *v : fallback;
}

// The retention policies of `s` (no runtime overrides).
RetentionState::Snapshot RetentionOf(const GovernedSettings& s) {
  RetentionState::Snapshot snap;
  RetentionConfig& c = snap.config;
  c.categories.clear();
  c.default_seconds = Seconds(s, "retention.default", c.default_seconds);
  const std::string cat = "retention.categories[", ten = "retention.tenants[";
  for (const auto& [key, value] : s) {
    auto v = ParseRetentionDuration(value);
    if (!v.ok()) continue;
    if (absl::StartsWith(key, cat) && key.back() == ']') {
      c.categories[key.substr(cat.size(), key.size() - cat.size() - 1)] = *v;
    } else if (absl::StartsWith(key, ten) && key.back() == ']') {
      const size_t mid = key.find("][", ten.size());
      if (mid == std::string::npos) continue;
      c.tenants[key.substr(ten.size(), mid - ten.size())]
               [key.substr(mid + 2, key.size() - mid - 3)] = *v;
    }
  }
  return snap;
}

// Principal -> person, for every principal the settings name.
std::map<std::string, std::string> PersonsOf(const GovernedSettings& s) {
  std::map<std::string, std::string> out;
  const std::string tok = "auth.tokens[", bind = "auth.bindings[", per = "auth.persons[";
  for (const auto& [key, value] : s) {
    if (absl::StartsWith(key, tok)) {
      out.emplace(value, value);
    } else if (absl::StartsWith(key, bind)) {
      // auth.bindings[<principal>][<tenant>]: tenants hold no ']'.
      const size_t mid = key.rfind("][");
      if (mid != std::string::npos && mid > bind.size()) {
        const std::string p = key.substr(bind.size(), mid - bind.size());
        out.emplace(p, p);
      }
    }
  }
  for (const auto& [key, value] : s) {
    if (absl::StartsWith(key, per) && key.back() == ']') {
      out[key.substr(per.size(), key.size() - per.size() - 1)] = value;
    }
  }
  return out;
}

// 0 means "no limit" for both backup retention settings.
bool KeepsLess(const GovernedSettings& o, const GovernedSettings& n, const std::string& key) {
  uint64_t a = 0, b = 0;
  if (!absl::SimpleAtoi(Get(o, key), &a) || !absl::SimpleAtoi(Get(n, key), &b)) return false;
  return b != 0 && (a == 0 || b < a);
}

}  // namespace

GovernedSettings GovernedSettingsOf(const DaemonConfig& c) {
  GovernedSettings s;
  const AuthConfig& a = c.auth;
  s["auth.enabled"] = Bool(a.enabled);
  s["auth.require_read_reason"] = Bool(a.require_read_reason);
  s["auth.record_reads"] = Bool(a.record_reads);
  s["auth.two_person_rule"] = Bool(a.two_person_rule);
  s["auth.approval_window"] = FormatRetentionDuration(a.approval_window_seconds);
  for (const auto& t : a.tokens) s["auth.tokens" + Bracket(t.sha256_hex)] = t.principal;
  std::map<std::pair<std::string, std::string>, RoleSet> roles;
  for (const auto& b : a.bindings) {
    for (const auto& t : b.tenants) roles[{b.principal, t}] |= b.roles;
  }
  for (const auto& [pt, r] : roles) {
    s["auth.bindings" + Bracket(pt.first) + Bracket(pt.second)] = RoleSetName(r);
  }
  for (const auto& [principal, person] : a.persons) {
    s["auth.persons" + Bracket(principal)] = person;
  }
  const RetentionConfig& r = c.retention;
  s["retention.default"] = FormatRetentionDuration(r.default_seconds);
  s["retention.min"] = FormatRetentionDuration(r.min_seconds);
  s["retention.max"] = FormatRetentionDuration(r.max_seconds);
  s["retention.compaction_interval"] = FormatRetentionDuration(r.compaction_interval_seconds);
  for (const auto& [cat, v] : r.categories) {
    s["retention.categories" + Bracket(cat)] = FormatRetentionDuration(v);
  }
  for (const auto& [tenant, cats] : r.tenants) {
    for (const auto& [cat, v] : cats) {
      s["retention.tenants" + Bracket(tenant) + Bracket(cat)] = FormatRetentionDuration(v);
    }
  }
  AddTenantRules("ingest_rules.default", c.ingest_rules.defaults, &s);
  for (const auto& [tenant, t] : c.ingest_rules.tenants) {
    AddTenantRules("ingest_rules.tenants" + Bracket(tenant), t, &s);
  }
  s["tls.cert_file"] = c.tls.cert_file;
  s["tls.key_file"] = c.tls.key_file;
  s["tls.client_ca_file"] = c.tls.client_ca_file;
  s["signing_key_file"] = c.signing_key_file;
  // Only when set, so stores that never used a signer record no change.
  if (!c.signer_socket.empty()) s["signer_socket"] = c.signer_socket;
  s["key_name"] = c.key_name;
  s["backup.dir"] = c.backup.dir;
  s["backup.keep_days"] = absl::StrCat(c.backup.retention.keep_days);
  s["backup.keep_count"] = absl::StrCat(c.backup.retention.keep_count);
  s["backup.interval"] = c.backup.interval_seconds == 0
                             ? "(on request only)"
                             : FormatRetentionDuration(c.backup.interval_seconds);
  for (const WitnessConfig& w : c.witnesses) {
    s["witnesses" + Bracket(w.name)] = w.key + " " + w.url;
  }
  // Only with witnesses: a store from before them records nothing new.
  if (!c.witnesses.empty()) s["witness_quorum"] = absl::StrCat(EffectiveWitnessQuorum(c));
  return s;
}

std::string EncodeGovernedSettings(const GovernedSettings& settings) {
  return nlohmann::json(settings).dump();
}

absl::StatusOr<GovernedSettings> DecodeGovernedSettings(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError("the settings on record are not a JSON object");
  }
  GovernedSettings out;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return absl::DataLossError("the settings on record: " + key + " is not a string");
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

std::vector<SettingChange> DiffGovernedSettings(const GovernedSettings& o,
                                                const GovernedSettings& n) {
  std::set<std::string> keys;
  for (const auto& kv : o) keys.insert(kv.first);
  for (const auto& kv : n) keys.insert(kv.first);
  std::vector<SettingChange> out;
  for (const std::string& key : keys) {
    SettingChange c{key, Get(o, key), Get(n, key), std::nullopt};
    if (c.old_value == c.new_value) continue;
    // The settings of one tenant: the first bracket of retention.tenants and
    // ingest_rules.tenants, the last of auth.bindings ("*": every tenant).
    for (const std::string prefix : {"retention.tenants[", "ingest_rules.tenants["}) {
      if (absl::StartsWith(key, prefix)) {
        c.tenant = key.substr(prefix.size(), key.find(']') - prefix.size());
      }
    }
    if (absl::StartsWith(key, "auth.bindings[") && key.back() == ']') {
      const size_t open = key.rfind('[');
      std::string tenant = key.substr(open + 1, key.size() - open - 2);
      if (tenant != kAnyTenant) c.tenant = std::move(tenant);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> FindWeakenings(const GovernedSettings& o, const GovernedSettings& n) {
  std::vector<std::string> out;
  if (Get(o, "auth.enabled") == "true" && Get(n, "auth.enabled") != "true") {
    out.push_back("auth.enabled: true -> false (open mode: no roles, no recorded reads, "
                  "no two-person rule)");
  }
  for (const std::string key :
       {"auth.two_person_rule", "auth.record_reads", "auth.require_read_reason"}) {
    if (InForce(o, key) && !InForce(n, key)) {
      out.push_back(absl::StrCat(key, ": in force -> off"));
    }
  }
  // Principals that were one person must stay one person.
  const auto old_persons = PersonsOf(o), new_persons = PersonsOf(n);
  std::map<std::string, std::vector<std::string>> by_person;
  for (const auto& [principal, person] : old_persons) {
    if (new_persons.count(principal)) by_person[person].push_back(principal);
  }
  for (const auto& [person, principals] : by_person) {
    for (size_t i = 1; i < principals.size(); ++i) {
      const std::string& a = principals[0];
      const std::string& b = principals[i];
      if (new_persons.at(a) != new_persons.at(b)) {
        out.push_back(absl::StrCat("auth.persons: principals \"", a, "\" and \"", b,
                                   "\" were one person (\"", person,
                                   "\") and would be two"));
      }
    }
  }
  // Retention: every tenant and category either names, and any other.
  const RetentionState::Snapshot ro = RetentionOf(o), rn = RetentionOf(n);
  const std::string kOther = "\x01";
  std::set<std::string> tenants = {kOther}, categories = {kOther};
  for (const auto* snap : {&ro, &rn}) {
    for (const auto& [c, v] : snap->config.categories) categories.insert(c);
    for (const auto& [t, cats] : snap->config.tenants) {
      tenants.insert(t);
      for (const auto& [c, v] : cats) {
        if (c != "*") categories.insert(c);
      }
    }
  }
  for (const std::string& t : tenants) {
    for (const std::string& c : categories) {
      const uint64_t before = ro.RetentionSeconds(t, c), after = rn.RetentionSeconds(t, c);
      if (after >= before) continue;
      out.push_back(absl::StrCat(
          "retention of ", t == kOther ? "other tenants" : "tenant " + t, ", ",
          c == kOther ? "other categories" : "category " + c, ": ",
          FormatRetentionDuration(before), " -> ", FormatRetentionDuration(after)));
    }
  }
  // Witnesses: one dropped (or its key replaced), or a lower quorum.
  for (const auto& [key, value] : o) {
    if (!absl::StartsWith(key, "witnesses[")) continue;
    const std::string old_key = value.substr(0, value.find(' '));
    const std::string now = Get(n, key);
    if (now == kUnset) {
      out.push_back(absl::StrCat(key, ": removed"));
    } else if (now.substr(0, now.find(' ')) != old_key) {
      out.push_back(absl::StrCat(key, ": another key"));
    }
  }
  uint64_t old_quorum = 0, new_quorum = 0;
  if (absl::SimpleAtoi(Get(o, "witness_quorum"), &old_quorum) &&
      absl::SimpleAtoi(Get(n, "witness_quorum"), &new_quorum) && new_quorum < old_quorum) {
    out.push_back(absl::StrCat("witness_quorum: ", old_quorum, " -> ", new_quorum));
  }
  for (const std::string key : {"backup.keep_days", "backup.keep_count"}) {
    if (KeepsLess(o, n, key)) {
      out.push_back(absl::StrCat(key, ": ", Get(o, key), " -> ", Get(n, key),
                                 " (0 is no limit)"));
    }
  }
  return out;
}

}  // namespace indelible
