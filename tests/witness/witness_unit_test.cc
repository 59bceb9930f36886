// Unit tests of the witness library: request parsing, the state store, the
// config, and add-checkpoint decisions (in process, with an injected clock).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "tests/witness/test_log.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"
#include "witness/config.h"
#include "witness/state.h"
#include "witness/witness.h"

namespace indelible::witness {
namespace {

using testing::FormatV2;
using testing::TestLog;
using testing::TestLogSigner;

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "witness-unit-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string H(int i) { return chain::Base64Encode(chain::AsBytes(chain::Sha256(std::to_string(i)))); }

// --- request parsing --------------------------------------------------------

TEST(WitnessRequest, OldSizeProofAndCheckpoint) {
  const std::string note = "o\n1\nx\n\n— k AAAA\n";
  auto r = ParseAddCheckpointRequest("old 20852014\n" + H(1) + "\n" + H(2) + "\n\n" + note);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->old_size, 20852014u);
  ASSERT_EQ(r->proof.size(), 2u);
  EXPECT_EQ(r->proof[0], chain::Sha256("1"));
  EXPECT_EQ(r->proof[1], chain::Sha256("2"));
  EXPECT_EQ(r->checkpoint, note);
  EXPECT_EQ(AddCheckpointRequestText(*r), "old 20852014\n" + H(1) + "\n" + H(2) + "\n\n" + note);
  auto zero = ParseAddCheckpointRequest("old 0\n\n" + note);
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->old_size, 0u);
  EXPECT_TRUE(zero->proof.empty());
}

TEST(WitnessRequest, RejectsMalformedBodies) {
  const std::string cp = "o\n1\nx\n\n— k AAAA\n";
  for (const std::string& bad : {
           std::string(""),
           std::string("old 1"),                      // no newline
           "old 01\n\n" + cp,                         // leading zero
           "old -1\n\n" + cp,
           "old  1\n\n" + cp,
           "Old 1\n\n" + cp,
           "old 1 \n\n" + cp,
           "old 18446744073709551616\n\n" + cp,       // > 2^64 - 1
           "old 1\n" + H(1) + "\n" + cp,              // no blank line after the proof
           "old 1\n" + H(1).substr(0, 43) + "\n\n" + cp,  // not padded
           "old 1\n" + chain::Base64Encode(std::string(31, 'a')) + "\n\n" + cp,
           "old 1\n!!!!\n\n" + cp,
           std::string("old 1\n\n"),                  // no checkpoint
           "old 1\n" + H(1),                          // no blank line at all
       }) {
    // (Without the blank line the note's first lines are read as proof
    // lines, which they are not.)
    auto r = ParseAddCheckpointRequest(bad);
    EXPECT_FALSE(r.ok()) << "accepted: " << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(WitnessRequest, AtMost63ProofLines) {
  std::string body = "old 5\n";
  for (int i = 0; i < 63; ++i) body += H(i) + "\n";
  const std::string cp = "\no\n1\nx\n\n— k AAAA\n";
  auto ok = ParseAddCheckpointRequest(body + cp);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->proof.size(), 63u);
  auto too_many = ParseAddCheckpointRequest(body + H(63) + "\n" + cp);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("63"), absl::string_view::npos);
}

// --- state store ------------------------------------------------------------

