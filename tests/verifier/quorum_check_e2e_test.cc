// `indelible-verify check --data-dir` with a witness policy, on what the
// real daemon wrote: each tenant's v2 checkpoint row is rewritten with
// cosignature lines appended (as a daemon with witnesses stores them),
// made here by the chain library or by tests/chain/cosign_note.py (an
// independent implementation from the C2SP specs).
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/verifier/verify_e2e_fixture.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::RawStore;

constexpr char kSeed1[] = "1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kSeed2[] = "2222222222222222222222222222222222222222222222222222222222222222";
constexpr char kForgerSeed[] =
    "3333333333333333333333333333333333333333333333333333333333333333";

chain::Cosigner MakeWitness(const std::string& name, std::string_view seed_hex) {
  std::string seed;
  EXPECT_TRUE(chain::FromHex(seed_hex, &seed));
  return chain::Cosigner(name, *chain::Ed25519PrivateKey::FromSeed(seed));
}

std::string BodyOf(const std::string& note) { return note.substr(0, note.find("\n\n") + 1); }

class QuorumCheckE2E : public VerifyE2E {
 protected:
  // A copy of the data whose v2 checkpoint rows (one per tenant, at
  // kRecords) are replaced by `cosign(note)`.
  std::string Cosigned(const std::function<std::string(const std::string&)>& cosign) {
    return Damaged([&](RawStore& s) {
      for (const char* tenant : {"acme", "globex"}) {
        const std::string key = store::SeqKey(tenant, kRecords);
        std::optional<std::string> note = s.Get(store::kCheckpointsV2Cf, key);
        ASSERT_TRUE(note.has_value()) << tenant;
        s.Put(store::kCheckpointsV2Cf, key, cosign(*note));
      }
    });
  }
  std::vector<std::string> Policy(const std::string& quorum) {
    std::vector<std::string> p = {"--key",     verifier_key_, "--witness",
                                  chain::CosignerKeyString(w1_.key()), "--witness",
                                  chain::CosignerKeyString(w2_.key()), "--quorum", quorum};
    // 1 of 2 is no majority: refused unless explicitly allowed.
    if (quorum == "1") p.push_back("--allow-minority-quorum");
    return p;
  }
  std::string Python(const std::vector<std::string>& args, const std::string& note) {
    std::vector<std::string> argv = {INDELIBLE_PYTHON3,
                                     std::string(INDELIBLE_SOURCE_DIR) +
                                         "/tests/chain/cosign_note.py"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testing::RunCommand(argv, note);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  chain::Cosigner w1_ = MakeWitness("witness.example/w1", kSeed1);
  chain::Cosigner w2_ = MakeWitness("witness.example/w2", kSeed2);
};

TEST_F(QuorumCheckE2E, QuorumMetVerifies) {
  const std::string dir = Cosigned([&](const std::string& note) {
    return note + w1_.SignatureLine(BodyOf(note), 1700000000) +
           w2_.SignatureLine(BodyOf(note), 1700000001);
  });
  Verify v = Check(dir, Policy("2"));
  ASSERT_EQ(v.run.exit_code, 0) << v.run.out << v.run.err;
  EXPECT_EQ(v.out["verdict"], "verified");
  EXPECT_EQ(v.out["below_quorum_tenants"], nlohmann::json::array());
  const auto& w = v.out["tenants"][0]["witnesses"];
  EXPECT_EQ(w["checkpoint_size"], kRecords);
  EXPECT_EQ(w["cosigned"], (nlohmann::json{"witness.example/w1", "witness.example/w2"}));
  EXPECT_EQ(w["met"], true);
  // The same data without a policy verifies as before.
  EXPECT_EQ(Check(dir, KeyArgs()).run.exit_code, 0);
  // Without a trusted log key a policy does not help: not verified (3).
  std::vector<std::string> no_key = Policy("2");
  no_key.erase(no_key.begin(), no_key.begin() + 2);
  v = Check(dir, no_key);
  EXPECT_EQ(v.run.exit_code, 3) << v.run.out;
  EXPECT_EQ(v.out["verdict"], "no_trusted_key");
}

TEST_F(QuorumCheckE2E, BelowQuorumNamesTheTenantsAndTheMissingWitnesses) {
  const std::string dir = Cosigned([&](const std::string& note) {
    return note + w1_.SignatureLine(BodyOf(note), 1700000000);
  });
  Verify v = Check(dir, Policy("2"));
  EXPECT_EQ(v.run.exit_code, 3) << v.run.out;
  EXPECT_EQ(v.out["verdict"], "below_quorum");
  EXPECT_EQ(v.out["verified"], false);
  EXPECT_EQ(v.out["below_quorum_tenants"], (nlohmann::json{"acme", "globex"}));
  EXPECT_EQ(v.out["tenants"][0]["witnesses"]["missing"], nlohmann::json{"witness.example/w2"});
  EXPECT_EQ(v.out["findings"], nlohmann::json::array());
  // One of the two is enough for quorum 1.
  EXPECT_EQ(Check(dir, Policy("1")).run.exit_code, 0);
  // The human output names both.
  std::vector<std::string> argv = {testing::BinPath("indelible-verify"), "check", "--data-dir",
                                   dir};
  for (const std::string& a : Policy("2")) argv.push_back(a);
  auto text = testing::RunCommand(argv);
  EXPECT_EQ(text.exit_code, 3);
  EXPECT_NE(text.out.find("below witness quorum: acme: newest v2 checkpoint (size 20) "
                          "cosigned by 1 of the 2 witnesses required (witness.example/w1); "
                          "missing: witness.example/w2"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("NOT VERIFIED: below witness quorum: acme, globex"), std::string::npos)
      << text.out;
  // The daemon's own rows (no cosignature yet): below quorum as well.
  v = Check(pristine_, Policy("1"));
  EXPECT_EQ(v.run.exit_code, 3) << v.run.out;
  EXPECT_EQ(v.out["verdict"], "below_quorum");
}

TEST_F(QuorumCheckE2E, ForgedCosignatureWithTheWitnessNameIsAFinding) {
  // A second key signs under w1's name and copies w1's key id.
  const std::string w1_id = absl::StrFormat("%08x", w1_.key().key_id);
  const std::string dir = Cosigned([&](const std::string& note) {
    return Python({"witness.example/w1", kForgerSeed, "1700000000", w1_id}, note) +
           w2_.SignatureLine(BodyOf(note), 1700000001);
  });
  Verify v = Check(dir, Policy("1"));
  ExpectFirstFinding(v, "acme", kRecords, "checkpoint_signature");
  EXPECT_NE(v.FirstFinding()["detail"].get<std::string>().find(
                "cosignature by witness.example/w1 does not verify"),
            std::string::npos)
      << v.run.out;
}

TEST_F(QuorumCheckE2E, ASecondKeyUnderTheWitnessNameDoesNotCount) {
  // A second key under w1's name with its own key id is not w1: its line is
  // ignored and does not count.
  chain::Cosigner impostor = MakeWitness("witness.example/w1", kForgerSeed);
  const std::string dir2 = Cosigned([&](const std::string& note) {
    return note + impostor.SignatureLine(BodyOf(note), 1700000000) +
           w2_.SignatureLine(BodyOf(note), 1700000001);
  });
  Verify v = Check(dir2, Policy("2"));
  EXPECT_EQ(v.run.exit_code, 3) << v.run.out;
  EXPECT_EQ(v.out["tenants"][0]["witnesses"]["missing"], nlohmann::json{"witness.example/w1"});
}

TEST_F(QuorumCheckE2E, DuplicateCosignaturesCountOnce) {
  const std::string dir = Cosigned([&](const std::string& note) {
    return note + w1_.SignatureLine(BodyOf(note), 1700000000) +
           w1_.SignatureLine(BodyOf(note), 1700000000) +
           w1_.SignatureLine(BodyOf(note), 1700000005);
  });
  Verify v = Check(dir, Policy("2"));
  EXPECT_EQ(v.run.exit_code, 3) << v.run.out;
  EXPECT_EQ(v.out["tenants"][0]["witnesses"]["cosigned"], nlohmann::json{"witness.example/w1"});
  // Listing w1 twice does not make it two witnesses.
  v = Check(dir, {"--key", verifier_key_, "--witness", chain::CosignerKeyString(w1_.key()),
                  "--witness", chain::CosignerKeyString(w1_.key()), "--quorum", "2"});
  EXPECT_EQ(v.run.exit_code, 2) << v.run.out;
  EXPECT_NE(v.run.err.find("quorum 2 exceeds the 1 distinct witnesses"), std::string::npos)
      << v.run.err;
  // 1 of 2 is no majority: usage (2) unless --allow-minority-quorum.
  v = Check(dir, {"--key", verifier_key_, "--witness", chain::CosignerKeyString(w1_.key()),
                  "--witness", chain::CosignerKeyString(w2_.key()), "--quorum", "1"});
  EXPECT_EQ(v.run.exit_code, 2) << v.run.out;
  EXPECT_NE(v.run.err.find("quorum 1 of 2 witnesses is not a majority"), std::string::npos)
      << v.run.err;
  EXPECT_EQ(Check(dir, Policy("1")).run.exit_code, 0);
}

TEST_F(QuorumCheckE2E, CosignedByTheIndependentImplementationWithAPolicyFile) {
  const std::string dir = Cosigned([&](const std::string& note) {
    return Python({"witness.example/w2", kSeed2, "1700000009"},
                  Python({"witness.example/w1", kSeed1, "1700000008"}, note));
  });
  const std::string policy = tmp_->Sub("policy.txt");
  WriteFile(policy, "# two of two\nwitness " + chain::CosignerKeyString(w1_.key()) +
                        "\nwitness " + chain::CosignerKeyString(w2_.key()) + "\nquorum 2\n");
  Verify v = Check(dir, {"--key", verifier_key_, "--witness-policy", policy});
  EXPECT_EQ(v.run.exit_code, 0) << v.run.out << v.run.err;
  // A policy file and --witness together, or a bad file: usage (2).
  EXPECT_EQ(Check(dir, {"--key", verifier_key_, "--witness-policy", policy, "--quorum", "1"})
                .run.exit_code,
            2);
  const std::string bad = tmp_->Sub("bad-policy.txt");
  WriteFile(bad, "witness " + chain::CosignerKeyString(w1_.key()) + "\n");
  v = Check(dir, {"--key", verifier_key_, "--witness-policy", bad});
  EXPECT_EQ(v.run.exit_code, 2);
  EXPECT_NE(v.run.err.find("no \"quorum K\" line"), std::string::npos) << v.run.err;
}

}  // namespace
}  // namespace indelible
