#include "client/proofs.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"
#include "verifier/chain/merkle.h"

namespace indelible::client {
namespace {

using testing::FakeAuditLog;
using testing::FakeServer;
using testing::MakeEvent;

std::unique_ptr<Client> ConnectTo(const FakeServer& server) {
  ClientOptions o;
  o.target = server.target();
  o.deadline = std::chrono::seconds(5);
  auto c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

std::vector<chain::NoteVerifierKey> TrustedKey() {
  return {FakeAuditLog::TestSigner().verifier_key()};
}

v1::Receipt AppendOne(Client& c, const std::string& id,
                      const std::string& category = "") {
  v1::Event e = MakeEvent("acme", id);
  e.set_category(category);
  auto r = c.Append(e);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

TEST(VerifyReceipt, VerifiesItsOwnReceipt) {
  FakeServer server;
  auto c = ConnectTo(server);
  v1::Receipt r1 = AppendOne(*c, "e1", "trace");
  AppendOne(*c, "e2");
  AppendOne(*c, "e3");
  LogVerifier v(c.get(), TrustedKey());
  auto ok = v.VerifyReceipt(r1, "trace");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_GE(ok->checkpoint.size, 1u);
  EXPECT_EQ(ok->checkpoint.tenant, "acme");
  ASSERT_NE(v.state().Find("acme"), nullptr);
  // The wrong category is another leaf.
  auto wrong = v.VerifyReceipt(r1, "access");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kDataLoss) << wrong.status();
}

TEST(VerifyReceipt, EveryChangedFieldFails) {
  FakeServer server;
  auto c = ConnectTo(server);
  const v1::Receipt good = AppendOne(*c, "e1");
  AppendOne(*c, "e2");
  LogVerifier v(c.get(), TrustedKey());
  ASSERT_TRUE(v.VerifyReceipt(good, "access").ok());
  auto flip = [](std::string s) {
    s[5] ^= 1;
    return s;
  };
  std::vector<v1::Receipt> bad(5, good);
  bad[0].set_entry_hash(flip(good.entry_hash()));
  bad[1].set_body_digest(flip(good.body_digest()));
  bad[2].set_prev_entry_hash(flip(good.prev_entry_hash()));
  bad[3].set_received_at_ns(good.received_at_ns() + 1);
  bad[4].set_leaf_index(5);
  for (size_t i = 0; i < bad.size(); ++i) {
    auto s = v.VerifyReceipt(bad[i], "access");
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << i << s.status();
  }
}

TEST(VerifyReceipt, FailsClosedWithoutKey) {
  FakeServer server;
  auto c = ConnectTo(server);
  const v1::Receipt r = AppendOne(*c, "e1");
  LogVerifier v(c.get(), {});
  auto s = v.VerifyReceipt(r, "access");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.status().message(), "no trusted log verifier key"));
  // Another log's key verifies nothing either.
  auto other = chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x09'));
  ASSERT_TRUE(other.ok());
  LogVerifier w(c.get(), {chain::NoteSigner("fake-log", *other).verifier_key()});
  EXPECT_EQ(w.VerifyReceipt(r, "access").status().code(), absl::StatusCode::kDataLoss);
}

TEST(VerifyReceipt, BadInclusionProofFails) {
  FakeServer server;
  auto c = ConnectTo(server);
  const v1::Receipt r = AppendOne(*c, "e1");
  AppendOne(*c, "e2");
  server.service().ServeInclusionProof(std::vector<std::string>{std::string(32, 'x')});
  LogVerifier v(c.get(), TrustedKey());
  EXPECT_EQ(v.VerifyReceipt(r, "access").status().code(), absl::StatusCode::kDataLoss);
}

TEST(TrustedState, AdvancesWithConsistencyProofsAndPersists) {
  FakeServer server;
  auto c = ConnectTo(server);
  const std::string path = TempPath("state-advances");
  std::filesystem::remove(path);
  {
    LogVerifier v(c.get(), TrustedKey(), {}, path);
    for (int i = 0; i < 5; ++i) {
      AppendOne(*c, "a" + std::to_string(i));
      auto cp = v.Update("acme");
      ASSERT_TRUE(cp.ok()) << cp.status();
      EXPECT_EQ(cp->size, static_cast<uint64_t>(i + 1));
    }
  }
  auto loaded = TrustedState::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE(loaded->Find("acme"), nullptr);
  EXPECT_EQ(loaded->Find("acme")->checkpoint.size, 5u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // A new verifier from the file keeps advancing.
  AppendOne(*c, "b");
  LogVerifier v2(c.get(), TrustedKey(), *std::move(loaded), path);
  auto cp = v2.Update("acme");
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->size, 6u);
  EXPECT_EQ(TrustedState::Load(path)->Find("acme")->checkpoint.size, 6u);
}

TEST(TrustedState, InconsistentServerIsNamedAndNotAccepted) {
  FakeServer server;
  auto c = ConnectTo(server);
  for (int i = 0; i < 4; ++i) AppendOne(*c, "a" + std::to_string(i));
  LogVerifier v(c.get(), TrustedKey());
  ASSERT_TRUE(v.Update("acme").ok());
  // Same size, another root.
  server.service().RewriteLeaf("acme", 1);
  auto same = v.Update("acme");
  EXPECT_EQ(same.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(same.status().message(),
                                "inconsistent with trusted state at size 4"))
      << same.status();
  // Larger, over the rewritten history: the consistency proof fails.
  AppendOne(*c, "b");
  auto larger = v.Update("acme");
  EXPECT_EQ(larger.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(larger.status().message(),
                                "inconsistent with trusted state at size 4"))
      << larger.status();
  EXPECT_EQ(v.state().Find("acme")->checkpoint.size, 4u);
}

TEST(TrustedState, SmallerCheckpointIsInconsistent) {
  FakeServer server;
  auto c = ConnectTo(server);
  for (int i = 0; i < 3; ++i) AppendOne(*c, "a" + std::to_string(i));
  LogVerifier v(c.get(), TrustedKey());
  ASSERT_TRUE(v.Update("acme").ok());
  auto first = c->GetCheckpointV2("acme", 1);
  ASSERT_TRUE(first.ok());
  auto s = v.Accept("acme", *first);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.status().message(), "smaller")) << s.status();
}

TEST(TrustedState, ParseRejectsDamageAndRoundTripsFrontier) {
  FakeServer server;
  auto c = ConnectTo(server);
  std::vector<chain::Digest> leaves;
  chain::CompactRange range;
  for (int i = 0; i < 3; ++i) AppendOne(*c, "a" + std::to_string(i));
  LogVerifier v(c.get(), TrustedKey());
  ASSERT_TRUE(v.Update("acme").ok());
  TrustedState st = v.state();
  TrustedCheckpoint tc = *st.Find("acme");
  // The frontier of the fake's tree: recomputed from the records.
  ASSERT_TRUE(c->ReadRecords("acme", 1, 0, [&](const v1::Record& r) {
    chain::Digest e;
    chain::DigestFromBytes(r.entry_hash(), &e);
    range.Append(chain::LeafHash(e, "access"));
    return true;
  }).ok());
  tc.frontier = range.hashes();
  st.Put(tc);
  auto back = TrustedState::Parse(st.Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Find("acme")->frontier, range.hashes());
  EXPECT_EQ(back->Serialize(), st.Serialize());
  std::string text = st.Serialize();
  text[text.size() - 5] ^= 1;  // a frontier hash
  EXPECT_EQ(TrustedState::Parse(text).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(TrustedState::Parse("nonsense\n").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace indelible::client
