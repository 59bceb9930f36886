#include "signer/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "signer/signer.h"
#include "yaml-cpp/yaml.h"

namespace indelible::signer {
namespace {

absl::Status Bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": ", why));
}

absl::Status ReadString(const YAML::Node& root, const std::string& key, std::string* out) {
  const YAML::Node v = root[key];
  if (!v || v.IsNull()) return absl::OkStatus();
  if (!v.IsScalar()) return Bad(key, "must be a string");
  *out = v.Scalar();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SignerConfig> ParseConfig(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: not valid YAML: ", e.what()));
  }
  SignerConfig c;
  if (root.IsNull()) return c;
  if (!root.IsMap()) return absl::InvalidArgumentError("config: top level must be a mapping");
  static const std::set<std::string> kKnown = {"socket",   "socket_mode", "state_dir",
                                               "signing_key_file", "key_name", "log_name",
                                               "log_level"};
  for (const auto& kv : root) {
    if (!kv.first.IsScalar() || !kKnown.count(kv.first.Scalar())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: unknown key ", kv.first.IsScalar() ? kv.first.Scalar() : "(not a scalar)"));
    }
  }
  for (const auto& [key, field] :
       std::initializer_list<std::pair<const char*, std::string*>>{
           {"socket", &c.socket},
           {"state_dir", &c.state_dir},
           {"signing_key_file", &c.signing_key_file},
           {"key_name", &c.key_name},
           {"log_name", &c.log_name},
           {"log_level", &c.log_level}}) {
    if (auto s = ReadString(root, key, field); !s.ok()) return s;
  }
  std::string mode;
  if (auto s = ReadString(root, "socket_mode", &mode); !s.ok()) return s;
  if (!mode.empty()) {
    // An octal string such as "0660" (YAML would read 0660 as a number).
    if (mode.size() > 4 || mode.find_first_not_of("01234567") != std::string::npos) {
      return Bad("socket_mode", "an octal mode such as \"0660\"");
    }
    c.socket_mode = static_cast<mode_t>(std::stoul(mode, nullptr, 8));
  }
  return c;
}

absl::StatusOr<SignerConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("config: cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str());
}

absl::Status ValidateConfig(const SignerConfig& c) {
  if (c.socket.empty()) return Bad("socket", "required");
  // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
  if (c.socket.size() > 107) return Bad("socket", "longer than 107 bytes");
  if (c.state_dir.empty()) return Bad("state_dir", "required");
  if (c.signing_key_file.empty()) return Bad("signing_key_file", "required");
  if ((c.socket_mode & 0007) != 0 || (c.socket_mode & ~mode_t{0777}) != 0) {
    return Bad("socket_mode", "others must have no access (e.g. \"0660\")");
  }
  const bool bad_name_char = std::any_of(c.key_name.begin(), c.key_name.end(), [](char ch) {
    return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '+';
  });
  if (c.key_name.empty() || bad_name_char) {
    return Bad("key_name", "required, without spaces, control characters or '+'");
  }
  if (!IsValidSignerLogName(c.log_name)) {
    return Bad("log_name",
               "required: the daemon's log_name (a schema-less URL such as "
               "audit.example.com), not under indelible/");
  }
  return absl::OkStatus();
}

}  // namespace indelible::signer