TEST(WitnessStateStore, PutIsDurableAndReloaded) {
  TempDir dir;
  const OriginState a{7, chain::Sha256("a")}, b{9, chain::Sha256("b")};
  {
    auto store = StateStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_FALSE((*store)->Get("log.example/x").has_value());
    ASSERT_TRUE((*store)->Put("log.example/x", a).ok());
    ASSERT_TRUE((*store)->Put("log.example/y", b).ok());
    EXPECT_EQ((*store)->Get("log.example/x"), a);
  }
  auto store = StateStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Get("log.example/x"), a);
  EXPECT_EQ((*store)->Get("log.example/y"), b);
  auto snap = (*store)->Snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].first, "log.example/x");
  struct stat st;
  ASSERT_EQ(stat(dir.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(WitnessStateStore, NeverGoesBackwards) {
  TempDir dir;
  auto store = StateStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("o", {10, chain::Sha256("10")}).ok());
  EXPECT_EQ((*store)->Put("o", {9, chain::Sha256("9")}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->Get("o")->size, 10u);
}

TEST(WitnessStateStore, SecondOpenIsRefusedWhileLocked) {
  TempDir dir;
  auto first = StateStore::Open(dir.path());
  ASSERT_TRUE(first.ok());
  auto second = StateStore::Open(dir.path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(StateStore::Open(dir.path()).ok());
}

TEST(WitnessStateStore, DamagedFileIsReportedAndTempFilesIgnored) {
  TempDir dir;
  std::string file;
  {
    auto store = StateStore::Open(dir.path());
    ASSERT_TRUE((*store)->Put("o", {3, chain::Sha256("3")}).ok());
    file = std::filesystem::directory_iterator(dir.path() + "/origins")->path().string();
  }
  // A temporary file left by an interrupted write is dropped at open.
  std::ofstream(file + ".tmp") << "garbage";
  {
    auto store = StateStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Get("o")->size, 3u);
    EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
  }
  std::ofstream(file, std::ios::trunc) << "indelible-witness-state/v1\no\n3\n";
  auto damaged = StateStore::Open(dir.path());
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find(file), absl::string_view::npos);
  // A valid file under another origin's name is damage too.
  std::ofstream(file, std::ios::trunc) << StateFileText("other", {3, chain::Sha256("3")});
  EXPECT_EQ(StateStore::Open(dir.path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST(WitnessStateStore, FileTextRoundTrips) {
  const OriginState s{123, chain::Sha256("r")};
  std::string origin;
  OriginState back;
  ASSERT_TRUE(ParseStateFile(StateFileText("a.example/t", s), &origin, &back).ok());
  EXPECT_EQ(origin, "a.example/t");
  EXPECT_EQ(back, s);
  EXPECT_FALSE(ParseStateFile("indelible-witness-state/v1\no\n01\nAAAA\n", &origin, &back).ok());
}

// --- config -----------------------------------------------------------------

std::string ConfigText(const std::string& extra = "") {
  return "name: witness.test/w1\nkey_file: /k.pem\nstate_dir: /s\n" + extra +
         "logs:\n  - origin_prefix: indelible.test/\n    keys: [\"" +
         FormatV2().log_verifier_key + "\"]\n";
}

TEST(WitnessConfig, ParsesAndValidates) {
  auto c = ParseConfig(ConfigText("listen: 127.0.0.1:0\nmetrics_listen: '[::1]:9420'\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  EXPECT_EQ(c->name, "witness.test/w1");
  ASSERT_EQ(c->logs.size(), 1u);
  EXPECT_EQ(c->logs[0].origin_prefix, "indelible.test/");
  EXPECT_EQ(chain::NoteVerifierKeyString(c->logs[0].keys[0]), FormatV2().log_verifier_key);
}

TEST(WitnessConfig, ErrorsNameTheField) {
  struct Case {
    std::string yaml, field;
  };
  for (const Case& k : std::vector<Case>{
           {ConfigText("bogus: 1\n"), "unknown key bogus"},
           {ConfigText("tls: {cert_file: a, key_fil: b}\n"), "unknown key tls.key_fil"},
           {"name: w\nkey_file: k\nlogs:\n  - origin: a/b\n    keys: [nope]\n", "logs[0].keys[0]"},
           {"name: w\nkey_file: k\nlogs:\n  - origin: a/b\n    origin_prefix: a/\n    keys: [x]\n",
            "logs[0]: set exactly one"},
           {"name: w\nkey_file: k\nlogs:\n  - origin: a/b\n", "logs[0].keys"},
           {"logs: 3\n", "logs: must be a list"},
           {"name: [a]\n", "name: must be a string"},
       }) {
    auto c = ParseConfig(k.yaml);
    ASSERT_FALSE(c.ok()) << k.yaml;
    EXPECT_NE(c.status().message().find(k.field), absl::string_view::npos)
        << c.status() << " want " << k.field;
  }
  for (const Case& k : std::vector<Case>{
           {"key_file: k\nlogs: []\n", "config: name:"},
           {ConfigText("name: 'has space'\n").substr(22), "config: name:"},
           {"name: w\nlogs: []\n", "config: key_file:"},
           {"name: w\nkey_file: k\n", "config: logs:"},
           {ConfigText("listen: 0.0.0.0:7420\n"), "config: listen:"},
           {ConfigText("metrics_listen: 0.0.0.0:9\n"), "config: metrics_listen:"},
           {ConfigText("listen: nocolon\n"), "config: listen:"},
           {ConfigText("tls: {cert_file: a}\n"), "config: tls:"},
           {ConfigText("tls: {client_ca_file: a}\n"), "config: tls.client_ca_file:"},
           {ConfigText("log_level: loud\n"), "config: log_level:"},
       }) {
    auto c = ParseConfig(k.yaml);
    ASSERT_TRUE(c.ok()) << c.status() << k.yaml;
    const absl::Status s = ValidateConfig(*c);
    EXPECT_NE(s.message().find(k.field), absl::string_view::npos) << s << " want " << k.field;
  }
  // Off loopback with TLS is accepted.
  auto tls = ParseConfig(ConfigText("listen: 0.0.0.0:7420\ntls: {cert_file: c, key_file: k}\n"));
  ASSERT_TRUE(tls.ok());
  EXPECT_TRUE(ValidateConfig(*tls).ok());
}

// The container exposes the metrics port: off loopback only by explicit
// consent, as the daemon's metrics_allow_non_loopback.
TEST(WitnessConfig, NonLoopbackMetricsNeedExplicitConsent) {
  auto refused = ParseConfig(ConfigText("metrics_listen: 0.0.0.0:9420\n"));
  ASSERT_TRUE(refused.ok());
  const absl::Status s = ValidateConfig(*refused);
  EXPECT_NE(s.message().find("metrics_allow_non_loopback"), absl::string_view::npos) << s;
  auto allowed =
      ParseConfig(ConfigText("metrics_listen: 0.0.0.0:9420\nmetrics_allow_non_loopback: true\n"));
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(allowed->metrics_allow_non_loopback);
  EXPECT_TRUE(ValidateConfig(*allowed).ok()) << ValidateConfig(*allowed);
  auto bad = ParseConfig(ConfigText("metrics_allow_non_loopback: maybe\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("metrics_allow_non_loopback: must be true or false"),
            absl::string_view::npos)
      << bad.status();
}

TEST(WitnessConfig, ExampleFileIsValid) {
  auto c = LoadConfigFile(std::string(INDELIBLE_SOURCE_DIR) + "/deploy/witness.example.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  EXPECT_EQ(c->logs.size(), 2u);
  EXPECT_TRUE(c->tls.enabled());
}

// --- add-checkpoint ---------------------------------------------------------

class WitnessTest : public ::testing::Test {
 protected:
  WitnessTest() : log_("indelible.test", "acme", "leaves") {
    log_.Grow(64);
    auto store = StateStore::Open(dir_.path());
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    LogConfig lc;
    lc.origin_prefix = "indelible.test/";
    lc.keys = {TestLogSigner().verifier_key()};
    witness_ = std::make_unique<Witness>(
        std::vector<LogConfig>{lc},
        chain::Cosigner(FormatV2().witness_name,
                        *chain::Ed25519PrivateKey::FromSeed(FormatV2().witness_seed)),
        store_.get(), [this] { return now_; });
  }

  Response Add(uint64_t old_size, uint64_t n) {
    return witness_->AddCheckpoint(log_.Request(old_size, n, TestLogSigner()));
  }
  // The cosignature in `r` verifies over checkpoint size n at time now_.
  void ExpectCosigned(const Response& r, uint64_t n) {
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.result, Result::kCosigned);
    chain::WitnessPolicy policy{{witness_->key()}, 1};
    auto found = chain::VerifyCosignatures(log_.Note(n, TestLogSigner()) + r.body, policy);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ((*found)[0].timestamp, now_);
  }

  TempDir dir_;
  TestLog log_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Witness> witness_;
  uint64_t now_ = 1700000100;
};

TEST_F(WitnessTest, GoldenVectorCosignature) {
  LogConfig lc;
  lc.origin = FormatV2().origin;
  lc.keys = {*chain::ParseNoteVerifierKey(FormatV2().log_verifier_key)};
  Witness w({lc},
            chain::Cosigner(FormatV2().witness_name,
                            *chain::Ed25519PrivateKey::FromSeed(FormatV2().witness_seed)),
            store_.get(), [] { return FormatV2().cosignature_time; });
  EXPECT_EQ(chain::CosignerKeyString(w.key()), FormatV2().witness_verifier_key);
  const Response r = w.AddCheckpoint("old 0\n\n" + FormatV2().note);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type.substr(0, 10), "text/plain");
  EXPECT_EQ(FormatV2().note + r.body, FormatV2().cosigned_note);
}

TEST_F(WitnessTest, FirstCheckpointThenConsistentExtensions) {
  ExpectCosigned(Add(0, 5), 5);
  now_ += 10;
  ExpectCosigned(Add(5, 13), 13);
  ExpectCosigned(Add(13, 13), 13);  // the same tree again
  ExpectCosigned(Add(13, 64), 64);
  EXPECT_EQ(store_->Get(log_.Origin())->size, 64u);
  EXPECT_EQ(store_->Get(log_.Origin())->root, log_.Root(64));
  EXPECT_EQ(witness_->Count(Result::kCosigned), 4u);
}

TEST_F(WitnessTest, StaleOldSizeIs409WithTheCurrentSize) {
  ExpectCosigned(Add(0, 8), 8);
  for (uint64_t old_size : {0, 5, 9}) {
    const Response r = Add(old_size, 20);
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.content_type, "text/x.tlog.size");
    EXPECT_EQ(r.body, "8\n");
  }
  // Never cosigned: the current size is 0.
  TestLog other("indelible.test", "globex", "g");
  other.Grow(4);
  const Response r = witness_->AddCheckpoint(other.Request(2, 4, TestLogSigner()));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, "0\n");
}

TEST_F(WitnessTest, OldSizeAboveCheckpointSizeIs400) {
  ExpectCosigned(Add(0, 10), 10);
  const Response r = Add(10, 6);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(store_->Get(log_.Origin())->size, 10u);
}

TEST_F(WitnessTest, InconsistentTreeIs422AndStateUnchanged) {
  ExpectCosigned(Add(0, 10), 10);
  TestLog rewritten = log_;
  rewritten.RewriteFrom(7, "evil");
  const Response r = witness_->AddCheckpoint(rewritten.Request(10, 20, TestLogSigner()));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.result, Result::kBadProof);
  // A genuine proof with one hash flipped.
  AddCheckpointRequest req = *ParseAddCheckpointRequest(log_.Request(10, 20, TestLogSigner()));
  req.proof[0][0] ^= 1;
  EXPECT_EQ(witness_->AddCheckpoint(AddCheckpointRequestText(req)).status, 422);
  // A proof from old size 0 must be empty.
  TestLog fresh("indelible.test", "fresh", "f");
  fresh.Grow(4);
  req = *ParseAddCheckpointRequest(fresh.Request(0, 4, TestLogSigner()));
  req.proof = {chain::Sha256("x")};
  EXPECT_EQ(witness_->AddCheckpoint(AddCheckpointRequestText(req)).status, 422);
  EXPECT_EQ(store_->Get(log_.Origin())->size, 10u);
  EXPECT_FALSE(store_->Get(fresh.Origin()).has_value());
}

TEST_F(WitnessTest, SplitViewOnlyTheFirstIsCosigned) {
  TestLog fork = log_;
  fork.RewriteFrom(3, "fork");
  ExpectCosigned(Add(0, 6), 6);
  const Response same_old = witness_->AddCheckpoint(fork.Request(0, 6, TestLogSigner()));
  EXPECT_EQ(same_old.status, 409);
  EXPECT_EQ(same_old.body, "6\n");
  const Response same_size = witness_->AddCheckpoint(fork.Request(6, 6, TestLogSigner()));
  EXPECT_EQ(same_size.status, 409);
  EXPECT_NE(same_size.content_type, "text/x.tlog.size");
  EXPECT_EQ(store_->Get(log_.Origin())->root, log_.Root(6));
}

TEST_F(WitnessTest, UnknownOriginIs404) {
  TestLog other("other.test", "acme", "o");
  other.Grow(3);
  const Response r = witness_->AddCheckpoint(other.Request(0, 3, TestLogSigner()));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.result, Result::kUnknownLog);
  // The prefix must be followed by something: "indelible.test/" itself is no tenant.
  EXPECT_EQ(witness_->FindLog("indelible.test/"), nullptr);
  EXPECT_NE(witness_->FindLog("indelible.test/x"), nullptr);
  EXPECT_EQ(witness_->FindLog("indelible.testx/y"), nullptr);
}

TEST_F(WitnessTest, ForeignSignatureIs403AndUnknownSignaturesAreIgnored) {
  // A second key under the log's key name, and one under another name.
  const chain::NoteSigner same_name(FormatV2().log_key_name, *chain::Ed25519PrivateKey::Generate());
  const chain::NoteSigner other("intruder", *chain::Ed25519PrivateKey::Generate());
  for (const auto* signer : {&same_name, &other}) {
    const Response r = witness_->AddCheckpoint(log_.Request(0, 5, *signer));
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.result, Result::kForbidden);
  }
  // A bad signature under the trusted key's name and id.
  std::string note = log_.Note(5, TestLogSigner());
  note[note.size() - 5] = note[note.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(witness_->AddCheckpoint("old 0\n\n" + note).status, 403);
  EXPECT_FALSE(store_->Get(log_.Origin()).has_value());
  // The trusted signature plus an unknown one: the unknown one is ignored.
  const std::string two = log_.Note(5, TestLogSigner()) +
                          other.Sign(log_.Body(5)).substr(log_.Body(5).size() + 1);
  ExpectCosigned(witness_->AddCheckpoint("old 0\n\n" + two), 5);
}

TEST_F(WitnessTest, OneValidSignatureOfSeveralTrustedKeysSuffices) {
  // The log rotates: both keys are trusted; the old one's line is broken.
  const chain::NoteSigner next(FormatV2().log_key_name + "-next",
                               *chain::Ed25519PrivateKey::Generate());
  LogConfig lc;
  lc.origin = log_.Origin();
  lc.keys = {next.verifier_key(), TestLogSigner().verifier_key()};
  TempDir dir;
  auto store = StateStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  Witness w({lc}, chain::Cosigner("w", *chain::Ed25519PrivateKey::Generate()), store->get());
  std::string old_note = log_.Note(5, TestLogSigner());
  old_note[old_note.size() - 5] = old_note[old_note.size() - 5] == 'A' ? 'B' : 'A';
  const std::string both = old_note + next.Sign(log_.Body(5)).substr(log_.Body(5).size() + 1);
  EXPECT_EQ(w.AddCheckpoint("old 0\n\n" + both).status, 200);
  EXPECT_EQ(w.AddCheckpoint("old 5\n\n" + old_note).status, 403);
}

TEST_F(WitnessTest, MalformedCheckpointIs400) {
  EXPECT_EQ(witness_->AddCheckpoint("old 0\n\nnot a note\n").status, 400);
  EXPECT_EQ(witness_->AddCheckpoint("old 0\n\n" + log_.Body(3)).status, 400);
  EXPECT_EQ(witness_->AddCheckpoint("old x\n\n" + log_.Note(3, TestLogSigner())).status, 400);
  EXPECT_EQ(witness_->AddCheckpoint(std::string(kMaxRequestBytes + 1, 'a')).status, 413);
  EXPECT_EQ(witness_->Count(Result::kBadRequest), 4u);
}

TEST_F(WitnessTest, ConcurrentRequestsFromOneOldSizeAdvanceOnce) {
  ExpectCosigned(Add(0, 4), 4);
  std::vector<std::string> bodies;
  for (uint64_t n = 5; n < 37; ++n) bodies.push_back(log_.Request(4, n, TestLogSigner()));
  std::vector<int> status(bodies.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&, i] { status[i] = witness_->AddCheckpoint(bodies[i]).status; });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  size_t winner = 0;
  for (size_t i = 0; i < status.size(); ++i) {
    if (status[i] == 200) {
      ++ok;
      winner = i;
    } else {
      EXPECT_EQ(status[i], 409);
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(store_->Get(log_.Origin())->size, 5 + winner);
}

}  // namespace
}  // namespace indelible::witness
