#include "daemon/governance/config.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "verifier/chain/cosignature.h"

namespace indelible {
namespace {

// The verifier key of a witness named `name` (a fixed seed per name).
std::string WitnessKey(const std::string& name) {
  auto key = chain::Ed25519PrivateKey::FromSeed(std::string(32, name.back()));
  EXPECT_TRUE(key.ok());
  return chain::CosignerKeyString(chain::Cosigner(name, *std::move(key)).key());
}

absl::Status ParseAndValidate(const std::string& yaml) {
  auto c = ParseConfig(yaml);
  if (!c.ok()) return c.status();
  return ValidateConfig(*c);
}

TEST(ConfigWitnesses, ReadsTheListAndDefaultsTheQuorumToAll) {
  const std::string k1 = WitnessKey("w.example/1"), k2 = WitnessKey("w.example/2");
  auto c = ParseConfig("witnesses:\n"
                       "  - {name: w.example/1, url: \"http://127.0.0.1:7420\", key: \"" + k1 +
                       "\"}\n"
                       "  - name: w.example/2\n    url: https://w2.example:8443/prefix/\n"
                       "    key: \"" + k2 + "\"\n"
                       "    tls: {ca_file: ca.pem, cert_file: c.pem, key_file: c.key}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  ASSERT_EQ(c->witnesses.size(), 2u);
  EXPECT_EQ(c->witnesses[1].tls_ca_file, "ca.pem");
  EXPECT_EQ(c->witnesses[1].tls_key_file, "c.key");
  EXPECT_EQ(EffectiveWitnessQuorum(*c), 2u);
  auto url = SplitWitnessUrl(c->witnesses[1].url);
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->host, "w2.example");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path_prefix, "/prefix");
}

TEST(ConfigWitnesses, ErrorsNameTheField) {
  const std::string k1 = WitnessKey("w.example/1");
  const std::string ok_entry =
      "  - {name: w.example/1, url: \"http://127.0.0.1:1\", key: \"" + k1 + "\"}\n";
  struct Case {
    std::string yaml, field;
  } cases[] = {
      {"witnesses: 3\n", "witnesses must be a list"},
      {"witnesses: [{name: a, url: \"http://127.0.0.1:1\"}]\n", "witnesses[0].key: required"},
      {"witnesses: [{name: a, url: \"http://127.0.0.1:1\", key: nonsense}]\n",
       "witnesses[0].key:"},
      {"witnesses: [{name: w.example/9, url: \"http://127.0.0.1:1\", key: \"" + k1 + "\"}]\n",
       "witnesses[0].name:"},
      {"witnesses: [{name: w.example/1, key: \"" + k1 + "\"}]\n", "witnesses[0].url: required"},
      {"witnesses: [{name: w.example/1, url: \"ftp://x\", key: \"" + k1 + "\"}]\n",
       "witnesses[0].url:"},
      {"witnesses: [{name: w.example/1, url: \"http://w.example:80\", key: \"" + k1 + "\"}]\n",
       "witnesses[0].url: http://w.example:80 is plain http off loopback"},
      {"witnesses: [{name: w.example/1, url: \"https://w:99999\", key: \"" + k1 + "\"}]\n",
       "witnesses[0].url:"},
      {"witnesses: [{name: w.example/1, url: \"https://w\", key: \"" + k1 +
           "\", tls: {cert_file: c.pem}}]\n",
       "witnesses[0].tls: cert_file and key_file go together"},
      {"witnesses: [{name: w.example/1, url: \"https://w\", key: \"" + k1 +
           "\", tls: {ca: x}}]\n",
       "unknown key witnesses[0].tls.ca"},
      {"witnesses: [{name: w.example/1, url: \"https://w\", key: \"" + k1 + "\", nmae: x}]\n",
       "unknown key witnesses[0].nmae"},
      {"witnesses:\n" + ok_entry + ok_entry, "witnesses[1].name: w.example/1 is listed twice"},
      {"witness_quorum: 2\nwitnesses:\n" + ok_entry, "witness_quorum: 2 is more than the 1"},
      {"witness_quorum: 1\n", "witness_quorum: 1 is more than the 0"},
  };
  for (const Case& c : cases) {
    const absl::Status s = ParseAndValidate(c.yaml);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << c.yaml << " -> " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.field)) << c.yaml << " -> " << s;
  }
}

