// Authentication and authorisation of every RPC (docs/SECURITY.md).
//
// A caller's principal comes from a bearer token ("authorization: Bearer
// <token>" metadata, matched by its SHA-256 against the configured hashes)
// or, without a token, from the verified client certificate of a mutual TLS
// connection (its subjectAltName, else its CN). Role bindings in the config
// give principals roles per tenant:
//
//   writer   Append, AppendBatch, AppendStream
//   reader   GetHead, ReadRecords, GetCheckpoint
//   auditor  what a reader may, plus GetRetention (policies, holds)
//   admin    SetRetention, SetLegalHold, PurgeTenant, Approve, GetRetention,
//            GetHead; admin of "*" also Compact and Backup
//
// With auth disabled (the default, allowed only on loopback listeners) every
// caller is the principal "anonymous" holding every role: a development mode.
//
// Thread-safe. Reload() swaps the bindings and tokens atomically (SIGHUP).
#ifndef INDELIBLE_DAEMON_SECURITY_AUTH_H_
#define INDELIBLE_DAEMON_SECURITY_AUTH_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace indelible {

enum class Role : uint8_t { kWriter = 1, kReader = 2, kAuditor = 4, kAdmin = 8 };
using RoleSet = uint8_t;
inline constexpr RoleSet operator|(Role a, Role b) {
  return static_cast<RoleSet>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
inline constexpr RoleSet operator|(RoleSet a, Role b) {
  return static_cast<RoleSet>(a | static_cast<uint8_t>(b));
}
inline RoleSet& operator|=(RoleSet& a, Role b) { return a = a | b; }
inline constexpr RoleSet Roles(Role r) { return static_cast<RoleSet>(r); }

absl::StatusOr<Role> ParseRole(std::string_view name);
std::string RoleSetName(RoleSet roles);  // "writer|reader"

// The tenant wildcard in bindings.
inline constexpr char kAnyTenant[] = "*";

struct TlsConfig {
  // PEM files. cert_file and key_file together turn TLS on (TLS 1.3 only).
  std::string cert_file;
  std::string key_file;
  // PEM CA bundle: when set, every client must present a certificate that
  // chains to it (mutual TLS).
  std::string client_ca_file;

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

struct AuthConfig {
  // false: open development mode (loopback only), everyone is "anonymous"
  // with every role.
  bool enabled = false;
  struct Token {
    std::string principal;
    std::string sha256_hex;  // lower-case hex SHA-256 of the token
  };
  std::vector<Token> tokens;
  struct Binding {
    std::string principal;
    std::vector<std::string> tenants;  // tenant ids or "*"
    RoleSet roles = 0;
  };
  std::vector<Binding> bindings;
  // Principal -> the person it belongs to (`person:` on a token or binding).
  // A principal not listed is a person of its own. The two-person rule
  // counts persons: a token and a certificate of one person are one admin.
  std::map<std::string, std::string> persons;
  // Reads (ReadRecords, GetCheckpoint) must carry a reason.
  bool require_read_reason = true;
  // Reads are recorded in the tenant's chain (category indelible.access).
  // Default: on when auth is enabled.
  bool record_reads = true;
  // Destructive admin actions need a second admin's approval.
  bool two_person_rule = true;
  uint64_t approval_window_seconds = 24 * 3600;
};

struct Principal {
  std::string name;
  // How the caller proved it: "token", "certificate", or "none" (open mode).
  std::string method;
  std::string peer;  // transport address, e.g. "ipv4:127.0.0.1:51234"
  // The person behind the principal (auth.persons; default: the name).
  std::string person;
};

// Hex SHA-256 of a bearer token, as the config stores it.
std::string HashToken(std::string_view token);

class Authorizer {
 public:
  explicit Authorizer(AuthConfig config);

  // UNAUTHENTICATED when no valid identity is presented.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& ctx) const;

  // PERMISSION_DENIED unless `principal` holds one of `roles` on `tenant`
  // (or on "*"). The message names the principal, the tenant and `what`,
  // and is the same whether or not the tenant exists.
  absl::Status Check(const Principal& principal, std::string_view tenant,
                     RoleSet roles, std::string_view what) const;

  // Authenticate, then Check.
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& ctx,
                                      std::string_view tenant, RoleSet roles,
                                      std::string_view what) const;

  // The person `principal` belongs to: its `person:` in the config, or the
  // principal's own name.
  std::string PersonOf(std::string_view principal) const;

  // Every role `principal` holds on `tenant`.
  RoleSet RolesOn(const Principal& principal, std::string_view tenant) const;

  bool enabled() const;
  bool require_read_reason() const;
  bool record_reads() const;
  bool two_person_rule() const;
  uint64_t approval_window_seconds() const;

  // Swaps in new tokens, bindings and read rules (SIGHUP). `enabled` cannot
  // change at run time: a config that flips it is refused.
  absl::Status Reload(AuthConfig config);

 private:
  struct State {
    AuthConfig config;
    std::map<std::string, std::string> principal_by_token_hash;
    // principal -> tenant (or "*") -> roles
    std::map<std::string, std::map<std::string, RoleSet, std::less<>>, std::less<>> roles;
  };
  static std::shared_ptr<const State> Build(AuthConfig config);
  std::shared_ptr<const State> Get() const;

  mutable std::mutex mu_;
  std::shared_ptr<const State> state_;
};

// gRPC server credentials for `tls` (insecure when TLS is off). Reads the
// files; refuses a private key readable by group or others.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsConfig& tls);

// Makes every TLS context this process creates refuse anything below TLS 1.3
// (OpenSSL configuration, system_default section). Must run before anything
// in the process initialises OpenSSL: gRPC 1.51's C++ API has no setter for
// a minimum TLS version.
absl::Status ImposeTls13Minimum();

// Refuses a secret file (private key, token, HMAC key) that group or others
// may read or write; the message names the file and its mode, never content.
absl::Status CheckSecretFilePermissions(const std::string& path, std::string_view what);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SECURITY_AUTH_H_
