#include "client/proofs.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"
#include "verifier/chain/key_rotation.h"
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
  auto untrusted = w.VerifyReceipt(r, "access");
  EXPECT_TRUE(IsSignedByNoTrustedKey(untrusted.status())) << untrusted.status();
  EXPECT_TRUE(absl::StrContains(untrusted.status().message(), "signed by no trusted key"))
      << untrusted.status();
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

// Key rotation statements (docs/FORMAT.md section 14). The fake signs with
// TestSigner (here "T"); the verifier starts from A and is led to T.
chain::NoteSigner SignerOf(char seed, const std::string& name = "fake-log") {
  auto key = chain::Ed25519PrivateKey::FromSeed(std::string(32, seed));
  EXPECT_TRUE(key.ok());
  return chain::NoteSigner(name, *std::move(key));
}

std::string Rotation(const chain::NoteSigner& from, const chain::NoteSigner& to) {
  chain::KeyRotation r;
  r.log_name = FakeAuditLog::kFakeLogName;
  r.old_key = from.verifier_key();
  r.new_key = to.verifier_key();
  r.timestamp_ns = 1700000000000000000;
  auto note = chain::SignKeyRotation(r, from, to);
  EXPECT_TRUE(note.ok()) << note.status();
  return *note;
}

TEST(KeyRotation, AStatementFromATrustedKeyIsFollowed) {
  FakeServer server;
  auto c = ConnectTo(server);
  AppendOne(*c, "e1");
  const chain::NoteSigner a = SignerOf('\x0a', "old-log");
  LogVerifier v(c.get(), {a.verifier_key()});
  auto before = v.Update("acme");
  EXPECT_TRUE(IsSignedByNoTrustedKey(before.status())) << before.status();
  ASSERT_TRUE(v.AddRotationStatement(Rotation(a, FakeAuditLog::TestSigner())).ok());
  ASSERT_EQ(v.keys().size(), 2u);
  auto after = v.Update("acme");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->size, 1u);
  ASSERT_EQ(v.state().learned_keys().size(), 1u);
  EXPECT_EQ(v.state().learned_keys()[0].key.public_key,
            FakeAuditLog::TestSigner().verifier_key().public_key);
  // Following it again changes nothing.
  EXPECT_TRUE(v.AddRotationStatement(Rotation(a, FakeAuditLog::TestSigner())).ok());
  EXPECT_EQ(v.keys().size(), 2u);
  EXPECT_EQ(v.state().learned_keys().size(), 1u);
}

TEST(KeyRotation, AStatementFromAnUntrustedKeyIsRefused) {
  FakeServer server;
  auto c = ConnectTo(server);
  AppendOne(*c, "e1");
  const chain::NoteSigner a = SignerOf('\x0a');
  const chain::NoteSigner mallory = SignerOf('\x0c');
  LogVerifier v(c.get(), {a.verifier_key()});
  absl::Status s = v.AddRotationStatement(Rotation(mallory, FakeAuditLog::TestSigner()));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "a key not trusted here")) << s;
  EXPECT_EQ(v.keys().size(), 1u);
  EXPECT_TRUE(v.state().learned_keys().empty());
  EXPECT_TRUE(IsSignedByNoTrustedKey(v.Update("acme").status()));
  // A statement from A whose text was changed after signing: DataLoss.
  std::string edited = Rotation(a, FakeAuditLog::TestSigner());
  edited.replace(edited.find("time 1"), 6, "time 2");
  EXPECT_EQ(v.AddRotationStatement(edited).code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(IsSignedByNoTrustedKey(v.Update("acme").status()));
  // A trusted key's signature that does not verify is still DataLoss.
  LogVerifier t(c.get(), TrustedKey());
  v1::Checkpoint forged = *c->GetCheckpointV2("acme", 1);
  std::string note = forged.note();
  note[note.find("\n\n") - 3] ^= 1;  // in the signed text
  forged.set_note(note);
  EXPECT_EQ(t.Accept("acme", forged).status().code(), absl::StatusCode::kDataLoss);
}

