#include "daemon/security/redaction.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "daemon/governance/config.h"
#include "daemon/write/ingest.h"
#include "gtest/gtest.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

// 0x00..0x1f: the key of the pseudonym vector in docs/SECURITY.md.
std::string VectorKey() {
  std::string k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>(i));
  return k;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}
bool Contains(const std::string& haystack, std::string_view needle) {
  return Contains(std::string_view(haystack), needle);
}
bool Contains(absl::string_view haystack, std::string_view needle) {
  return Contains(std::string_view(haystack.data(), haystack.size()), needle);
}

class TempFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/indelible-redaction-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteKey(const std::string& name, const std::string& bytes, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    chmod(path.c_str(), mode);
    return path;
  }

  std::string dir_;
};

chain::EventFields Fields(const std::string& tenant = "acme") {
  chain::EventFields f;
  f.tenant = tenant;
  f.event_id = "e-1";
  f.actor_id = "alice@example.com";
  f.actor_type = "user";
  f.actor_ip = "203.0.113.7";
  f.action = "customer.read";
  f.resource_type = "customer";
  f.resource_id = "cus_1";
  f.reason = "ticket T-1";
  f.outcome = "allowed";
  f.source = "crm";
  f.category = "access";
  f.metadata = {{"email", "alice@example.com"}, {"card", "4111111111111111"},
                {"note", "password=hunter2"}};
  return f;
}

TEST(Mask, KeepsTheLastCodePoints) {
  EXPECT_EQ(MaskKeepLast("4111111111111111", 4), "************1111");
  EXPECT_EQ(MaskKeepLast("secret", 0), "******");
  EXPECT_EQ(MaskKeepLast("", 4), "");
}

TEST(Mask, CountsCodePointsNotBytes) {
  // "müller☕" is 7 code points in 10 bytes.
  EXPECT_EQ(MaskKeepLast("müller☕", 1), "******☕");
  EXPECT_EQ(MaskKeepLast("müller☕", 5), "**ller☕");
  EXPECT_EQ(MaskKeepLast("müller☕", 6), "*üller☕");
  EXPECT_EQ(MaskKeepLast("日本語です", 2), "***です");
  EXPECT_EQ(MaskKeepLast("a😀b", 2), "*😀b");
}

TEST(Mask, NeverPassesAWholeValueThrough) {
  EXPECT_EQ(MaskKeepLast("1234", 4), "****");
  EXPECT_EQ(MaskKeepLast("12", 4), "**");
  EXPECT_EQ(MaskKeepLast("☕☕", 9), "**");
}

TEST(Pseudonym, MatchesTheDocumentedVector) {
  PseudonymKey key(VectorKey());
  // printf 'indelible/v1/pseudonym\0acme\0alice@example.com' |
  //   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f
  EXPECT_EQ(key.Pseudonym("acme", "alice@example.com"),
            "hmac:f3c112b79dcffc591dec39aae20d1b69");
  EXPECT_EQ(key.Pseudonym("other", "alice@example.com"),
            "hmac:513200917ecdbfcde7ae12b4dcc056a8");
  EXPECT_EQ(key.Pseudonym("acme", "alice@example.com"),
            key.Pseudonym("acme", "alice@example.com"));
  EXPECT_NE(key.Pseudonym("acme", "bob@example.com"),
            key.Pseudonym("acme", "alice@example.com"));
  PseudonymKey other(std::string(32, 'x'));
  EXPECT_NE(other.Pseudonym("acme", "alice@example.com"),
            key.Pseudonym("acme", "alice@example.com"));
}