// A quorum of at most half the witnesses lets two views of one size each
// reach it: refused at start unless explicitly allowed.
TEST(ConfigWitnesses, QuorumMustBeAMajority) {
  std::string two;
  for (const std::string name : {"w.example/1", "w.example/2"}) {
    two += "  - {name: " + name + ", url: \"http://127.0.0.1:1\", key: \"" + WitnessKey(name) +
           "\"}\n";
  }
  const std::string three = two + "  - {name: w.example/3, url: \"http://127.0.0.1:1\", key: \"" +
                            WitnessKey("w.example/3") + "\"}\n";
  absl::Status s = ParseAndValidate("witness_quorum: 1\nwitnesses:\n" + two);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(),
                                "witness_quorum: 1 of 2 witnesses is not a majority"))
      << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "witness_allow_minority_quorum")) << s;
  EXPECT_FALSE(ParseAndValidate("witness_quorum: 1\nwitnesses:\n" + three).ok());
  EXPECT_TRUE(ParseAndValidate("witness_quorum: 2\nwitnesses:\n" + three).ok());
  EXPECT_TRUE(ParseAndValidate("witnesses:\n" + two).ok());  // default: all
  EXPECT_TRUE(
      ParseAndValidate("witness_quorum: 1\nwitness_allow_minority_quorum: true\nwitnesses:\n" + two)
          .ok());
}

