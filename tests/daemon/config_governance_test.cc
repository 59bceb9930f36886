#include "daemon/governance/config_governance.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "daemon/security/auth.h"
#include "daemon/governance/config.h"
#include "gtest/gtest.h"
#include "verifier/chain/cosignature.h"

namespace indelible {
namespace {

DaemonConfig Parse(const std::string& yaml) {
  auto c = ParseConfig(yaml);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : DaemonConfig();
}

constexpr char kAuth[] =
    "auth:\n"
    "  enabled: true\n"
    "  tokens:\n"
    "    - {principal: alice-ci, person: alice, sha256: "
    "0000000000000000000000000000000000000000000000000000000000000000}\n"
    "  bindings:\n"
    "    - {principal: alice, roles: [admin], tenants: [\"*\"]}\n"
    "    - {principal: alice-ci, roles: [admin], tenants: [\"*\"]}\n"
    "    - {principal: bob, roles: [reader], tenants: [acme]}\n";

GovernedSettings Of(const std::string& yaml) { return GovernedSettingsOf(Parse(yaml)); }

bool Mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return absl::StrContains(l, text); });
}

std::string WitnessEntry(const std::string& name, char seed) {
  auto key = chain::Ed25519PrivateKey::FromSeed(std::string(32, seed));
  EXPECT_TRUE(key.ok());
  const std::string vkey = chain::CosignerKeyString(chain::Cosigner(name, *std::move(key)).key());
  return "  - {name: " + name + ", url: \"http://127.0.0.1:7420\", key: \"" + vkey + "\"}\n";
}

TEST(GovernedWitnesses, RemovingAWitnessOrLoweringTheQuorumWeakens) {
  const std::string w1 = WitnessEntry("w.example/1", 'a'), w2 = WitnessEntry("w.example/2", 'b');
  const GovernedSettings both = Of("witnesses:\n" + w1 + w2);
  EXPECT_EQ(both.at("witness_quorum"), "2");
  EXPECT_TRUE(absl::StartsWith(both.at("witnesses[w.example/1]"), "w.example/1+"));
  // Adding a witness, or raising the quorum, is not weaker.
  EXPECT_TRUE(FindWeakenings(Of("witnesses:\n" + w1), both).empty());
  EXPECT_TRUE(FindWeakenings(Of("witness_quorum: 1\nwitnesses:\n" + w1 + w2), both).empty());
  EXPECT_TRUE(Mentions(FindWeakenings(both, Of("witnesses:\n" + w1)),
                       "witnesses[w.example/2]: removed"));
  EXPECT_TRUE(Mentions(FindWeakenings(both, Of("witness_quorum: 1\nwitnesses:\n" + w1 + w2)),
                       "witness_quorum: 2 -> 1"));
  EXPECT_TRUE(Mentions(FindWeakenings(both, Of("witnesses:\n" + w1 +
                                               WitnessEntry("w.example/2", 'c'))),
                       "witnesses[w.example/2]: another key"));
  EXPECT_FALSE(DiffGovernedSettings(both, Of("witnesses:\n" + w1)).empty());
  // Without witnesses there is nothing new on record.
  EXPECT_EQ(Of("").count("witness_quorum"), 0u);
  EXPECT_TRUE(Mentions(FindWeakenings(both, Of("")), "witnesses[w.example/1]: removed"));
}

TEST(ConfigPersons, PersonOnTokensAndBindingsMapsPrincipals) {
  DaemonConfig c = Parse(kAuth);
  EXPECT_EQ(c.auth.persons.at("alice-ci"), "alice");
  Authorizer a(c.auth);
  EXPECT_EQ(a.PersonOf("alice-ci"), "alice");
  EXPECT_EQ(a.PersonOf("alice"), "alice");
  EXPECT_EQ(a.PersonOf("bob"), "bob");
}

TEST(ConfigPersons, ConflictingPersonsAreNamed) {
  auto c = ParseConfig(
      "auth:\n  enabled: true\n  bindings:\n"
      "    - {principal: x, person: p1, roles: [admin], tenants: [acme]}\n"
      "    - {principal: x, person: p2, roles: [reader], tenants: [acme]}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(c.status().message(), "auth.bindings[1].person"))
      << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "auth.bindings[0].person"))
      << c.status();
}

