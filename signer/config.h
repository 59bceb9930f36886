// SignerConfig: what indelible-signer is told (docs/OPERATIONS.md, "The
// signer"; deploy/signer.example.yaml). Loaded from YAML; flags override
// the file. Plain struct; thread-compatible.
#ifndef INDELIBLE_SIGNER_CONFIG_H_
#define INDELIBLE_SIGNER_CONFIG_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace indelible::signer {

struct SignerConfig {
  // The Unix socket the daemon connects to. Its directory must exist.
  std::string socket = "/run/indelible-signer/signer.sock";
  // The socket file's mode: 0660 lets the socket's group (the daemon's)
  // connect and no one else. Others never get access.
  mode_t socket_mode = 0660;
  // Where the newest signed size and root of each origin are kept.
  std::string state_dir = "/var/lib/indelible-signer";
  // The log's Ed25519 private key (PKCS#8 PEM), readable only by the
  // signer's user (the key-file rule, docs/SECURITY.md).
  std::string signing_key_file;
  // The key name in signed notes, as the daemon's key_name used to be.
  std::string key_name = "indelible";
  // The daemon's log_name: the signer signs origins "<log_name>/<tenant>".
  std::string log_name;
  std::string log_level = "info";
};

// Parses YAML text. InvalidArgument naming the key on a bad or unknown key.
absl::StatusOr<SignerConfig> ParseConfig(const std::string& yaml_text);
absl::StatusOr<SignerConfig> LoadConfigFile(const std::string& path);

// Cross-field checks: socket, state_dir, signing_key_file and log_name set,
// a valid key name and log name (IsValidSignerLogName), no access for
// others in socket_mode.
absl::Status ValidateConfig(const SignerConfig& config);

}  // namespace indelible::signer

#endif  // INDELIBLE_SIGNER_CONFIG_H_
