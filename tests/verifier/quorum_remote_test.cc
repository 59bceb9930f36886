// indelible-verify's proof commands with a witness policy, in-process
// against the fake server: `check --remote`, `consistency` and `inclusion`
// on checkpoints cosigned here.
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
#include "verifier/chain/cosignature.h"
#include "verifier/chain/text.h"
#include "verifier/chain/hash.h"
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

std::string BodyOf(const std::string& note) { return note.substr(0, note.find("\n\n") + 1); }

class QuorumRemote : public ::testing::Test {
 protected:
  void SetUp() override {
    client::ClientOptions o;
    o.target = server_.target();
    client_ = *client::Client::Connect(o);
    dir_ = (std::filesystem::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name())
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      auto r = client_->Append(testing::MakeEvent("acme", "e" + std::to_string(next_++)));
      ASSERT_TRUE(r.ok()) << r.status();
      receipts_.push_back(*r);
    }
  }
  std::string Note() { return client_->GetCheckpointV2("acme", 0)->note(); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string Line(const chain::Cosigner& w, const std::string& note, uint64_t ts = 1700000000) {
    return w.SignatureLine(BodyOf(note), ts);
  }
  // Serves the newest v2 checkpoint with `lines` appended.
  void ServeWith(const std::string& lines) {
    v1::Checkpoint cp = *client_->GetCheckpointV2("acme", 0);
    cp.set_note(cp.note() + lines);
    server_.service().ServeCheckpoint(cp);
  }
  std::vector<std::string> Policy(const std::string& quorum) {
    std::vector<std::string> p = {"--key",     key_, "--witness", chain::CosignerKeyString(w1_.key()),
                                  "--witness", chain::CosignerKeyString(w2_.key()), "--quorum", quorum};
    // 1 of 2 is no majority: refused unless explicitly allowed.
    if (quorum == "1") p.push_back("--allow-minority-quorum");
    return p;
  }
  VerifyRun Remote(const std::string& quorum, bool state = true) {
    std::vector<std::string> a = {"check", "--remote", server_.target(), "--tenant", "acme",
                                  "--json"};
    if (state) {
      a.push_back("--state");
      a.push_back(dir_ + "/state");
    }
    for (const std::string& p : Policy(quorum)) a.push_back(p);
    return Verify(a);
  }

  FakeServer server_;
  std::unique_ptr<client::Client> client_;
  std::string dir_;
  std::vector<v1::Receipt> receipts_;
  std::string key_ = chain::NoteVerifierKeyString(FakeAuditLog::TestSigner().verifier_key());
  chain::Cosigner w1_{"witness.example/w1", *chain::Ed25519PrivateKey::Generate()};
  chain::Cosigner w2_{"witness.example/w2", *chain::Ed25519PrivateKey::Generate()};
  int next_ = 0;
};

TEST_F(QuorumRemote, RemoteCheck) {
  Append(5);
  const std::string note = Note();
  // Served without cosignatures: the records check, but nothing is trusted.
  VerifyRun r = Remote("1");
  EXPECT_EQ(r.code, kExitBelowQuorum) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], false);
  EXPECT_EQ(j["findings"], nlohmann::json::array());
  EXPECT_EQ(j["witnesses"]["missing"],
            (nlohmann::json{"witness.example/w1", "witness.example/w2"}));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state"));  // not advanced
  // Duplicates of one witness: below a quorum of 2.
  ServeWith(Line(w1_, note) + Line(w1_, note, 1700000001));
  EXPECT_EQ(Remote("2").code, kExitBelowQuorum);
  // Quorum met: verified, state written.
  ServeWith(Line(w1_, note) + Line(w2_, note));
  r = Remote("2");
  EXPECT_EQ(r.code, kExitVerified) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["witnesses"]["met"], true);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/state"));
  // A forged line in w1's name and key id: a finding (1).
  chain::Cosigner forger("witness.example/w1", *chain::Ed25519PrivateKey::Generate());
  std::string forged = Line(forger, note), good = Line(w1_, note), blob, good_blob;
  const size_t b64 = forged.rfind(' ') + 1;
  ASSERT_TRUE(chain::Base64Decode(forged.substr(b64, forged.size() - b64 - 1), &blob));
  ASSERT_TRUE(chain::Base64Decode(good.substr(b64, good.size() - b64 - 1), &good_blob));
  blob.replace(0, 4, good_blob.substr(0, 4));
  ServeWith(forged.substr(0, b64) + chain::Base64Encode(blob) + "\n" + Line(w2_, note));
  r = Remote("1", /*state=*/false);
  EXPECT_EQ(r.code, kExitFindings) << r.out;
  EXPECT_NE(r.out.find("cosignature by witness.example/w1 does not verify"), std::string::npos)
      << r.out;
}

