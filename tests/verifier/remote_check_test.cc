// `indelible-verify check --remote` against the in-process fake server, which
// can rewrite history (FakeAuditLog::RewriteLeaf).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/proofs.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/retention_policy.h"
#include "verifier/chain/text.h"
#include "verifier/cli/verify_main.h"

namespace indelible::verify {
namespace {

using testing::FakeAuditLog;
using testing::FakeServer;

struct VerifyRun {
  int code;
  std::string out;
};

VerifyRun Verify(std::vector<std::string> args) {
  args.insert(args.begin(), "indelible-verify");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  const int code = Main(static_cast<int>(argv.size()), argv.data());
  return {code, ::testing::internal::GetCapturedStdout()};
}

class RemoteCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    client::ClientOptions o;
    o.target = server_.target();
    client_ = *client::Client::Connect(o);
    state_ = (std::filesystem::path(::testing::TempDir()) /
              ::testing::UnitTest::GetInstance()->current_test_info()->name())
                 .string();
    std::filesystem::remove(state_);
  }
  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(client_->Append(testing::MakeEvent("acme", "e" + std::to_string(next_++))).ok());
    }
  }
  VerifyRun Check(bool with_state = true) {
    std::vector<std::string> args = {"check", "--remote", server_.target(), "--tenant", "acme",
                                     "--key", key_, "--json"};
    if (with_state) {
      args.push_back("--state");
      args.push_back(state_);
    }
    return Verify(args);
  }

  FakeServer server_;
  std::unique_ptr<client::Client> client_;
  std::string state_;
  std::string key_ = chain::NoteVerifierKeyString(FakeAuditLog::TestSigner().verifier_key());
  int next_ = 0;
};

TEST_F(RemoteCheck, VerifiesAndResumesFromTheState) {
  Append(5);
  VerifyRun r = Check();
  ASSERT_EQ(r.code, kExitVerified) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records_from"], 1);
  EXPECT_EQ(j["records_to"], 5);
  Append(3);
  r = Check();
  ASSERT_EQ(r.code, kExitVerified) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records_from"], 6);
  EXPECT_EQ(j["records_to"], 8);
  auto st = client::TrustedState::Load(state_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->Find("acme")->checkpoint.size, 8u);
  EXPECT_EQ(st->Find("acme")->frontier.size(), 1u);  // 8 = one perfect subtree
  // Nothing new: verified again, nothing fetched.
  r = Check();
  EXPECT_EQ(r.code, kExitVerified) << r.out;
}

TEST_F(RemoteCheck, RewrittenHistoryIsAFinding) {
  Append(4);
  ASSERT_EQ(Check().code, kExitVerified);
  const std::string before = client::TrustedState::Load(state_)->Serialize();
  server_.service().RewriteLeaf("acme", 2);
  // Same size, another root than the state's.
  VerifyRun r = Check();
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  EXPECT_NE(r.out.find("inconsistent with trusted state at size 4"), std::string::npos) << r.out;
  // Grown over the rewritten history.
  Append(2);
  r = Check();
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  EXPECT_EQ(client::TrustedState::Load(state_)->Serialize(), before);
  // Without a state: the records do not fold to the served root.
  r = Check(/*with_state=*/false);
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  EXPECT_NE(r.out.find("recomputed root"), std::string::npos) << r.out;
}

// A pruned record's leaf is recomputed from its served leaf_category; the
// chain's retention policy (seq 1: keep nothing) allowed the pruning.
TEST_F(RemoteCheck, PrunedRecordsVerifyByTheirLeafCategory) {
  chain::RetentionPolicy p;
  p.tenant = "acme";
  v1::Event policy = testing::MakeEvent("acme", "policy");
  policy.set_category(std::string(chain::kPolicyCategory));
  auto* m = policy.add_metadata();
  m->set_key("policy");
  m->set_value(chain::FormatRetentionPolicy(p));
  ASSERT_TRUE(client_->Append(policy).ok());
  Append(4);
  server_.service().Prune("acme", 2, "access");
  server_.service().Prune("acme", 3, "access");
  VerifyRun r = Check(/*with_state=*/false);
  ASSERT_EQ(r.code, kExitVerified) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records_to"], 5);
  EXPECT_EQ(j["records_pruned"], 2);
}

