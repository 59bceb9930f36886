// Witness policies on the client side: LogVerifier::SetWitnessPolicy and
// `indelible verify-receipt --witness/--quorum/--witness-policy`, against
// the in-process fake server serving a checkpoint cosigned here.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "client/cli/cli.h"
#include "client/cli/exit_codes.h"
#include "client/proofs.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/text.h"
#include "verifier/chain/witness_policy.h"

namespace indelible {
namespace {

using testing::FakeAuditLog;
using testing::FakeServer;

struct Result {
  int code;
  std::string out, err;
};

Result Cli(std::vector<std::string> args, const std::string& input = "") {
  std::vector<const char*> argv = {"indelible"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = cli::RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

std::string BodyOf(const std::string& note) { return note.substr(0, note.find("\n\n") + 1); }

class QuorumClient : public ::testing::Test {
 protected:
  void SetUp() override {
    client::ClientOptions o;
    o.target = server_.target();
    client_ = *client::Client::Connect(o);
    auto r = client_->Append(testing::MakeEvent("acme", "e1"));
    ASSERT_TRUE(r.ok()) << r.status();
    receipt_ = *r;
    auto cp = client_->GetCheckpointV2("acme", 1);
    ASSERT_TRUE(cp.ok()) << cp.status();
    checkpoint_ = *cp;
    key_ = FakeAuditLog::TestSigner().verifier_key();
  }

  // Serves the newest v2 checkpoint with `lines` appended to its note.
  void ServeWith(const std::string& lines) {
    v1::Checkpoint cp = checkpoint_;
    cp.set_note(cp.note() + lines);
    server_.service().ServeCheckpoint(cp);
  }
  std::string Line(const chain::Cosigner& w, uint64_t ts = 1700000000) const {
    return w.SignatureLine(BodyOf(checkpoint_.note()), ts);
  }
  chain::WitnessPolicy Policy(size_t quorum) const { return {{w1_.key(), w2_.key()}, quorum}; }
  std::string ReceiptJson() {
    Result r = Cli({"--target", server_.target(), "append", "--json", "--tenant", "acme",
                    "--event-id", "cli-1", "--actor-id", "a", "--action", "x.read"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto cp = client_->GetCheckpointV2("acme", 2);
    EXPECT_TRUE(cp.ok());
    checkpoint_ = *cp;
    return r.out;
  }
  std::vector<std::string> VerifyArgs(std::vector<std::string> policy) {
    std::vector<std::string> a = {"--target", server_.target(), "verify-receipt", "--key",
                                  chain::NoteVerifierKeyString(key_)};
    a.insert(a.end(), policy.begin(), policy.end());
    return a;
  }

  FakeServer server_;
  std::unique_ptr<client::Client> client_;
  v1::Receipt receipt_;
  v1::Checkpoint checkpoint_;
  chain::NoteVerifierKey key_;
  chain::Cosigner w1_{"witness.example/w1", *chain::Ed25519PrivateKey::Generate()};
  chain::Cosigner w2_{"witness.example/w2", *chain::Ed25519PrivateKey::Generate()};
};

TEST_F(QuorumClient, LogVerifierAdoptsOnlyWithQuorum) {
  const std::string state = ::testing::TempDir() + "/quorum-client-state";
  std::filesystem::remove(state);
  client::LogVerifier v(client_.get(), {key_}, {}, state);
  // 1 of 2 is no majority: refused unless allowed.
  EXPECT_EQ(v.SetWitnessPolicy(Policy(1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(v.SetWitnessPolicy(Policy(1), /*allow_minority=*/true).ok());
  ASSERT_TRUE(v.SetWitnessPolicy(Policy(2)).ok());
  const std::string category = client::StoredCategory(testing::MakeEvent("acme", "e1"));

  // The log's signature alone: below quorum, nothing adopted.
  auto r = v.VerifyReceipt(receipt_, category);
  EXPECT_TRUE(chain::IsBelowQuorum(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("missing: witness.example/w1, witness.example/w2"),
            absl::string_view::npos)
      << r.status();
  EXPECT_EQ(v.state().Find("acme"), nullptr);
  EXPECT_FALSE(std::filesystem::exists(state));

  // One witness, the same line twice: still one.
  ServeWith(Line(w1_) + Line(w1_, 1700000001));
  EXPECT_TRUE(chain::IsBelowQuorum(v.VerifyReceipt(receipt_, category).status()));

  // A forged line in w2's name and key id: DataLoss, named.
  std::string forged = Line(w2_);
  forged[forged.size() - 10] = forged[forged.size() - 10] == 'A' ? 'B' : 'A';
  ServeWith(Line(w1_) + forged);
  r = v.VerifyReceipt(receipt_, category);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find("witness.example/w2"), absl::string_view::npos);

  // Both witnesses: adopted and saved.
  ServeWith(Line(w1_) + Line(w2_));
  r = v.VerifyReceipt(receipt_, category);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_NE(v.state().Find("acme"), nullptr);
  EXPECT_EQ(v.state().Find("acme")->note, checkpoint_.note() + Line(w1_) + Line(w2_));

  // Without a policy the same verifier type trusts the log's signature.
  server_.service().ServeCheckpoint(std::nullopt);
  client::LogVerifier plain(client_.get(), {key_});
  EXPECT_TRUE(plain.VerifyReceipt(receipt_, category).ok());
}

TEST_F(QuorumClient, VerifyReceiptCli) {
  const std::string receipt = ReceiptJson();
  const std::string k1 = chain::CosignerKeyString(w1_.key());
  const std::string k2 = chain::CosignerKeyString(w2_.key());
  // Not cosigned: exit 3, naming the missing witnesses.
  Result r = Cli(VerifyArgs({"--witness", k1, "--witness", k2, "--quorum", "1",
                          "--allow-minority-quorum"}), receipt);
  EXPECT_EQ(r.code, cli::kExitRejected) << r.err;
  EXPECT_NE(r.err.find("not verified: below witness quorum: cosigned by 0 of the 1 witnesses "
                       "required; missing: witness.example/w1, witness.example/w2"),
            std::string::npos)
      << r.err;
  // Quorum met.
  ServeWith(Line(w2_));
  r = Cli(VerifyArgs({"--witness", k1, "--witness", k2, "--quorum", "1",
                          "--allow-minority-quorum"}), receipt);
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  // Duplicate lines of one witness do not make two.
  ServeWith(Line(w2_) + Line(w2_, 1700000005));
  EXPECT_EQ(Cli(VerifyArgs({"--witness", k1, "--witness", k2}), receipt).code,
            cli::kExitRejected);
  // A second key signing under w1's name and key id: not verified (1).
  chain::Cosigner forger("witness.example/w1", *chain::Ed25519PrivateKey::Generate());
  std::string forged = Line(forger);
  const std::string good = Line(w1_);
  // The forger's line with w1's key id (the first 4 bytes of the blob).
  std::string blob, good_blob;
  const size_t b64 = forged.rfind(' ') + 1;
  ASSERT_TRUE(chain::Base64Decode(forged.substr(b64, forged.size() - b64 - 1), &blob));
  ASSERT_TRUE(chain::Base64Decode(good.substr(b64, good.size() - b64 - 1), &good_blob));
  blob.replace(0, 4, good_blob.substr(0, 4));
  forged = forged.substr(0, b64) + chain::Base64Encode(blob) + "\n";
  ServeWith(forged + Line(w2_));
  r = Cli(VerifyArgs({"--witness", k1, "--witness", k2, "--quorum", "1",
                          "--allow-minority-quorum"}), receipt);
  EXPECT_EQ(r.code, cli::kExitNotVerified) << r.err;
  EXPECT_NE(r.err.find("cosignature by witness.example/w1 does not verify"), std::string::npos)
      << r.err;
  // A policy file.
  const std::string policy = ::testing::TempDir() + "/quorum-client-policy";
  std::ofstream(policy) << "witness " << k1 << "\nwitness " << k2 << "\nquorum 2\n";
  ServeWith(Line(w1_) + Line(w2_));
  EXPECT_EQ(Cli(VerifyArgs({"--witness-policy", policy}), receipt).code, cli::kExitOk);
  // Usage: a quorum that is no majority (2K <= N) without
  // --allow-minority-quorum, above the witnesses, a bad key, file and flags
  // together.
  r = Cli(VerifyArgs({"--witness", k1, "--witness", k2, "--quorum", "1"}), receipt);
  EXPECT_EQ(r.code, cli::kExitUsage) << r.err;
  EXPECT_NE(r.err.find("quorum 1 of 2 witnesses is not a majority"), std::string::npos) << r.err;
  EXPECT_EQ(Cli(VerifyArgs({"--witness", k1, "--quorum", "2"}), receipt).code, cli::kExitUsage);
  EXPECT_EQ(Cli(VerifyArgs({"--witness", "nope"}), receipt).code, cli::kExitUsage);
  EXPECT_EQ(Cli(VerifyArgs({"--witness-policy", policy, "--witness", k1}), receipt).code,
            cli::kExitUsage);
  // No log key: fails closed whatever the policy (3).
  r = Cli({"--target", server_.target(), "verify-receipt", "--witness", k1}, receipt);
  EXPECT_EQ(r.code, cli::kExitRejected);
  EXPECT_NE(r.err.find("no trusted log verifier key"), std::string::npos);
}

}  // namespace
}  // namespace indelible
