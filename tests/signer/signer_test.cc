// Unit tests of indelible-signer's rule (signer/signer.h): it signs a v2
// checkpoint only as a consistent extension of the last one it signed for
// the origin, keeps that state across restarts, and signs nothing else than
// the v2 text and the v1 checkpoint and deletion certificate it derives.
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "signer/config.h"
#include "signer/signer.h"
#include "tests/witness/test_log.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/deletion.h"
#include "witness/extension.h"
#include "witness/state.h"

namespace indelible::signer {
namespace {

using witness::testing::TestLog;

constexpr char kLogName[] = "audit.example.com";

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "signer-unit-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

chain::NoteSigner LogKey() {
  return chain::NoteSigner("indelible", *chain::Ed25519PrivateKey::FromSeed(std::string(32, 's')));
}

// An unsigned request: old size, proof old -> n, the v2 text of size n.
std::string Request(const TestLog& log, uint64_t old_size, uint64_t n) {
  witness::AddCheckpointRequest r;
  r.old_size = old_size;
  if (old_size > 0 && old_size <= n) r.proof = log.Consistency(old_size, n);
  r.checkpoint = log.Body(n);
  return witness::AddCheckpointRequestText(r);
}

class SignerTest : public ::testing::Test {
 protected:
  void Open() {
    signer_.reset();
    store_.reset();
    auto s = witness::StateStore::Open(dir_.path(), kStateKind);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    signer_ = std::make_unique<Signer>(kLogName, LogKey(), store_.get());
  }
  void SetUp() override {
    Open();
    log_.Grow(20);
  }

  TempDir dir_;
  std::unique_ptr<witness::StateStore> store_;
  std::unique_ptr<Signer> signer_;
  TestLog log_{kLogName, "acme", "a"};
};

TEST_F(SignerTest, SignsConsistentExtensionsAndTheDerivedV1Checkpoint) {
  Response first = signer_->Sign(Request(log_, 0, 5), false);
  ASSERT_EQ(first.status, 200) << first.body;
  Response next = signer_->Sign(Request(log_, 5, 13), false);
  ASSERT_EQ(next.status, 200) << next.body;
  const auto j = nlohmann::json::parse(next.body);
  const auto key = LogKey().verifier_key();
  auto v2 = chain::VerifyCheckpointV2(j["checkpoint"].get<std::string>(), {key});
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->size, 13u);
  EXPECT_EQ(v2->root, log_.Root(13));
  // The v1 checkpoint states the v2's tenant, size, chain head and time.
  auto v1 = chain::VerifyCheckpoint(j["checkpoint_v1"].get<std::string>(), {key});
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->tenant, "acme");
  EXPECT_EQ(v1->seq, 13u);
  EXPECT_EQ(v1->head, v2->chain_head);
  EXPECT_EQ(v1->timestamp_ns, v2->timestamp_ns);
  EXPECT_FALSE(j.contains("deletion_certificate"));
  EXPECT_EQ(store_->Get(log_.Origin())->size, 13u);
  // The same tree again (a newer time, say) is no fork.
  EXPECT_EQ(signer_->Sign(Request(log_, 13, 13), false).status, 200);
}

TEST_F(SignerTest, RefusesAnInconsistentTree) {
  ASSERT_EQ(signer_->Sign(Request(log_, 0, 8), false).status, 200);
  TestLog rewritten = log_;
  rewritten.RewriteFrom(3, "evil");
  // Proved from the rewritten tree's own old root: not the signed one.
  Response r = signer_->Sign(Request(rewritten, 8, 12), false);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.result, Result::kInconsistent);
  // A proof of the honest tree does not carry the rewritten root either.
  witness::AddCheckpointRequest forged;
  forged.old_size = 8;
  forged.proof = log_.Consistency(8, 12);
  forged.checkpoint = rewritten.Body(12);
  EXPECT_EQ(signer_->Sign(witness::AddCheckpointRequestText(forged), false).status, 422);
  EXPECT_EQ(store_->Get(log_.Origin())->size, 8u);
}

TEST_F(SignerTest, RefusesASmallerTree) {
  ASSERT_EQ(signer_->Sign(Request(log_, 0, 10), false).status, 200);
  // Claiming the signer is at 4: stale, answered with its size.
  Response stale = signer_->Sign(Request(log_, 4, 6), false);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.content_type, kSizeContentType);
  EXPECT_EQ(stale.body, "10\n");
  // From the right size, a smaller tree is no extension.
  Response smaller = signer_->Sign(Request(log_, 10, 6), false);
  EXPECT_EQ(smaller.status, 400) << smaller.body;
  EXPECT_EQ(store_->Get(log_.Origin())->size, 10u);
}