// Pruned records of a chain that records no retention policy: no policy
// allowed them to go (docs/VERIFY.md, "Retention").
TEST_F(RemoteCheck, PrunedRecordsNoPolicyAllowedAreEarly) {
  Append(4);
  server_.service().Prune("acme", 3, "access");
  VerifyRun r = Check(/*with_state=*/false);
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["findings"].size(), 1u) << r.out;
  EXPECT_EQ(j["findings"][0].get<std::string>().rfind("seq 3: early_prune: ", 0), 0u) << r.out;
}

// A served leaf_category the tree does not commit to is named by its seq.
TEST_F(RemoteCheck, ServedLeafCategoryNotInTheTreeIsNamed) {
  Append(5);
  server_.service().Prune("acme", 2, "access");
  server_.service().Prune("acme", 4, "trace");
  VerifyRun r = Check(/*with_state=*/false);
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["findings"].size(), 2u) << r.out;
  EXPECT_NE(j["findings"][0].get<std::string>().find("recomputed root"), std::string::npos);
  EXPECT_EQ(j["findings"][1],
            "seq 4 (pruned): the served leaf_category \"trace\" gives a leaf that is not in "
            "the served checkpoint's tree");
}

// A pruned record served without leaf_category: the tree cannot be
// recomputed, which is not a finding but not verified either.
TEST_F(RemoteCheck, PrunedRecordWithoutLeafCategoryIsNotVerified) {
  Append(3);
  server_.service().Prune("acme", 2, std::nullopt);
  VerifyRun r = Check(/*with_state=*/false);
  EXPECT_EQ(r.code, kExitNoTrustedKey) << r.out;
  EXPECT_NE(r.out.find("sent no leaf_category"), std::string::npos) << r.out;
}

TEST_F(RemoteCheck, NoTrustedKeyAndUsage) {
  Append(1);
  EXPECT_EQ(Verify({"check", "--remote", server_.target(), "--tenant", "acme"}).code,
            kExitNoTrustedKey);
  EXPECT_EQ(Verify({"check", "--remote", server_.target(), "--key", key_}).code, kExitError);
  EXPECT_EQ(Verify({"check", "--tenant", "acme", "--key", key_}).code, kExitError);
}