TEST(FieldRules, ValidationNamesTheProblem) {
  auto msg = [](FieldRule r) { return std::string(ValidateFieldRule(r).message()); };
  EXPECT_TRUE(ValidateFieldRule({"actor.ip", RuleAction::kDrop, 0}).ok());
  EXPECT_TRUE(ValidateFieldRule({"metadata.a.b", RuleAction::kMask, 3}).ok());
  EXPECT_TRUE(ValidateFieldRule({"actor.id", RuleAction::kPseudonymize, 0}).ok());
  EXPECT_TRUE(ValidateFieldRule({"actor.id", RuleAction::kMask, 2}).ok());
  EXPECT_TRUE(Contains(msg({"actor.name", RuleAction::kDrop, 0}), "unknown field \"actor.name\""));
  EXPECT_TRUE(Contains(msg({"actor.id", RuleAction::kDrop, 0}), "cannot be dropped"));
  for (const char* fixed : {"tenant", "event_id", "action", "category", "occurred_at_ns"}) {
    EXPECT_TRUE(Contains(msg({fixed, RuleAction::kMask, 0}), "cannot be rewritten")) << fixed;
  }
  EXPECT_TRUE(Contains(msg({"metadata.", RuleAction::kDrop, 0}), "needs a key"));
  EXPECT_TRUE(Contains(msg({"reason", RuleAction::kDrop, 2}), "keep_last"));
  EXPECT_EQ(ParseRuleAction("hash").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TempFiles, AppliesEachActionAndDetectsSecretsElsewhere) {
  IngestRulesConfig cfg;
  TenantRulesConfig acme;
  acme.pseudonym_key_file = WriteKey("acme.hmac", VectorKey(), 0600);
  acme.rules = std::vector<FieldRule>{{"actor.ip", RuleAction::kDrop, 0},
                                      {"actor.id", RuleAction::kPseudonymize, 0},
                                      {"metadata.email", RuleAction::kPseudonymize, 0},
                                      {"metadata.card", RuleAction::kMask, 4},
                                      {"metadata.absent", RuleAction::kDrop, 0},
                                      {"resource.id", RuleAction::kMask, 0}};
  cfg.tenants["acme"] = acme;
  auto rules = IngestRules::Create(cfg);
  ASSERT_TRUE(rules.ok()) << rules.status();

  chain::EventFields f = Fields();
  f.reason = "login with Bearer abcdefghijklmnop1234";
  (*rules)->Apply(&f);
  EXPECT_EQ(f.tenant, "acme");
  EXPECT_EQ(f.event_id, "e-1");
  EXPECT_EQ(f.actor_ip, "");
  EXPECT_EQ(f.actor_id, "hmac:f3c112b79dcffc591dec39aae20d1b69");
  EXPECT_EQ(f.resource_id, "*****");
  EXPECT_EQ(f.reason, "login with Bearer [REDACTED:bearer_token]");
  EXPECT_EQ(f.action, "customer.read");
  ASSERT_EQ(f.metadata.size(), 3u);
  // Same input, same pseudonym, whichever field it is in.
  EXPECT_EQ(f.metadata[0], (std::pair<std::string, std::string>{"email", f.actor_id}));
  EXPECT_EQ(f.metadata[1].second, "************1111");
  EXPECT_EQ(f.metadata[2].second, "password=[REDACTED:password]");

  auto count = [&](std::string_view name) {
    for (size_t i = 0; i < IngestRules::kCounters; ++i) {
      if (IngestRules::CounterName(i) == name) return (*rules)->Count(i);
    }
    return uint64_t{999};
  };
  EXPECT_EQ(count("drop"), 1u);
  EXPECT_EQ(count("mask"), 2u);
  EXPECT_EQ(count("pseudonymize"), 2u);
  EXPECT_EQ(count("bearer_token"), 1u);
  EXPECT_EQ(count("password"), 1u);
  EXPECT_EQ(count("token"), 0u);

  // Other tenants get the default: detectors only.
  chain::EventFields g = Fields("globex");
  (*rules)->Apply(&g);
  EXPECT_EQ(g.actor_ip, "203.0.113.7");
  EXPECT_EQ(g.actor_id, "alice@example.com");
  EXPECT_EQ(g.metadata[2].second, "password=[REDACTED:password]");
}

TEST_F(TempFiles, DropRemovesMetadataEntriesAndEmptyValuesStayEmpty) {
  IngestRulesConfig cfg;
  cfg.defaults.pseudonym_key_file = WriteKey("k", VectorKey(), 0400);
  cfg.defaults.rules = std::vector<FieldRule>{{"metadata.card", RuleAction::kDrop, 0},
                                              {"outcome", RuleAction::kPseudonymize, 0},
                                              {"source", RuleAction::kMask, 2}};
  auto rules = IngestRules::Create(cfg);
  ASSERT_TRUE(rules.ok()) << rules.status();
  chain::EventFields f = Fields();
  f.outcome.clear();
  f.source.clear();
  (*rules)->Apply(&f);
  ASSERT_EQ(f.metadata.size(), 2u);
  EXPECT_EQ(f.metadata[0].first, "email");
  EXPECT_EQ(f.metadata[1].first, "note");
  EXPECT_EQ(f.outcome, "");
  EXPECT_EQ(f.source, "");
}

TEST_F(TempFiles, TenantSectionsInheritAndOverride) {
  IngestRulesConfig cfg;
  cfg.defaults.detect_secrets = false;
  cfg.defaults.rules = std::vector<FieldRule>{{"actor.ip", RuleAction::kDrop, 0}};
  TenantRulesConfig loud;
  loud.detect_secrets = true;  // rules inherited
  TenantRulesConfig own;
  own.rules = std::vector<FieldRule>{};  // replaces the default list
  cfg.tenants["loud"] = loud;
  cfg.tenants["own"] = own;
  auto rules = IngestRules::Create(cfg);
  ASSERT_TRUE(rules.ok()) << rules.status();

  chain::EventFields d = Fields("other");
  (*rules)->Apply(&d);
  EXPECT_EQ(d.actor_ip, "");
  EXPECT_EQ(d.metadata[2].second, "password=hunter2");  // detectors off

  chain::EventFields l = Fields("loud");
  (*rules)->Apply(&l);
  EXPECT_EQ(l.actor_ip, "");
  EXPECT_EQ(l.metadata[2].second, "password=[REDACTED:password]");

  chain::EventFields o = Fields("own");
  (*rules)->Apply(&o);
  EXPECT_EQ(o.actor_ip, "203.0.113.7");
  EXPECT_EQ(o.metadata[2].second, "password=hunter2");
}

TEST_F(TempFiles, ARuledFieldIsNotScannedAgain) {
  IngestRulesConfig cfg;
  cfg.defaults.rules = std::vector<FieldRule>{{"metadata.note", RuleAction::kMask, 7}};
  auto rules = IngestRules::Create(cfg);
  ASSERT_TRUE(rules.ok());
  chain::EventFields f = Fields();
  (*rules)->Apply(&f);
  EXPECT_EQ(f.metadata[2].second, "*********hunter2");
}

TEST_F(TempFiles, LooseKeyFilesAreRefusedNamingTheFileNotTheKey) {
  const std::string secret = "0123456789abcdef0123456789abcdef-very-secret";
  // Group read alone is allowed (docs/SECURITY.md, "Key files"); group
  // write or execute and any access for others are not.
  for (mode_t mode : {0650, 0604, 0660, 0644}) {
    const std::string path = WriteKey("loose.hmac", secret, mode);
    IngestRulesConfig cfg;
    cfg.tenants["acme"].pseudonym_key_file = path;
    auto rules = IngestRules::Create(cfg);
    ASSERT_EQ(rules.status().code(), absl::StatusCode::kFailedPrecondition) << mode;
    const std::string msg(rules.status().message());
    EXPECT_TRUE(Contains(msg, path)) << msg;
    EXPECT_TRUE(Contains(msg, "has mode 0")) << msg;
    EXPECT_FALSE(Contains(msg, "very-secret")) << msg;
  }
}

TEST_F(TempFiles, ShortMissingOrOddKeyFilesAreRefused) {
  auto refused = [&](const std::string& path, std::string_view what) {
    auto k = ReadPseudonymKeyFile(path);
    ASSERT_EQ(k.status().code(), absl::StatusCode::kFailedPrecondition) << path;
    EXPECT_TRUE(Contains(k.status().message(), path));
    EXPECT_TRUE(Contains(k.status().message(), what)) << k.status();
  };
  refused(WriteKey("short", "only-31-bytes-of-key-material!!", 0600), "31 bytes");
  refused(dir_ + "/missing", "No such file");
  refused(dir_, "not a regular file");
  auto ok = ReadPseudonymKeyFile(WriteKey("good", VectorKey(), 0600));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, VectorKey());
}

