#include "daemon/security/auth.h"

#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(chain::ToAbsl(what), ": cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<Role> ParseRole(std::string_view name) {
  if (name == "writer") return Role::kWriter;
  if (name == "reader") return Role::kReader;
  if (name == "auditor") return Role::kAuditor;
  if (name == "admin") return Role::kAdmin;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", chain::ToAbsl(name), "\" (writer, reader, auditor, admin)"));
}

std::string RoleSetName(RoleSet roles) {
  std::string out;
  for (auto [r, n] : {std::pair{Role::kWriter, "writer"}, std::pair{Role::kReader, "reader"},
                      std::pair{Role::kAuditor, "auditor"}, std::pair{Role::kAdmin, "admin"}}) {
    if (roles & static_cast<uint8_t>(r)) absl::StrAppend(&out, out.empty() ? "" : "|", n);
  }
  return out.empty() ? "none" : out;
}

std::string HashToken(std::string_view token) {
  return chain::ToHex(chain::Sha256(token));
}

Authorizer::Authorizer(AuthConfig config) : state_(Build(std::move(config))) {}

std::shared_ptr<const Authorizer::State> Authorizer::Build(AuthConfig config) {
  auto s = std::make_shared<State>();
  for (const auto& t : config.tokens) s->principal_by_token_hash[t.sha256_hex] = t.principal;
  for (const auto& b : config.bindings) {
    for (const auto& tenant : b.tenants) s->roles[b.principal][tenant] |= b.roles;
  }
  s->config = std::move(config);
  return s;
}

std::shared_ptr<const Authorizer::State> Authorizer::Get() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

absl::Status Authorizer::Reload(AuthConfig config) {
  std::lock_guard<std::mutex> l(mu_);
  if (config.enabled != state_->config.enabled) {
    return absl::FailedPreconditionError(
        "auth.enabled cannot change while the daemon runs; restart it");
  }
  state_ = Build(std::move(config));
  return absl::OkStatus();
}

bool Authorizer::enabled() const { return Get()->config.enabled; }
bool Authorizer::require_read_reason() const {
  auto s = Get();
  return s->config.enabled && s->config.require_read_reason;
}
bool Authorizer::record_reads() const {
  auto s = Get();
  return s->config.enabled && s->config.record_reads;
}
bool Authorizer::two_person_rule() const {
  auto s = Get();
  return s->config.enabled && s->config.two_person_rule;
}
uint64_t Authorizer::approval_window_seconds() const {
  return Get()->config.approval_window_seconds;
}

std::string Authorizer::PersonOf(std::string_view principal) const {
  auto state = Get();
  auto it = state->config.persons.find(std::string(principal));
  return it == state->config.persons.end() ? std::string(principal) : it->second;
}

absl::StatusOr<Principal> Authorizer::Authenticate(const grpc::ServerContextBase& ctx) const {
  auto state = Get();
  Principal p;
  p.peer = ctx.peer();
  if (!state->config.enabled) {
    p.name = "anonymous";
    p.method = "none";
    p.person = p.name;
    return p;
  }
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it != md.end()) {
    std::string_view v(it->second.data(), it->second.size());
    constexpr std::string_view kBearer = "Bearer ";
    if (v.substr(0, kBearer.size()) != kBearer || v.size() == kBearer.size()) {
      return absl::UnauthenticatedError(
          "authorization: want \"Bearer <token>\"");
    }
    const std::string hash = HashToken(v.substr(kBearer.size()));
    auto t = state->principal_by_token_hash.find(hash);
    if (t == state->principal_by_token_hash.end()) {
      return absl::UnauthenticatedError("authorization: unknown bearer token");
    }
    p.name = t->second;
    p.method = "token";
    auto person = state->config.persons.find(p.name);
    p.person = person == state->config.persons.end() ? p.name : person->second;
    return p;
  }
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<grpc::string_ref> ids = auth->GetPeerIdentity();
    if (!ids.empty()) {
      p.name.assign(ids.front().data(), ids.front().size());
      p.method = "certificate";
      auto person = state->config.persons.find(p.name);
      p.person = person == state->config.persons.end() ? p.name : person->second;
      return p;
    }
  }
  return absl::UnauthenticatedError(
      "no credentials: present a client certificate or an authorization: Bearer token");
}