TEST_F(QuorumRemote, ConsistencyAndInclusion) {
  Append(3);
  const std::string old_note = Note();
  Append(4);
  const std::string new_note = Note();
  const std::string old_file = Write("old", old_note);  // kept: no cosignature needed
  auto p = client_->GetConsistencyProof("acme", 3, 7);
  ASSERT_TRUE(p.ok());
  const std::string proof = Write("proof", client::FormatProofFile(*client::ProofHashes(p->hashes())));
  auto consistency = [&](const std::string& newer, const std::string& quorum) {
    std::vector<std::string> a = {"consistency", "--old", old_file, "--new", newer, "--proof",
                                  proof};
    for (const std::string& x : Policy(quorum)) a.push_back(x);
    return Verify(a);
  };
  VerifyRun r = consistency(Write("new-bare", new_note), "1");
  EXPECT_EQ(r.code, kExitBelowQuorum) << r.out;
  EXPECT_NE(r.out.find("NOT VERIFIED: "), std::string::npos);
  EXPECT_NE(r.out.find("below witness quorum"), std::string::npos) << r.out;
  const std::string cosigned = Write("new-cosigned", new_note + Line(w1_, new_note) +
                                                         Line(w2_, new_note));
  EXPECT_EQ(consistency(cosigned, "2").code, kExitVerified);
  EXPECT_EQ(consistency(Write("new-dup", new_note + Line(w1_, new_note) +
                                             Line(w1_, new_note, 5)),
                        "2")
                .code,
            kExitBelowQuorum);
  // A cosignature of the old checkpoint moved onto the new one: forged (1).
  EXPECT_EQ(consistency(Write("new-moved", new_note + Line(w1_, old_note)), "1").code,
            kExitFindings);

  // Inclusion of seq 2 in the cosigned checkpoint.
  auto ip = client_->GetInclusionProof("acme", 2, 7);
  ASSERT_TRUE(ip.ok());
  const std::string iproof =
      Write("iproof", client::FormatProofFile(*client::ProofHashes(ip->hashes())));
  auto inclusion = [&](const std::string& cp, const std::string& quorum) {
    std::vector<std::string> a = {"inclusion", "--checkpoint", cp, "--proof", iproof,
                                  "--seq", "2", "--entry-hash",
                                  chain::ToHex(receipts_[1].entry_hash()), "--category",
                                  "access"};
    for (const std::string& x : Policy(quorum)) a.push_back(x);
    return Verify(a);
  };
  r = inclusion(cosigned, "2");
  EXPECT_EQ(r.code, kExitVerified) << r.out;
  EXPECT_EQ(inclusion(Write("new-one", new_note + Line(w2_, new_note)), "2").code,
            kExitBelowQuorum);
  EXPECT_EQ(inclusion(Write("new-one-b", new_note + Line(w2_, new_note)), "1").code,
            kExitVerified);
  // Usage errors.
  EXPECT_EQ(inclusion(cosigned, "3").code, kExitError);
}

}  // namespace
}  // namespace indelible::verify