TEST_F(SignerTest, RefusesTheSameSizeWithAnotherRoot) {
  ASSERT_EQ(signer_->Sign(Request(log_, 0, 7), false).status, 200);
  TestLog fork(kLogName, "acme", "b");
  fork.Grow(7);
  Response r = signer_->Sign(Request(fork, 7, 7), false);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.result, Result::kFork);
  EXPECT_EQ(store_->Get(log_.Origin())->root, log_.Root(7));
}

TEST_F(SignerTest, StateSurvivesARestart) {
  ASSERT_EQ(signer_->Sign(Request(log_, 0, 9), false).status, 200);
  Open();  // a new process over the same state directory
  Response fresh = signer_->Sign(Request(log_, 0, 3), false);
  EXPECT_EQ(fresh.status, 409);
  EXPECT_EQ(fresh.body, "9\n");
  TestLog fork(kLogName, "acme", "b");
  fork.Grow(12);
  EXPECT_EQ(signer_->Sign(Request(fork, 9, 12), false).status, 422);
  EXPECT_EQ(signer_->Sign(Request(log_, 9, 12), false).status, 200);
}

TEST_F(SignerTest, SignsOnlyTheTextOfAV2CheckpointOfItsLog) {
  // Another log's origin.
  TestLog other("other.example.com", "acme", "a");
  other.Grow(3);
  EXPECT_EQ(signer_->Sign(Request(other, 0, 3), false).status, 404);
  // A v1 checkpoint or a deletion certificate passed as the text.
  chain::Checkpoint v1{"acme", 3, chain::Sha256("h"), 5};
  chain::DeletionCertificate del{"acme", 3, chain::Sha256("h"), 5};
  for (const std::string& text :
       {chain::CheckpointText(v1), chain::DeletionCertificateText(del),
        log_.Body(3) + "extra line\n", std::string("anything at all\n")}) {
    witness::AddCheckpointRequest r;
    r.checkpoint = text;
    Response resp = signer_->Sign(witness::AddCheckpointRequestText(r), false);
    EXPECT_EQ(resp.status, 400) << text;
  }
  EXPECT_FALSE(store_->Get(log_.Origin()).has_value());
}

TEST_F(SignerTest, DeletionCertificateStatesTheAcceptedCheckpoint) {
  ASSERT_EQ(signer_->Sign(Request(log_, 0, 4), false).status, 200);
  // A deletion names its approvers; without one it is refused.
  EXPECT_EQ(signer_->Sign(Request(log_, 4, 6), true).status, 400);
  EXPECT_EQ(signer_->Sign(DeletionRequestText({"bad\x01name"}, Request(log_, 4, 6)), true)
                .status,
            400);
  Response r =
      signer_->Sign(DeletionRequestText({"alice@ops", "bob@ops"}, Request(log_, 4, 6)), true);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  auto v2 = chain::ParseCheckpointV2Text(log_.Body(6));
  auto del = chain::VerifyDeletionCertificate(j["deletion_certificate"].get<std::string>(),
                                              {LogKey().verifier_key()});
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_EQ(del->version, 2);
  EXPECT_EQ(del->tenant, "acme");
  EXPECT_EQ(del->origin(), v2->origin());
  EXPECT_EQ(del->final_seq, 6u);
  EXPECT_EQ(del->root, v2->root);
  EXPECT_EQ(del->final_head, v2->chain_head);
  EXPECT_EQ(del->timestamp_ns, v2->timestamp_ns);
  EXPECT_EQ(del->approvers, (std::vector<std::string>{"alice@ops", "bob@ops"}));
  // A forked deletion is refused like a forked checkpoint.
  TestLog fork(kLogName, "acme", "b");
  fork.Grow(6);
  EXPECT_EQ(signer_->Sign(DeletionRequestText({"alice@ops"}, Request(fork, 6, 6)), true).status,
            409);
}

TEST(SignerConfig, RefusesReservedLogNamesAndOpenSockets) {
  EXPECT_TRUE(IsValidSignerLogName("audit.example.com"));
  EXPECT_FALSE(IsValidSignerLogName("indelible/v1"));
  EXPECT_FALSE(IsValidSignerLogName("indelible/v1/deletion"));
  EXPECT_FALSE(IsValidSignerLogName(""));
  auto c = ParseConfig(
      "socket: /tmp/s.sock\nsocket_mode: \"0666\"\nstate_dir: /tmp/st\n"
      "signing_key_file: /tmp/k.pem\nlog_name: audit.example.com\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket_mode, 0666u);
  auto v = ValidateConfig(*c);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.message().find("socket_mode"), std::string_view::npos) << v;
  c->socket_mode = 0660;
  EXPECT_TRUE(ValidateConfig(*c).ok());
  EXPECT_FALSE(ParseConfig("sockets: /x\n").ok());
}

}  // namespace
}  // namespace indelible::signer
