#include "daemon/config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
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

absl::Status ValidateLoopback(const std::string& key, const std::string& l) {
  const size_t colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == l.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", key, ": want host:port, got \"", l, "\""));
  }
  const std::string host = l.substr(0, colon);
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", key, ": ", l,
        " is not loopback; non-loopback listeners require TLS, which this "
        "build does not configure yet"));
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
  RETURN_IF_ERROR(
      Read(root, "", "shutdown_grace_seconds", &k, &c.shutdown_grace_seconds));
  RETURN_IF_ERROR(Read(root, "", "max_read_records", &k, &c.max_read_records));
  RETURN_IF_ERROR(Read(root, "", "signing_key_file", &k, &c.signing_key_file));
  RETURN_IF_ERROR(Read(root, "", "key_name", &k, &c.key_name));
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
      Read(root, "", "testing_manual_clock", &k, &c.testing_manual_clock));
  k.insert("retention");
  if (root["retention"]) RETURN_IF_ERROR(ParseRetention(root["retention"], &c.retention));
  k.insert("limits");
  if (root["limits"]) RETURN_IF_ERROR(ParseLimits(root["limits"], &c.limits));
  RETURN_IF_ERROR(CheckUnknown(root, "", k));
  return c;
}

}  // namespace

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
  if (auto s = ValidateLoopback("listen", c.listen); !s.ok()) return s;
  if (!c.metrics_listen.empty()) {
    if (auto s = ValidateLoopback("metrics_listen", c.metrics_listen); !s.ok()) return s;
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
  if (c.checkpoint_interval_ms < 10) {
    return absl::InvalidArgumentError(
        "config: checkpoint_interval_ms: at least 10");
  }
  if (auto s = ValidateRetentionConfig(c.retention); !s.ok()) return s;
  if (c.limits.max_batch_events == 0 || c.limits.max_event_bytes == 0 ||
      c.sequencer.max_group_events == 0 || c.max_read_records == 0) {
    return absl::InvalidArgumentError("config: limits must be positive");
  }
  return absl::OkStatus();
}

}  // namespace indelible