TEST(IngestRulesCreate, PseudonymizeWithoutKeyIsAnError) {
  IngestRulesConfig cfg;
  cfg.tenants["acme"].rules =
      std::vector<FieldRule>{{"metadata.email", RuleAction::kPseudonymize, 0}};
  auto rules = IngestRules::Create(cfg);
  ASSERT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(rules.status().message(), "ingest_rules.tenants.acme.rules[0]"));
}

TEST(IngestRulesConfig, ParsesTheDocumentedExample) {
  auto c = ParseConfig(R"(
ingest_rules:
  default:
    detect_secrets: true
  tenants:
    acme:
      pseudonym_key_file: /etc/indelible/keys/acme.hmac
      rules:
        - {field: actor.ip, action: drop}
        - {field: metadata.email, action: pseudonymize}
        - {field: metadata.card, action: mask, keep_last: 4}
    globex:
      detect_secrets: false
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const IngestRulesConfig& r = c->ingest_rules;
  EXPECT_EQ(r.defaults.detect_secrets, true);
  ASSERT_EQ(r.tenants.size(), 2u);
  const TenantRulesConfig& acme = r.tenants.at("acme");
  EXPECT_EQ(acme.pseudonym_key_file, "/etc/indelible/keys/acme.hmac");
  ASSERT_TRUE(acme.rules.has_value());
  ASSERT_EQ(acme.rules->size(), 3u);
  EXPECT_EQ((*acme.rules)[2].field, "metadata.card");
  EXPECT_EQ((*acme.rules)[2].action, RuleAction::kMask);
  EXPECT_EQ((*acme.rules)[2].keep_last, 4u);
  EXPECT_FALSE(acme.detect_secrets.has_value());
  EXPECT_EQ(r.tenants.at("globex").detect_secrets, false);
  EXPECT_FALSE(r.tenants.at("globex").rules.has_value());
}

TEST(IngestRulesConfig, ErrorsNameTheKeyPath) {
  struct Case {
    std::string yaml;
    std::string want;
  };
  const Case cases[] = {
      {"ingest_rules:\n  tenants:\n    acme:\n      rules:\n        - {field: actor.name, action: drop}\n",
       "ingest_rules.tenants.acme.rules[0].field: unknown field \"actor.name\""},
      {"ingest_rules:\n  tenants:\n    acme:\n      rules:\n        - {field: reason, action: drop}\n        - {field: reason, action: hash}\n",
       "ingest_rules.tenants.acme.rules[1].action: unknown action \"hash\""},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: event_id, action: mask, keep_last: 2}\n",
       "ingest_rules.default.rules[0].field: event_id cannot be rewritten"},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: actor.id, action: drop}\n",
       "ingest_rules.default.rules[0].action: actor.id is required"},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: reason, action: mask}\n",
       "ingest_rules.default.rules[0].keep_last: required"},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: reason, action: mask, keep_last: -1}\n",
       "ingest_rules.default.rules[0].keep_last"},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: reason, action: drop, keep_last: 1}\n",
       "ingest_rules.default.rules[0].keep_last: only for action mask"},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: reason, action: drop, color: red}\n",
       "unknown key ingest_rules.default.rules[0].color"},
      {"ingest_rules:\n  default:\n    detect_secret: true\n",
       "unknown key ingest_rules.default.detect_secret"},
      {"ingest_rules:\n  tenants:\n    Acme:\n      detect_secrets: false\n",
       "ingest_rules.tenants.Acme: not a valid tenant id"},
      {"ingest_rules:\n  tenants:\n    acme:\n      rules:\n        - {field: metadata.email, action: pseudonymize}\n",
       "ingest_rules.tenants.acme: rule metadata.email pseudonymizes, but no pseudonym_key_file"},
      {"ingest_rules:\n  tenants:\n    acme:\n      rules: {field: reason}\n",
       "ingest_rules.tenants.acme.rules must be a list"},
      {"ingest_rules:\n  default:\n    rules:\n      - {field: reason, action: drop}\n      - {field: reason, action: mask, keep_last: 1}\n",
       "ingest_rules.default.rules[1].field: reason already has a rule"},
      {"ingest_rules:\n  tenants:\n    acme:\n      detect_secrets: maybe\n",
       "ingest_rules.tenants.acme.detect_secrets: invalid value"},
  };
  for (const Case& c : cases) {
    auto r = ParseConfig(c.yaml);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_TRUE(Contains(r.status().message(), c.want))
        << "got \"" << r.status().message() << "\", want " << c.want;
  }
  // A default key serves tenants that pseudonymize.
  EXPECT_TRUE(ParseConfig("ingest_rules:\n  default:\n    pseudonym_key_file: /k\n"
                          "  tenants:\n    acme:\n      rules:\n"
                          "        - {field: actor.id, action: pseudonymize}\n")
                  .ok());
}