RoleSet Authorizer::RolesOn(const Principal& principal, std::string_view tenant) const {
  auto state = Get();
  if (!state->config.enabled) {
    return Role::kWriter | Role::kReader | Role::kAuditor | Role::kAdmin;
  }
  auto it = state->roles.find(principal.name);
  if (it == state->roles.end()) return 0;
  RoleSet r = 0;
  if (auto t = it->second.find(tenant); t != it->second.end()) r |= t->second;
  if (auto t = it->second.find(std::string_view(kAnyTenant)); t != it->second.end()) {
    r |= t->second;
  }
  return r;
}

absl::Status Authorizer::Check(const Principal& principal, std::string_view tenant,
                               RoleSet roles, std::string_view what) const {
  if (RolesOn(principal, tenant) & roles) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "principal \"", principal.name, "\" may not ", chain::ToAbsl(what), " on tenant \"",
      chain::ToAbsl(tenant),
      "\": needs role ", RoleSetName(roles)));
}

absl::StatusOr<Principal> Authorizer::Authorize(const grpc::ServerContextBase& ctx,
                                                std::string_view tenant, RoleSet roles,
                                                std::string_view what) const {
  auto p = Authenticate(ctx);
  if (!p.ok()) return p.status();
  if (auto s = Check(*p, tenant, roles, what); !s.ok()) return s;
  return p;
}

absl::Status CheckSecretFilePermissions(const std::string& path, std::string_view what) {
  return chain::CheckPrivateFile(path, what);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError("tls: cert_file and key_file go together");
  }
  if (auto s = CheckSecretFilePermissions(tls.key_file, "tls.key_file"); !s.ok()) return s;
  auto cert = ReadFile(tls.cert_file, "tls.cert_file");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(tls.key_file, "tls.key_file");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca_file.empty()) {
    auto ca = ReadFile(tls.client_ca_file, "tls.client_ca_file");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else {
    options.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  }
  return grpc::SslServerCredentials(options);
}

absl::Status ImposeTls13Minimum() {
  static constexpr char kConf[] =
      "openssl_conf = indelible_openssl_init\n"
      "[indelible_openssl_init]\n"
      "ssl_conf = indelible_ssl_module\n"
      "[indelible_ssl_module]\n"
      "system_default = indelible_tls_defaults\n"
      "[indelible_tls_defaults]\n"
      "MinProtocol = TLSv1.3\n"
      // gRPC sets its own minimum (TLS 1.2) on its contexts, which overrides
      // MinProtocol; the per-version "no TLS 1.x" options stay in force.
      "Protocol = -ALL, TLSv1.3\n";
  // An anonymous in-memory file: nothing on disk to tamper with or clean up.
  const int fd = memfd_create("indelible-openssl.cnf", MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError("tls: memfd_create failed");
  const ssize_t n = write(fd, kConf, sizeof(kConf) - 1);
  if (n != static_cast<ssize_t>(sizeof(kConf) - 1)) {
    close(fd);
    return absl::InternalError("tls: cannot write the OpenSSL configuration");
  }
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  // Loads the ssl_conf module afresh, even if OpenSSL already read the
  // system configuration: contexts created from now on get its defaults.
  const int ok = CONF_modules_load_file(path.c_str(), nullptr, 0);
  close(fd);
  if (ok <= 0) return absl::InternalError("tls: cannot load the TLS 1.3 minimum");
  // Check it took: a fresh context must refuse to go below TLS 1.3.
  SSL_CTX* probe = SSL_CTX_new(TLS_method());
  if (probe == nullptr) return absl::InternalError("tls: SSL_CTX_new failed");
  // Even after a context's minimum is lowered, as gRPC does.
  SSL_CTX_set_min_proto_version(probe, TLS1_2_VERSION);
  const uint64_t options = SSL_CTX_get_options(probe);
  SSL_CTX_free(probe);
  if ((options & SSL_OP_NO_TLSv1_2) == 0) {
    return absl::InternalError(
        "tls: OpenSSL did not take the TLS 1.3 minimum");
  }
  return absl::OkStatus();
}

}  // namespace indelible