TEST(GovernedSettings, FlattenDiffAndScope) {
  const GovernedSettings before = Of(kAuth);
  EXPECT_EQ(before.at("auth.bindings[bob][acme]"), "reader");
  EXPECT_EQ(before.at("auth.persons[alice-ci]"), "alice");
  EXPECT_EQ(before.at("retention.categories[trace]"), "90d");
  const GovernedSettings after = Of(std::string(kAuth) +
                                    "    - {principal: bob, roles: [reader], tenants: [globex]}\n"
                                    "retention:\n  tenants:\n    acme:\n      trace: 120d\n");
  const auto changes = DiffGovernedSettings(before, after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].key, "auth.bindings[bob][globex]");
  EXPECT_EQ(changes[0].old_value, kUnset);
  EXPECT_EQ(changes[0].new_value, "reader");
  EXPECT_EQ(changes[0].tenant, "globex");
  EXPECT_EQ(changes[1].key, "retention.tenants[acme][trace]");
  EXPECT_EQ(changes[1].tenant, "acme");
  EXPECT_TRUE(FindWeakenings(before, after).empty());
  // A global setting concerns every tenant.
  const auto global = DiffGovernedSettings(
      before, Of(std::string(kAuth) + "  approval_window: 1h\n"));
  ASSERT_EQ(global.size(), 1u);
  EXPECT_FALSE(global[0].tenant.has_value());
  EXPECT_EQ(global[0].old_value, "1d");
  EXPECT_EQ(global[0].new_value, "1h");
}

TEST(GovernedSettings, EncodingRoundTrips) {
  const GovernedSettings s = Of(kAuth);
  auto back = DecodeGovernedSettings(EncodeGovernedSettings(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(DecodeGovernedSettings("[1]").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeGovernedSettings("{\"a\": 1}").status().code(), absl::StatusCode::kDataLoss);
}

TEST(GovernedSettings, WeakeningsAreFound) {
  const GovernedSettings base = Of(kAuth);
  const std::string auth(kAuth);
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(auth + "  two_person_rule: false\n")),
                       "auth.two_person_rule"));
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(auth + "  record_reads: false\n")),
                       "auth.record_reads"));
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(auth + "  require_read_reason: false\n")),
                       "auth.require_read_reason"));
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of("auth:\n  enabled: false\n")), "auth.enabled"));
  // Shorter retention, wherever it is set.
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(auth + "retention:\n  default: 100d\n")),
                       "other categories: 365d -> 100d"));
  EXPECT_TRUE(Mentions(
      FindWeakenings(base, Of(auth + "retention:\n  tenants:\n    acme:\n      \"*\": 30d\n")),
      "tenant acme, category access: 365d -> 30d"));
  // Removing a tenant's entry falls back to the category's (90d > 30d):
  // longer; putting it back is shorter.
  const GovernedSettings short_trace =
      Of(auth + "retention:\n  tenants:\n    acme:\n      trace: 30d\n");
  EXPECT_TRUE(FindWeakenings(short_trace, base).empty());
  EXPECT_TRUE(Mentions(FindWeakenings(base, short_trace), "category trace: 90d -> 30d"));
  // One person made two.
  std::string split = auth;
  split.replace(split.find("person: alice"), 13, "person: carol");
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(split)), "were one person"));
  // Backups kept for less time or in smaller number.
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(auth + "backup:\n  keep_days: 7\n")),
                       "backup.keep_days: 14 -> 7"));
  EXPECT_TRUE(Mentions(FindWeakenings(base, Of(auth + "backup:\n  keep_count: 3\n")),
                       "backup.keep_count: 0 -> 3"));
  // Stronger or neutral changes are not weakenings.
  EXPECT_TRUE(FindWeakenings(base, Of(auth + "retention:\n  default: 400d\n")).empty());
  EXPECT_TRUE(FindWeakenings(base, Of("auth:\n  enabled: true\n")).empty());
  EXPECT_TRUE(FindWeakenings(Of("auth:\n  enabled: true\n  two_person_rule: false\n"),
                             Of("auth:\n  enabled: true\n"))
                  .empty());
}

}  // namespace
}  // namespace indelible