TEST(Config, EmptyMeansDefaults) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:7410");
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(Config, ReadsValues) {
  auto c = ParseConfig(R"(
listen: 127.0.0.1:9000
data_dir: /var/lib/indelible
log_level: debug
limits:
  max_event_bytes: 1000
  max_future_skew_seconds: 60
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:9000");
  EXPECT_EQ(c->data_dir, "/var/lib/indelible");
  EXPECT_EQ(c->limits.max_event_bytes, 1000u);
  EXPECT_EQ(c->limits.max_future_skew_ns, 60ull * 1000000000);
}

TEST(Config, StorageMemoryBounds) {
  auto d = ParseConfig("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->storage.memtable_budget_bytes, size_t{112} << 20);
  EXPECT_EQ(d->storage.max_total_wal_bytes, uint64_t{256} << 20);
  auto c = ParseConfig("memtable_budget_bytes: 33554432\nmax_total_wal_bytes: 0\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->storage.memtable_budget_bytes, size_t{32} << 20);
  EXPECT_EQ(c->storage.max_total_wal_bytes, 0u);
  auto bad = ParseConfig("memtable_budget_bytes: lots\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("memtable_budget_bytes"), std::string::npos)
      << bad.status();
}

TEST(Config, MaxQueuedEventsHasADefaultAndIsValidated) {
  auto d = ParseConfig("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->sequencer.max_queued_events, 8192u);
  auto c = ParseConfig("max_queued_events: 200\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sequencer.max_queued_events, 200u);
  EXPECT_TRUE(ValidateConfig(*c).ok());
  for (const std::string text : {"max_queued_events: 0\n", "max_queued_events: -1\n",
                                 "max_queued_events: many\n"}) {
    absl::Status s = ParseAndValidate(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(s.message().find("max_queued_events"), std::string::npos) << s;
  }
}

TEST(Config, UnknownKeyIsNamed) {
  auto c = ParseConfig("listne: 1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("listne"), std::string::npos);
  c = ParseConfig("limits:\n  max_evnt_bytes: 1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("limits.max_evnt_bytes"),
            std::string::npos);
}

TEST(Config, BadValueIsNamed) {
  auto c = ParseConfig("limits:\n  max_event_bytes: lots\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("limits.max_event_bytes"),
            std::string::npos);
  EXPECT_FALSE(ParseConfig("listen: [unclosed").ok());
}

TEST(Config, RefusesNonLoopbackWithoutTls) {
  auto c = ParseConfig("listen: 0.0.0.0:7410\n");
  ASSERT_TRUE(c.ok());
  absl::Status s = ValidateConfig(*c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("listen"), std::string::npos);
}

// v2 checkpoints name the deployment: required off loopback, a
// development default on it.
TEST(Config, LogNameRequiredOffLoopback) {
  const std::string secured =
      "listen: 0.0.0.0:7410\ntls: {cert_file: a, key_file: b}\nauth: {enabled: true}\n";
  auto c = ParseConfig(secured);
  ASSERT_TRUE(c.ok());
  absl::Status s = ValidateConfig(*c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("log_name: required"), std::string::npos)
      << s.message();
  c = ParseConfig(secured + "log_name: audit.example.com\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(ValidateConfig(*c).ok());
  EXPECT_EQ(EffectiveLogName(*c), "audit.example.com");
  for (const char* bad : {"log_name: \"a b\"\n", "log_name: /x\n", "log_name: x+y\n"}) {
    c = ParseConfig(bad);
    ASSERT_TRUE(c.ok()) << bad;
    s = ValidateConfig(*c);
    EXPECT_NE(std::string(s.message()).find("log_name"), std::string::npos) << bad;
  }
  c = ParseConfig("listen: 127.0.0.1:7410\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(ValidateConfig(*c).ok());
  EXPECT_EQ(EffectiveLogName(*c), kDevLogName);
}

// A metrics listener off loopback only when asked for by name.
TEST(Config, NonLoopbackMetricsNeedsExplicitConsent) {
  auto c = ParseConfig("metrics_listen: 0.0.0.0:9410\n");
  ASSERT_TRUE(c.ok());
  absl::Status s = ValidateConfig(*c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("metrics_allow_non_loopback"), std::string::npos);
  c = ParseConfig("metrics_listen: 0.0.0.0:9410\nmetrics_allow_non_loopback: true\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

// Only the test build knows the manual clock (indelibled-testing).
TEST(Config, ManualClockKeyIsRefused) {
  auto c = ParseConfig("testing_manual_clock: true\n");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(c.status().message()).find("testing_manual_clock"), std::string::npos);
}

TEST(Config, RefusesUnknownLogLevel) {
  auto c = ParseConfig("log_level: loud\n");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(ValidateConfig(*c).ok());
}

TEST(Config, BackupSection) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->backup.dir.empty());  // off
  EXPECT_EQ(c->backup.retention.keep_days, 14u);
  EXPECT_EQ(c->backup.retention.keep_count, 0u);
  EXPECT_EQ(c->backup.interval_seconds, 0u);
  c = ParseConfig(R"(
data_dir: /var/lib/indelible/data
backup:
  dir: /var/lib/indelible/backups
  keep_days: 30
  keep_count: 10
  interval: 6h
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->backup.dir, "/var/lib/indelible/backups");
  EXPECT_EQ(c->backup.retention.keep_days, 30u);
  EXPECT_EQ(c->backup.retention.keep_count, 10u);
  EXPECT_EQ(c->backup.interval_seconds, 6u * 3600);
  EXPECT_TRUE(ValidateConfig(*c).ok());

  c = ParseConfig("backup:\n  keep_dayz: 3\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("backup.keep_dayz"), std::string::npos);
  c = ParseConfig("backup:\n  interval: soon\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("backup.interval"), std::string::npos);
}

TEST(Config, BackupDirMustBeOutsideTheDataDir) {
  for (const char* yaml : {"data_dir: /srv/ind\nbackup:\n  dir: /srv/ind/backups\n",
                           "data_dir: /srv/ind\nbackup:\n  dir: /srv/ind\n",
                           "data_dir: /srv/b/data\nbackup:\n  dir: /srv/b\n",
                           "backup:\n  interval: 24h\n"}) {
    auto c = ParseConfig(yaml);
    ASSERT_TRUE(c.ok()) << yaml;
    absl::Status s = ValidateConfig(*c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << yaml;
    EXPECT_NE(std::string(s.message()).find("backup."), std::string::npos) << s;
  }
  auto c = ParseConfig("data_dir: /srv/ind/data\nbackup:\n  dir: /srv/ind/data-backups\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

// Found by tests/fuzz/config_fuzz: yaml-cpp throws when a scalar is
// subscripted or a non-scalar key is read as text; none of that may escape
// ParseConfig (it would end the daemon before it can say what is wrong).
TEST(Config, HostileShapesAreInvalidArgument) {
  for (const char* text : {
           "just a scalar",
           "- a list\n- at the top\n",
           "retention: 30d\n",
           "limits: 5\n",
           "retention:\n  categories: 7\n",
           "retention:\n  tenants:\n    acme: 7\n",
           "? [a, b]\n: 1\n",
           "limits:\n  ? {x: 1}\n  : 2\n",
           "retention:\n  categories:\n    ? [access]\n    : 30d\n",
           "retention:\n  tenants:\n    ? [acme]\n    : {access: 30d}\n",
           "listen: {a: 1}\n",
       }) {
    auto c = ParseConfig(text);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(Config, FutureSkewThatOverflowsIsRefused) {
  auto c = ParseConfig("limits:\n  max_future_skew_seconds: 18446744073709551615\n");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  c = ParseConfig("limits:\n  max_future_skew_seconds: 18446744073\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits.max_future_skew_ns, 18446744073ull * 1000000000);
}

TEST(Config, KeyNameMustFitASignatureLine) {
  for (const char* text : {"key_name: \"a b\"\n", "key_name: \"a+b\"\n",
                           "key_name: \"a\\rb\"\n", "key_name: \"a\\x01b\"\n"}) {
    auto c = ParseConfig(text);
    ASSERT_TRUE(c.ok()) << text;
    EXPECT_FALSE(ValidateConfig(*c).ok()) << text;
  }
}

}  // namespace
}  // namespace indelible
