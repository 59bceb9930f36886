// The YAML reading helpers and the small sections (limits, retention,
// backup, witnesses, tls).
#include "daemon/governance/config_yaml.h"

#include <map>

#include "verifier/chain/hash.h"

namespace indelible {
namespace config_yaml {

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

namespace {

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

}  // namespace

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

}  // namespace config_yaml
}  // namespace indelible