// Ingest validates the input, then applies the rules, then encodes.
TEST_F(TempFiles, PrepareEventAppliesRulesAfterValidation) {
  IngestRulesConfig cfg;
  cfg.defaults.pseudonym_key_file = WriteKey("k", VectorKey(), 0600);
  cfg.defaults.rules = std::vector<FieldRule>{{"actor.ip", RuleAction::kDrop, 0},
                                              {"actor.id", RuleAction::kPseudonymize, 0}};
  auto rules = IngestRules::Create(cfg);
  ASSERT_TRUE(rules.ok());
  const auto salt = [](chain::Salt* s) {
    s->fill(1);
    return absl::OkStatus();
  };
  v1::Event e;
  e.set_tenant("acme");
  e.set_event_id("e-1");
  e.mutable_actor()->set_id("alice@example.com");
  e.mutable_actor()->set_ip("203.0.113.7");
  e.set_action("login");
  e.set_reason("password=hunter2");
  PreparedEvent p;
  ASSERT_TRUE(PrepareEvent(e, {}, 1, salt, "event", &p, rules->get()).ok());
  EXPECT_EQ(p.event_id, "e-1");
  std::string_view s, ce;
  ASSERT_TRUE(store::DecodeBody(p.body, &s, &ce));
  EXPECT_FALSE(Contains(ce, "alice"));
  EXPECT_FALSE(Contains(ce, "203.0.113.7"));
  EXPECT_FALSE(Contains(ce, "hunter2"));
  auto f = chain::DecodeCanonicalEvent(ce);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->actor_id, "hmac:f3c112b79dcffc591dec39aae20d1b69");
  EXPECT_EQ(f->actor_ip, "");
  EXPECT_EQ(f->reason, "password=[REDACTED:password]");
  EXPECT_EQ(p.body_digest, chain::BodyDigest(s, ce));

  // A field that a rule drops is still validated as sent.
  e.mutable_actor()->set_ip("not-an-ip");
  absl::Status bad = PrepareEvent(e, {}, 1, salt, "event", &p, rules->get());
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad.message(), "event.actor.ip"));
}

}  // namespace
}  // namespace indelible
