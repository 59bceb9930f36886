#include "daemon/security/auth.h"

#include "daemon/governance/config.h"
#include "gtest/gtest.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

Principal P(const std::string& name) { return Principal{name, "certificate", "test"}; }

AuthConfig Enforced() {
  AuthConfig c;
  c.enabled = true;
  c.bindings.push_back({"w", {"acme"}, Roles(Role::kWriter)});
  c.bindings.push_back({"r", {"acme", "globex"}, Role::kReader | Role::kAuditor});
  c.bindings.push_back({"boss", {"*"}, Roles(Role::kAdmin)});
  return c;
}

TEST(Authorizer, RolesArePerTenantAndWildcardCoversAll) {
  Authorizer a(Enforced());
  EXPECT_TRUE(a.Check(P("w"), "acme", Roles(Role::kWriter), "append").ok());
  EXPECT_FALSE(a.Check(P("w"), "globex", Roles(Role::kWriter), "append").ok());
  EXPECT_FALSE(a.Check(P("w"), "acme", Roles(Role::kReader), "read").ok());
  EXPECT_EQ(a.RolesOn(P("r"), "globex"), Role::kReader | Role::kAuditor);
  EXPECT_TRUE(a.Check(P("boss"), "anything", Roles(Role::kAdmin), "purge").ok());
  EXPECT_EQ(a.RolesOn(P("nobody"), "acme"), 0);
}

TEST(Authorizer, DenialNamesPrincipalActionTenantAndRole) {
  Authorizer a(Enforced());
  absl::Status s = a.Check(P("w"), "globex", Role::kReader | Role::kAuditor, "read records");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "principal \"w\" may not read records on tenant \"globex\": needs role "
            "reader|auditor");
}

TEST(Authorizer, OpenModeGrantsEverythingButRecordsAndAsksNothing) {
  Authorizer a{AuthConfig{}};
  EXPECT_FALSE(a.enabled());
  EXPECT_EQ(a.RolesOn(P("anonymous"), "x"),
            Role::kWriter | Role::kReader | Role::kAuditor | Role::kAdmin);
  EXPECT_FALSE(a.require_read_reason());
  EXPECT_FALSE(a.record_reads());
  EXPECT_FALSE(a.two_person_rule());
}

TEST(Authorizer, ReloadSwapsBindingsButNotTheMode) {
  Authorizer a(Enforced());
  AuthConfig next = Enforced();
  next.bindings.push_back({"w", {"globex"}, Roles(Role::kWriter)});
  ASSERT_TRUE(a.Reload(next).ok());
  EXPECT_TRUE(a.Check(P("w"), "globex", Roles(Role::kWriter), "append").ok());
  EXPECT_EQ(a.Reload(AuthConfig{}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(a.enabled());
}

TEST(Authorizer, TokensAreMatchedByHash) {
  EXPECT_EQ(HashToken("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthConfigParse, ReadsTlsTokensAndBindings) {
  auto c = ParseConfig(R"(
tls:
  cert_file: /s.pem
  key_file: /s.key
  client_ca_file: /ca.pem
auth:
  enabled: true
  approval_window: 12h
  tokens:
    - {principal: svc, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad}
  bindings:
    - {principal: svc, roles: [writer, reader], tenants: [acme, "*"]}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls.enabled());
  EXPECT_EQ(c->tls.client_ca_file, "/ca.pem");
  EXPECT_TRUE(c->auth.enabled);
  EXPECT_TRUE(c->auth.record_reads);
  EXPECT_EQ(c->auth.approval_window_seconds, 12u * 3600);
  ASSERT_EQ(c->auth.bindings.size(), 1u);
  EXPECT_EQ(c->auth.bindings[0].roles, Role::kWriter | Role::kReader);
  EXPECT_EQ(c->auth.bindings[0].tenants, (std::vector<std::string>{"acme", "*"}));
}

TEST(AuthConfigParse, ErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* want;
  } cases[] = {
      {"auth:\n  bindings:\n    - {principal: a, roles: [god], tenants: [x]}\n",
       "auth.bindings[0].roles: unknown role \"god\""},
      {"auth:\n  bindings:\n    - {principal: a, roles: [admin]}\n",
       "auth.bindings[0].tenants: required"},
      {"auth:\n  bindings:\n    - {principal: a, roles: [admin], tenants: [\"Bad T\"]}\n",
       "auth.bindings[0].tenants: \"Bad T\" is not a tenant id"},
      {"auth:\n  tokens:\n    - {principal: a, sha256: hunter2}\n",
       "auth.tokens[0].sha256: want the token's SHA-256"},
      {"auth:\n  tokens:\n    - {sha256: x}\n", "auth.tokens[0].principal: required"},
      {"tls:\n  cert: x\n", "unknown key tls.cert"},
  };
  for (const Case& k : cases) {
    auto c = ParseConfig(k.yaml);
    ASSERT_FALSE(c.ok()) << k.yaml;
    EXPECT_NE(std::string(c.status().message()).find(k.want), std::string::npos)
        << c.status().message();
    // A token's text never appears in the error.
    EXPECT_EQ(std::string(c.status().message()).find("hunter2"), std::string::npos);
  }
}

TEST(AuthConfigParse, NonLoopbackNeedsTlsAndAuth) {
  auto c = ParseConfig("listen: 0.0.0.0:7410\n");
  ASSERT_TRUE(c.ok());
  absl::Status s = ValidateConfig(*c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("needs tls"), std::string::npos) << s.message();
  c = ParseConfig(
      "listen: 0.0.0.0:7410\ntls: {cert_file: a, key_file: b}\nauth: {enabled: true}\n"
      "log_name: audit.example.com\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(ValidateConfig(*c).ok());
  c = ParseConfig("listen: 0.0.0.0:7410\ntls: {cert_file: a, key_file: b}\n");
  EXPECT_FALSE(ValidateConfig(*c).ok());
}

}  // namespace
}  // namespace indelible