// Key rotations (docs/FORMAT.md section 14). The fake signs with TestSigner
// ("T"); the auditor trusts A, and a statement A -> T leads to T: given
// with --rotation, or recorded in the chain as the daemon records it.
class RemoteRotation : public RemoteCheck {
 protected:
  static chain::NoteSigner Signer(char seed) {
    return chain::NoteSigner("old-log",
                             *chain::Ed25519PrivateKey::FromSeed(std::string(32, seed)));
  }
  std::string Statement(const chain::NoteSigner& from) {
    chain::KeyRotation r{FakeAuditLog::kFakeLogName, from.verifier_key(),
                         FakeAuditLog::TestSigner().verifier_key(), 1700000000000000000};
    return *chain::SignKeyRotation(r, from, FakeAuditLog::TestSigner());
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = state_ + "." + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Appends the record the daemon appends at a rotation.
  void AppendRotation(const std::string& tenant, const std::string& statement) {
    v1::Event e = testing::MakeEvent(tenant, "rotation-" + std::to_string(next_++), "key.rotate");
    e.set_category("indelible.key");
    v1::MetadataEntry* m = e.add_metadata();
    m->set_key("statement");
    m->set_value(statement);
    ASSERT_TRUE(client_->Append(e).ok());
  }
  VerifyRun CheckFromA(const std::string& tenant, std::vector<std::string> extra) {
    std::vector<std::string> args = {"check", "--remote", server_.target(), "--tenant", tenant,
                                     "--key", key_a_, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Verify(args);
  }

  const chain::NoteSigner a_ = Signer('\x0a');
  const std::string key_a_ = chain::NoteVerifierKeyString(a_.verifier_key());
};

TEST_F(RemoteRotation, ACheckpointByAKeyNoStatementLeadsToIsNotVerified) {
  Append(2);
  VerifyRun r = CheckFromA("acme", {});
  EXPECT_EQ(r.code, kExitNoTrustedKey) << r.out;
  EXPECT_NE(r.out.find("signed by no trusted key"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["verified"], false);
  // Supplied: followed.
  r = CheckFromA("acme", {"--rotation", WriteFile("a-to-t", Statement(a_))});
  EXPECT_EQ(r.code, kExitVerified) << r.out;
  // A statement from a key not trusted: an input error.
  r = CheckFromA("acme", {"--rotation", WriteFile("c-to-t", Statement(Signer('\x0c')))});
  EXPECT_EQ(r.code, kExitError) << r.out;
}

TEST_F(RemoteRotation, FollowsTheStatementInTheChainAndKeepsItInTheState) {
  Append(2);
  AppendRotation("acme", Statement(a_));
  Append(2);
  VerifyRun r = CheckFromA("acme", {"--state", state_});
  ASSERT_EQ(r.code, kExitVerified) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NE(j["notes"].dump().find("seq 3: key rotation followed"), std::string::npos) << r.out;
  auto st = client::TrustedState::Load(state_);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->learned_keys().size(), 1u);
  EXPECT_EQ(st->learned_keys()[0].statement, Statement(a_));
  // Resumed after the rotation record: the state says why T is trusted.
  Append(1);
  r = CheckFromA("acme", {"--state", state_});
  ASSERT_EQ(r.code, kExitVerified) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["records_from"], 6);
}

TEST_F(RemoteRotation, AStatementInTheChainByAKeyNotTrustedIsAFinding) {
  Append(1);
  AppendRotation("acme", Statement(Signer('\x0c')));
  VerifyRun r = CheckFromA("acme", {});
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  EXPECT_NE(r.out.find("seq 2: key rotation to"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("a key not trusted here"), std::string::npos) << r.out;
}

TEST_F(RemoteRotation, ConsistencyAndInclusionFollowSuppliedStatements) {
  Append(3);
  auto old_cp = client_->GetCheckpointV2("acme", 3);
  ASSERT_TRUE(old_cp.ok());
  Append(2);
  auto new_cp = client_->GetCheckpointV2("acme", 5);
  ASSERT_TRUE(new_cp.ok());
  auto p = client_->GetConsistencyProof("acme", 3, 5);
  ASSERT_TRUE(p.ok());
  const std::string old_file = WriteFile("old", old_cp->note());
  const std::string new_file = WriteFile("new", new_cp->note());
  const std::string proof =
      WriteFile("proof", client::FormatProofFile(*client::ProofHashes(p->hashes())));
  const std::string rotation = WriteFile("a-to-t", Statement(a_));
  std::vector<std::string> consistency = {"consistency", "--old", old_file, "--new",
                                          new_file, "--proof", proof, "--key", key_a_};
  VerifyRun r = Verify(consistency);
  EXPECT_EQ(r.code, kExitNoTrustedKey) << r.out;
  EXPECT_NE(r.out.find("NOT VERIFIED: "), std::string::npos) << r.out;
  consistency.insert(consistency.end(), {"--rotation", rotation});
  r = Verify(consistency);
  EXPECT_EQ(r.code, kExitVerified) << r.out;

  std::string entry;
  ASSERT_TRUE(client_->ReadRecords("acme", 2, 1, [&](const v1::Record& rec) {
    entry = rec.entry_hash();
    return false;
  }).ok());
  auto ip = client_->GetInclusionProof("acme", 2, 5);
  ASSERT_TRUE(ip.ok());
  std::vector<std::string> inclusion = {
      "inclusion", "--checkpoint", new_file, "--proof",
      WriteFile("iproof", client::FormatProofFile(*client::ProofHashes(ip->hashes()))),
      "--seq", "2", "--entry-hash", chain::ToHex(entry), "--category", "access",
      "--key", key_a_};
  EXPECT_EQ(Verify(inclusion).code, kExitNoTrustedKey);
  inclusion.insert(inclusion.end(), {"--rotation", rotation});
  r = Verify(inclusion);
  EXPECT_EQ(r.code, kExitVerified) << r.out;
}

}  // namespace
}  // namespace indelible::verify