TEST(KeyRotation, TwoRotationsAreFollowedInAnyOrder) {
  FakeServer server;
  auto c = ConnectTo(server);
  AppendOne(*c, "e1");
  const chain::NoteSigner a = SignerOf('\x0a');
  const chain::NoteSigner b = SignerOf('\x0b', "second-log");
  const std::string a_to_b = Rotation(a, b);
  const std::string b_to_t = Rotation(b, FakeAuditLog::TestSigner());
  {
    LogVerifier v(c.get(), {a.verifier_key()});
    // B -> T first: B is not trusted yet.
    EXPECT_EQ(v.AddRotationStatement(b_to_t).code(), absl::StatusCode::kFailedPrecondition);
    ASSERT_TRUE(v.AddRotationStatement(a_to_b).ok());
    EXPECT_TRUE(IsSignedByNoTrustedKey(v.Update("acme").status()));
    ASSERT_TRUE(v.AddRotationStatement(b_to_t).ok());
    EXPECT_TRUE(v.Update("acme").ok());
  }
  {
    LogVerifier v(c.get(), {a.verifier_key()});
    ASSERT_TRUE(v.AddRotationStatements({b_to_t, a_to_b}).ok());
    EXPECT_EQ(v.state().learned_keys().size(), 2u);
    EXPECT_TRUE(v.Update("acme").ok());
  }
  {
    // Only the second: nothing leads from A to B.
    LogVerifier v(c.get(), {a.verifier_key()});
    absl::Status s = v.AddRotationStatements({b_to_t});
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_TRUE(IsSignedByNoTrustedKey(v.Update("acme").status()));
  }
}

TEST(KeyRotation, TheStateFileKeepsLearnedKeysWithTheirStatements) {
  FakeServer server;
  auto c = ConnectTo(server);
  AppendOne(*c, "e1");
  const chain::NoteSigner a = SignerOf('\x0a');
  const std::string path = TempPath("state-rotation");
  std::filesystem::remove(path);
  {
    LogVerifier v(c.get(), {a.verifier_key()}, {}, path);
    ASSERT_TRUE(v.AddRotationStatement(Rotation(a, FakeAuditLog::TestSigner())).ok());
    ASSERT_TRUE(v.Update("acme").ok());
  }
  auto loaded = TrustedState::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::string text = loaded->Serialize();
  EXPECT_EQ(text.substr(0, text.find('\n')), "indelible trusted state v2");
  ASSERT_EQ(loaded->learned_keys().size(), 1u);
  EXPECT_EQ(loaded->learned_keys()[0].statement, Rotation(a, FakeAuditLog::TestSigner()));
  ASSERT_NE(loaded->Find("acme"), nullptr);
  auto again = TrustedState::Parse(text);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->Serialize(), text);
  // A resumed verifier trusting A follows the kept statement.
  AppendOne(*c, "e2");
  LogVerifier resumed(c.get(), {a.verifier_key()}, *loaded, path);
  auto cp = resumed.Update("acme");
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->size, 2u);
  // One trusting another key is not led anywhere by it.
  LogVerifier other(c.get(), {SignerOf('\x0c').verifier_key()}, *loaded);
  EXPECT_EQ(other.keys().size(), 1u);
  EXPECT_TRUE(IsSignedByNoTrustedKey(other.Update("acme").status()));
  // Damage: a key line naming another key than its statement's new key, a
  // key line in a v1 file, a statement that does not verify.
  std::string wrong_key = text;
  const std::string t_key = chain::NoteVerifierKeyString(FakeAuditLog::TestSigner().verifier_key());
  wrong_key.replace(wrong_key.find(t_key), t_key.size(),
                    chain::NoteVerifierKeyString(a.verifier_key()));
  EXPECT_EQ(TrustedState::Parse(wrong_key).status().code(), absl::StatusCode::kDataLoss);
  std::string as_v1 = text;
  as_v1.replace(as_v1.find("v2"), 2, "v1");
  EXPECT_EQ(TrustedState::Parse(as_v1).status().code(), absl::StatusCode::kDataLoss);
  std::string bad_statement = text;
  const size_t sig = bad_statement.find(' ', bad_statement.find("key ") + 4) + 10;
  bad_statement[sig] = bad_statement[sig] == 'A' ? 'B' : 'A';
  EXPECT_EQ(TrustedState::Parse(bad_statement).status().code(), absl::StatusCode::kDataLoss);
  // Without learned keys the file stays v1, as older readers expect.
  TrustedState plain;
  plain.Put(*loaded->Find("acme"));
  EXPECT_EQ(plain.Serialize().substr(0, 27), "indelible trusted state v1\n");
}

}  // namespace
}  // namespace indelible::client
