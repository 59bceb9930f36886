// DaemonConfig: everything indelibled can be told, with documented defaults.
// Loaded from a YAML file (see deploy/indelibled.example.yaml and
// docs/CONFIG.md); command-line flags override the file.
#ifndef INDELIBLE_DAEMON_GOVERNANCE_CONFIG_H_
#define INDELIBLE_DAEMON_GOVERNANCE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/security/auth.h"
#include "daemon/ops/backup.h"
#include "daemon/write/ingest.h"
#include "daemon/security/redaction.h"
#include "daemon/ops/retention.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "verifier/chain/cosignature.h"

namespace indelible {

// A witness the daemon sends its v2 checkpoints to (docs/WITNESS.md, "The
// daemon as a witnessed log").
struct WitnessConfig {
  // The witness's key name; must be the name in `key`.
  std::string name;
  // http://host:port or https://host:port, optionally with a path prefix;
  // requests go to <url>/add-checkpoint. http only to a loopback host.
  std::string url;
  // The witness's cosigner verifier key "<name>+<hex id>+<base64(0x04 || key)>".
  std::string key;
  chain::CosignerKey cosigner_key;  // parsed from `key`
  // TLS: the CA bundle the witness's certificate must chain to (empty: the
  // system's), and a client certificate and key for mutual TLS.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
};

struct DaemonConfig {
  // host:port. Port 0 picks a free port (see port_file).
  std::string listen = "127.0.0.1:7410";
  std::string data_dir = "./data";
  // trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  // A second, plaintext gRPC listener, loopback only, serving the same
  // services (with the same authentication): for local health probes and
  // tools when `listen` is TLS. Empty: off. Port 0 picks a free port,
  // written to <port_file>.local.
  std::string local_listen;
  // If set, the bound port is written here once the server listens.
  std::string port_file;
  // host:port of the Prometheus text endpoint (GET /metrics). Empty: off.
  // Loopback only unless metrics_allow_non_loopback. Port 0 picks a free
  // port, written to <port_file>.metrics.
  std::string metrics_listen;
  // Lets metrics_listen be off loopback (e.g. 0.0.0.0:9410 in a pod, for a
  // Prometheus that scrapes the pod IP). The endpoint is plain HTTP without
  // authentication: what it shows (tenant ids, counts) is open to whoever
  // reaches the port, so fence it (a NetworkPolicy, a firewall).
  bool metrics_allow_non_loopback = false;
  // Seconds SIGTERM waits for in-flight calls before cancelling them.
  int shutdown_grace_seconds = 10;

  // Ed25519 private key (PKCS#8 PEM) that signs checkpoints; never inside
  // data_dir. Empty (and no signer_socket): "<data_dir>.signing-key.pem"
  // beside the data directory, generated on first start (development only;
  // logged loudly).
  std::string signing_key_file;
  // A key rotation statement (docs/FORMAT.md section 14) from the store's
  // current key to signing_key_file's; required when they differ.
  std::string key_rotation_statement_file;
  // The Unix socket of indelible-signer, which holds the key instead
  // (docs/SECURITY.md, "Key custody"). Excludes signing_key_file.
  std::string signer_socket;
  // The key name in signed notes and verifier keys.
  std::string key_name = "indelible";
  // Names the deployment in v2 checkpoints (origin "<log_name>/<tenant>",
  // docs/FORMAT.md): a schema-less URL such as audit.example.com. Required
  // when listen is not loopback; empty on loopback means kDevLogName.
  std::string log_name;
  // How often tenants with new records get a checkpoint.
  int checkpoint_interval_ms = 1000;

  // For end-to-end tests only: the daemon's clock stands still unless moved
  // by the Admin.AdvanceTestClock RPC. Only the test build indelibled-testing
  // (compiled with INDELIBLE_TESTING_HOOKS) sets it; indelibled refuses the
  // key and has no flag for it.
  bool testing_manual_clock = false;

  // TLS 1.3 (and mutual TLS) on the gRPC listener; required off loopback.
  TlsConfig tls;
  // Principals, tokens, role bindings, read auditing, two-person rule.
  AuthConfig auth;

  RetentionConfig retention;
  // Per-tenant redaction at ingest (docs/SECURITY.md, "Ingest rules").
  // Parsing checks fields and actions; key files are read at start-up.
  IngestRulesConfig ingest_rules;
  // Backups (docs/OPERATIONS.md): off until backup.dir is set.
  BackupOptions backup;
  IngestLimits limits;
  Sequencer::Options sequencer;
  StorageOptions storage;
  uint64_t max_read_records = 100000;

  // Witnesses (docs/WITNESS.md): every v2 checkpoint is sent to each; the
  // newest checkpoint of a tenant is "at quorum" once witness_quorum of them
  // cosigned it. 0 (unset) means all listed.
  std::vector<WitnessConfig> witnesses;
  size_t witness_quorum = 0;
  // The effective quorum must be a majority of the witnesses (2K > N): two
  // views of one size can each reach a smaller one. Only with this set is a
  // minority quorum accepted.
  bool witness_allow_minority_quorum = false;
  // How long a tenant's newest checkpoint may stay below quorum before the
  // health service "indelible.v1.Witnessing" turns NOT_SERVING.
  uint64_t witness_grace_seconds = 60;
};

// witness_quorum, or every witness listed when it is 0.
inline size_t EffectiveWitnessQuorum(const DaemonConfig& c) {
  return c.witness_quorum == 0 ? c.witnesses.size() : c.witness_quorum;
}

inline constexpr char kDevLogName[] = "indelible.local";
// log_name, or kDevLogName when it is empty (loopback development).
inline std::string EffectiveLogName(const DaemonConfig& c) {
  return c.log_name.empty() ? std::string(kDevLogName) : c.log_name;
}

// A witness URL split for an HTTP client.
struct WitnessUrl {
  bool https = false;
  std::string host;  // without brackets
  int port = 0;
  std::string path_prefix;  // "" or "/..." without a trailing '/'
};
// InvalidArgument with the reason unless `url` is http(s)://host[:port][/path].
absl::StatusOr<WitnessUrl> SplitWitnessUrl(const std::string& url);

// Parses YAML text. InvalidArgument naming the key on a bad or unknown key.
absl::StatusOr<DaemonConfig> ParseConfig(const std::string& yaml_text);
absl::StatusOr<DaemonConfig> LoadConfigFile(const std::string& path);

// Checks cross-field constraints (non-loopback listener, sizes > 0, ...).
absl::Status ValidateConfig(const DaemonConfig& config);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_GOVERNANCE_CONFIG_H_
