// WitnessConfig: what indelible-witness is told, with documented defaults
// (docs/WITNESS.md, deploy/witness.example.yaml). Loaded from YAML; flags
// override the file. Plain structs; thread-compatible.
#ifndef INDELIBLE_WITNESS_CONFIG_H_
#define INDELIBLE_WITNESS_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/note.h"

namespace indelible::witness {

// One log the witness cosigns for: an exact origin, or every origin that
// starts with a prefix (the daemon's origins are <log_name>/<tenant>, so
// "audit.example.com/" covers every tenant of that deployment).
struct LogConfig {
  std::string origin;         // exact origin, or
  std::string origin_prefix;  // a prefix; exactly one of the two is set
  // The log's note verifier keys (<name>+<hex id>+<base64(0x01 || key)>).
  std::vector<chain::NoteVerifierKey> keys;
};

struct TlsConfig {
  // PEM files. cert_file and key_file together turn on TLS 1.3 (only).
  std::string cert_file;
  std::string key_file;
  // PEM CA bundle: when set, every client must present a certificate that
  // chains to it (mutual TLS).
  std::string client_ca_file;

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

struct WitnessConfig {
  // host:port of the witness API. Port 0 picks a free port (see port_file).
  // Plain HTTP only on loopback; anything else needs tls.
  std::string listen = "127.0.0.1:7420";
  // host:port of GET /metrics and GET /health (plain HTTP, no
  // authentication), loopback only unless metrics_allow_non_loopback.
  // Empty: off. Port 0 writes the bound port to <port_file>.metrics.
  std::string metrics_listen;
  // Lets metrics_listen be off loopback (a container whose scraper reaches
  // it on the pod or container IP); restrict access to it by network.
  bool metrics_allow_non_loopback = false;
  // If set, the bound port is written here once the server listens.
  std::string port_file;
  // Where the newest cosigned size and root of each origin are kept.
  std::string state_dir = "./witness-state";
  std::string log_level = "info";
  // The witness's key name (a schema-less URL such as witness.example.com/w1)
  // and its Ed25519 private key (PKCS#8 PEM, mode 0600).
  std::string name;
  std::string key_file;
  TlsConfig tls;
  std::vector<LogConfig> logs;
};

// Parses YAML text. InvalidArgument naming the key on a bad or unknown key.
absl::StatusOr<WitnessConfig> ParseConfig(const std::string& yaml_text);
absl::StatusOr<WitnessConfig> LoadConfigFile(const std::string& path);

// Cross-field checks: name and key_file set, at least one log, listeners
// on loopback unless TLS is on, metrics on loopback, no duplicate origins.
absl::Status ValidateConfig(const WitnessConfig& config);

// A witness key name: non-empty, printable ASCII, no space or '+'.
bool IsValidWitnessName(std::string_view name);

// True if host:port names a loopback host (127.0.0.1, localhost, [::1]).
bool IsLoopbackListen(const std::string& listen);

}  // namespace indelible::witness

#endif  // INDELIBLE_WITNESS_CONFIG_H_
