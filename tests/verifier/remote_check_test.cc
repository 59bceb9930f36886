// `indelible-verify check --remote` against the in-process fake server, which
// can rewrite history (FakeAuditLog::RewriteLeaf).
#include <filesystem>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/proofs.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"
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

// A pruned record's leaf is recomputed from its served leaf_category.
TEST_F(RemoteCheck, PrunedRecordsVerifyByTheirLeafCategory) {
  Append(5);
  server_.service().Prune("acme", 2, "access");
  server_.service().Prune("acme", 3, "access");
  VerifyRun r = Check(/*with_state=*/false);
  ASSERT_EQ(r.code, kExitVerified) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["records_to"], 5);
  EXPECT_EQ(j["records_pruned"], 2);
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

}  // namespace
}  // namespace indelible::verify
