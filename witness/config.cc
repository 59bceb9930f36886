#include "witness/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace indelible::witness {
namespace {

absl::Status Bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": ", why));
}

absl::Status RequireMap(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "config: ", path.empty() ? "top level" : path, " must be a mapping"));
}

// Checks that every key of `node` is in `known` (and is a scalar).
absl::Status CheckKeys(const YAML::Node& node, const std::string& path,
                       const std::set<std::string>& known) {
  if (auto s = RequireMap(node, path); !s.ok()) return s;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", path.empty() ? "top level" : path, ": keys must be scalars"));
    }
    if (!known.count(kv.first.Scalar())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: unknown key ", path.empty() ? "" : path + ".", kv.first.Scalar()));
    }
  }
  return absl::OkStatus();
}

// Reads a boolean at node[key] into *out if present.
absl::Status ReadBool(const YAML::Node& node, const std::string& path, const std::string& key,
                      bool* out) {
  const YAML::Node v = node[key];
  if (!v || v.IsNull()) return absl::OkStatus();
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, *out)) {
    return Bad(path + key, "must be true or false");
  }
  return absl::OkStatus();
}

// Reads a scalar string at node[key] into *out if present.
absl::Status ReadString(const YAML::Node& node, const std::string& path,
                        const std::string& key, std::string* out) {
  const YAML::Node v = node[key];
  if (!v || v.IsNull()) return absl::OkStatus();
  if (!v.IsScalar()) return Bad(path + key, "must be a string");
  *out = v.Scalar();
  return absl::OkStatus();
}

#define RETURN_IF_ERROR(expr)   \
  do {                          \
    absl::Status _s = (expr);   \
    if (!_s.ok()) return _s;    \
  } while (0)

absl::Status ParseLog(const YAML::Node& n, const std::string& path, LogConfig* log) {
  RETURN_IF_ERROR(CheckKeys(n, path, {"origin", "origin_prefix", "keys"}));
  RETURN_IF_ERROR(ReadString(n, path + ".", "origin", &log->origin));
  RETURN_IF_ERROR(ReadString(n, path + ".", "origin_prefix", &log->origin_prefix));
  if (log->origin.empty() == log->origin_prefix.empty()) {
    return Bad(path, "set exactly one of origin and origin_prefix");
  }
  for (char c : log->origin + log->origin_prefix) {
    if (c < 0x21 || c > 0x7e) {
      return Bad(path + (log->origin.empty() ? ".origin_prefix" : ".origin"),
                 "printable ASCII without spaces only");
    }
  }
  const YAML::Node keys = n["keys"];
  if (!keys || !keys.IsSequence() || keys.size() == 0) {
    return Bad(path + ".keys", "a non-empty list of the log's verifier keys is required");
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string kp = absl::StrCat(path, ".keys[", i, "]");
    if (!keys[i].IsScalar()) return Bad(kp, "must be a string");
    auto key = chain::ParseNoteVerifierKey(keys[i].Scalar());
    if (!key.ok()) return Bad(kp, std::string(key.status().message()));
    log->keys.push_back(*key);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidWitnessName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (c < 0x21 || c > 0x7e || c == '+') return false;
  }
  return true;
}

bool IsLoopbackListen(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

absl::StatusOr<WitnessConfig> ParseConfig(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: not valid YAML: ", e.what()));
  }
  WitnessConfig c;
  if (root.IsNull()) return c;
  RETURN_IF_ERROR(CheckKeys(root, "",
                            {"listen", "metrics_listen", "metrics_allow_non_loopback",
                             "port_file", "state_dir", "log_level", "name", "key_file", "tls",
                             "logs"}));
  RETURN_IF_ERROR(ReadString(root, "", "listen", &c.listen));
  RETURN_IF_ERROR(ReadString(root, "", "metrics_listen", &c.metrics_listen));
  RETURN_IF_ERROR(
      ReadBool(root, "", "metrics_allow_non_loopback", &c.metrics_allow_non_loopback));
  RETURN_IF_ERROR(ReadString(root, "", "port_file", &c.port_file));
  RETURN_IF_ERROR(ReadString(root, "", "state_dir", &c.state_dir));
  RETURN_IF_ERROR(ReadString(root, "", "log_level", &c.log_level));
  RETURN_IF_ERROR(ReadString(root, "", "name", &c.name));
  RETURN_IF_ERROR(ReadString(root, "", "key_file", &c.key_file));
  if (const YAML::Node tls = root["tls"]; tls && !tls.IsNull()) {
    RETURN_IF_ERROR(CheckKeys(tls, "tls", {"cert_file", "key_file", "client_ca_file"}));
    RETURN_IF_ERROR(ReadString(tls, "tls.", "cert_file", &c.tls.cert_file));
    RETURN_IF_ERROR(ReadString(tls, "tls.", "key_file", &c.tls.key_file));
    RETURN_IF_ERROR(ReadString(tls, "tls.", "client_ca_file", &c.tls.client_ca_file));
  }
  if (const YAML::Node logs = root["logs"]; logs && !logs.IsNull()) {
    if (!logs.IsSequence()) return Bad("logs", "must be a list");
    for (size_t i = 0; i < logs.size(); ++i) {
      LogConfig log;
      RETURN_IF_ERROR(ParseLog(logs[i], absl::StrCat("logs[", i, "]"), &log));
      c.logs.push_back(std::move(log));
    }
  }
  return c;
}

absl::StatusOr<WitnessConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("config: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str());
}

absl::Status ValidateConfig(const WitnessConfig& c) {
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn",
                                                "error", "critical", "off"};
  if (!kLevels.count(c.log_level)) {
    return Bad("log_level", "want trace|debug|info|warn|error|critical|off");
  }
  if (c.name.empty()) return Bad("name", "required (the witness's key name)");
  if (!IsValidWitnessName(c.name)) {
    return Bad("name", "printable ASCII without spaces or '+', at most 255 bytes");
  }
  if (c.key_file.empty()) return Bad("key_file", "required (the witness's Ed25519 key)");
  if (c.state_dir.empty()) return Bad("state_dir", "required");
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"listen", c.listen}, {"metrics_listen", c.metrics_listen}}) {
    if (key == "metrics_listen" && value.empty()) continue;
    const size_t colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
      return Bad(key, absl::StrCat("want host:port, got \"", value, "\""));
    }
  }
  if (c.tls.enabled() && (c.tls.cert_file.empty() || c.tls.key_file.empty())) {
    return Bad("tls", "cert_file and key_file go together");
  }
  if (!c.tls.enabled() && !c.tls.client_ca_file.empty()) {
    return Bad("tls.client_ca_file", "needs tls.cert_file and tls.key_file");
  }
  if (!IsLoopbackListen(c.listen) && !c.tls.enabled()) {
    return Bad("listen", absl::StrCat(c.listen,
                                      " is not loopback; a non-loopback listener needs tls "
                                      "(cert_file, key_file)"));
  }
  if (!c.metrics_listen.empty() && !IsLoopbackListen(c.metrics_listen) &&
      !c.metrics_allow_non_loopback) {
    return Bad("metrics_listen",
               absl::StrCat(c.metrics_listen,
                            " is not loopback; it serves plain HTTP without authentication "
                            "(set metrics_allow_non_loopback: true to allow it)"));
  }
  if (c.logs.empty()) return Bad("logs", "at least one log is required");
  std::set<std::string> seen;
  for (size_t i = 0; i < c.logs.size(); ++i) {
    const LogConfig& l = c.logs[i];
    const std::string id = l.origin.empty() ? "prefix:" + l.origin_prefix : "origin:" + l.origin;
    if (!seen.insert(id).second) {
      return Bad(absl::StrCat("logs[", i, "]"), "the same origin or prefix is listed twice");
    }
  }
  return absl::OkStatus();
}

}  // namespace indelible::witness
