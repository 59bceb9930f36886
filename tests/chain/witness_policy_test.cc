// Witness policies: parsing (file and flags) and quorum over notes cosigned
// here by the library, by tests/chain/cosign_note.py (a second
// implementation from the C2SP specs, with the `cryptography` package), and
// the golden cosigned note of tests/data/format-v2.json.
#include "verifier/chain/witness_policy.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

constexpr char kSeed1[] = "0101010101010101010101010101010101010101010101010101010101010101";
constexpr char kSeed2[] = "0202020202020202020202020202020202020202020202020202020202020202";
constexpr char kForgerSeed[] =
    "0303030303030303030303030303030303030303030303030303030303030303";

Ed25519PrivateKey SeedKey(std::string_view hex) {
  std::string seed;
  EXPECT_TRUE(FromHex(hex, &seed));
  return *Ed25519PrivateKey::FromSeed(seed);
}

std::string Body(uint64_t size) {
  CheckpointV2 c;
  c.log_name = "audit.example.com";
  c.tenant = "acme";
  c.size = size;
  c.root = Sha256("root", std::to_string(size));
  c.chain_head = Sha256("head", std::to_string(size));
  c.timestamp_ns = 1700000001000000000ull + size;
  return CheckpointV2Text(c);
}

// Runs cosign_note.py with `args`, the note on stdin; returns its stdout.
std::string Python(const std::string& args, const std::string& note = "") {
  // Tests of this binary run in parallel processes: a file of this one's.
  static int calls = 0;
  const std::string in = testing::TempDir() + "/cosign_in." + std::to_string(getpid()) + "." +
                         std::to_string(++calls) + ".txt";
  std::ofstream(in, std::ios::binary) << note;
  const std::string cmd = std::string(INDELIBLE_PYTHON3) + " " + INDELIBLE_SOURCE_DIR +
                          "/tests/chain/cosign_note.py " + args + " < " + in;
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << cmd;
  std::remove(in.c_str());
  return out;
}

class WitnessPolicyTest : public ::testing::Test {
 protected:
  WitnessPolicyTest()
      : log_("audit.example.com", *Ed25519PrivateKey::Generate()),
        w1_("witness.example/w1", SeedKey(kSeed1)),
        w2_("witness.example/w2", SeedKey(kSeed2)),
        w3_("witness.example/w3", *Ed25519PrivateKey::Generate()) {}

  std::string Note(uint64_t size) const { return log_.Sign(Body(size)); }
  WitnessPolicy Policy(size_t quorum) const {
    return {{w1_.key(), w2_.key(), w3_.key()}, quorum};
  }

  NoteSigner log_;
  Cosigner w1_, w2_, w3_;
};

TEST_F(WitnessPolicyTest, QuorumMetAndBelowNamesTheMissing) {
  const std::string body = Body(13);
  const std::string note = Note(13) + w1_.SignatureLine(body, 100) +
                           w3_.SignatureLine(body, 101);
  auto check = CheckQuorum(note, Policy(2));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->met());
  ASSERT_EQ(check->cosigned.size(), 2u);
  EXPECT_EQ(check->cosigned[1].name, "witness.example/w3");
  EXPECT_EQ(check->missing, std::vector<std::string>{"witness.example/w2"});
  EXPECT_TRUE(QuorumStatus(*check).ok());

  check = CheckQuorum(note, Policy(3));
  ASSERT_TRUE(check.ok());
  const absl::Status below = QuorumStatus(*check);
  EXPECT_TRUE(IsBelowQuorum(below));
  EXPECT_EQ(ToStd(below.message()),
            "below witness quorum: cosigned by 2 of the 3 witnesses required "
            "(witness.example/w1, witness.example/w3); missing: witness.example/w2");
  // Another Unauthenticated status (e.g. the server's) is not below quorum.
  EXPECT_FALSE(IsBelowQuorum(absl::UnauthenticatedError("token")));

  // The same through VerifyWitnessedCheckpointV2, which checks the log too.
  auto c = VerifyWitnessedCheckpointV2(note, {log_.verifier_key()}, Policy(2));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(IsBelowQuorum(
      VerifyWitnessedCheckpointV2(note, {log_.verifier_key()}, Policy(3)).status()));
  // No cosignature at all.
  EXPECT_TRUE(IsBelowQuorum(
      VerifyWitnessedCheckpointV2(Note(13), {log_.verifier_key()}, Policy(1)).status()));
}

TEST_F(WitnessPolicyTest, DuplicateLinesCountOnce) {
  const std::string body = Body(13);
  const std::string note = Note(13) + w1_.SignatureLine(body, 100) +
                           w1_.SignatureLine(body, 100) + w1_.SignatureLine(body, 200);
  auto check = CheckQuorum(note, Policy(2));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_FALSE(check->met());
  EXPECT_EQ(check->cosigned.size(), 1u);
  // A witness listed twice in the policy is one witness.
  auto twice = CheckQuorum(note, {{w1_.key(), w1_.key(), w2_.key()}, 1});
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->cosigned.size(), 1u);
  EXPECT_EQ(twice->missing, std::vector<std::string>{"witness.example/w2"});
}

TEST_F(WitnessPolicyTest, ForgedCosignatureWithTheWitnessName) {
  const std::string body = Body(13);
  // A second key under w1's name: its key id differs, so the line is not
  // w1's and does not count (an unknown witness).
  Cosigner impostor("witness.example/w1", SeedKey(kForgerSeed));
  const std::string other_id = Note(13) + impostor.SignatureLine(body, 100);
  auto check = CheckQuorum(other_id, Policy(1));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_FALSE(check->met());
  // The same key with w1's key id copied into the line: it claims to be w1
  // and fails to verify, which is a named error, not an ignored line.
  const std::string w1_id = absl::StrFormat("%08x", w1_.key().key_id);
  const std::string forged =
      Python(std::string("witness.example/w1 ") + kForgerSeed + " 100 " + w1_id, Note(13));
  auto bad = CheckQuorum(forged + w2_.SignatureLine(body, 1), Policy(1));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ToStd(bad.status().message()), "cosignature by witness.example/w1 does not verify");
  EXPECT_EQ(
      VerifyWitnessedCheckpointV2(forged, {log_.verifier_key()}, Policy(1)).status().code(),
      absl::StatusCode::kDataLoss);
  // A cosignature over another checkpoint moved onto this one: also forged.
  std::string moved = Note(13);
  const std::string line14 = w1_.SignatureLine(Body(14), 100);
  EXPECT_EQ(CheckQuorum(moved + line14, Policy(1)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(WitnessPolicyTest, CosignedByTheIndependentImplementation) {
  const std::string py_vkey = Python(std::string("--vkey witness.example/w2 ") + kSeed2);
  EXPECT_EQ(py_vkey, CosignerKeyString(w2_.key()) + "\n");
  // Two witnesses cosign in Python, one after the other.
  std::string note = Python(std::string("witness.example/w1 ") + kSeed1 + " 1700000100", Note(13));
  note = Python(std::string("witness.example/w2 ") + kSeed2 + " 1700000200", note);
  auto c = VerifyWitnessedCheckpointV2(note, {log_.verifier_key()}, Policy(2));
  ASSERT_TRUE(c.ok()) << c.status();
  auto check = CheckQuorum(note, Policy(2));
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->cosigned[0].timestamp, 1700000100u);
  EXPECT_EQ(check->cosigned[1].timestamp, 1700000200u);
  // And the library's line is the Python one, byte for byte.
  EXPECT_EQ(Python(std::string("witness.example/w1 ") + kSeed1 + " 5", Note(13)),
            Note(13) + w1_.SignatureLine(Body(13), 5));
}

TEST(WitnessPolicyGolden, GoldenCosignedNoteMeetsItsPolicy) {
  std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/format-v2.json");
  const nlohmann::json v = nlohmann::json::parse(in);
  const auto& cs = v.at("cosignature");
  auto policy = ParseWitnessPolicy("witness " + cs.at("verifier_key").get<std::string>() +
                                   "\nquorum 1\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto log_key =
      ParseNoteVerifierKey(v.at("checkpoint").at("verifier_key").get<std::string>());
  ASSERT_TRUE(log_key.ok());
  std::vector<WitnessCosignature> found;
  auto c = VerifyWitnessedCheckpointV2(cs.at("cosigned_note").get<std::string>(), {*log_key},
                                       *policy, &found);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].timestamp, cs.at("timestamp").get<uint64_t>());
  // The log's note alone is below quorum.
  EXPECT_TRUE(IsBelowQuorum(VerifyWitnessedCheckpointV2(
                                v.at("checkpoint").at("note").get<std::string>(), {*log_key},
                                *policy)
                                .status()));
}

TEST(WitnessPolicyParse, FileFormat) {
  Cosigner a("witness.example/a", *Ed25519PrivateKey::Generate());
  Cosigner b("witness.example/b", *Ed25519PrivateKey::Generate());
  const std::string ka = CosignerKeyString(a.key()), kb = CosignerKeyString(b.key());
  auto p = ParseWitnessPolicy("# witnesses of audit.example.com\n\nwitness " + ka +
                              "\n  witness\t" + kb + "  \r\nquorum 2\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->witnesses, (std::vector<CosignerKey>{a.key(), b.key()}));
  EXPECT_EQ(p->quorum, 2u);
  auto again = ParseWitnessPolicy(FormatWitnessPolicy(*p));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->witnesses, p->witnesses);

  auto err = [](const std::string& text) {
    auto r = ParseWitnessPolicy(text);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << text;
    return std::string(ToStd(r.status().message()));
  };
  EXPECT_EQ(err("witness " + ka + "\n"), "witness policy: no \"quorum K\" line");
  EXPECT_EQ(err("witness " + ka + "\nquorum 1\nquorum 1\n"),
            "witness policy line 3: quorum given twice");
  EXPECT_EQ(err("witness " + ka + "\nquorum 0\n"),
            "witness policy: quorum must be at least 1");
  EXPECT_EQ(err("witness " + ka + "\nwitness " + ka + "\nquorum 2\n"),
            "witness policy: quorum 2 exceeds the 1 distinct witnesses");
  EXPECT_EQ(err("quorum 1\n"), "witness policy: no witness given");
  EXPECT_EQ(err("witness " + ka + "\nquorum one\n"),
            "witness policy line 2: quorum is not a decimal number");
  EXPECT_EQ(err("witnes " + ka + "\nquorum 1\n"),
            "witness policy line 1: unknown keyword \"witnes\"");
  EXPECT_EQ(err("witness " + ka + " extra\nquorum 1\n"),
            "witness policy line 1: want \"witness VKEY\" or \"quorum K\"");
  EXPECT_NE(err("witness " + ka.substr(0, ka.size() - 2) + "\nquorum 1\n")
                .find("witness policy line 1: "),
            std::string::npos);
  // A log key (type 0x01) is not a witness key.
  NoteSigner log("audit.example.com", *Ed25519PrivateKey::Generate());
  EXPECT_NE(err("witness " + NoteVerifierKeyString(log.verifier_key()) + "\nquorum 1\n")
                .find("line 1"),
            std::string::npos);
}

TEST(WitnessPolicyParse, Flags) {
  Cosigner a("witness.example/a", *Ed25519PrivateKey::Generate());
  Cosigner b("witness.example/b", *Ed25519PrivateKey::Generate());
  const std::string ka = CosignerKeyString(a.key()), kb = CosignerKeyString(b.key());
  auto all = WitnessPolicyFromFlags({ka, kb}, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->quorum, 2u);  // default: every witness
  auto one = WitnessPolicyFromFlags({ka, kb}, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->quorum, 1u);
  EXPECT_EQ(WitnessPolicyFromFlags({ka, ka}, std::nullopt)->quorum, 1u);
  EXPECT_EQ(ToStd(WitnessPolicyFromFlags({ka}, 2).status().message()),
            "--quorum: witness policy: quorum 2 exceeds the 1 distinct witnesses");
  EXPECT_EQ(ToStd(WitnessPolicyFromFlags({ka}, 0).status().message()),
            "--quorum: witness policy: quorum must be at least 1");
  EXPECT_EQ(ToStd(WitnessPolicyFromFlags({}, 1).status().message()), "--quorum needs --witness");
  EXPECT_EQ(WitnessPolicyFromFlags({"nope"}, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStd(WitnessPolicyFromFlags({"nope"}, 1).status().message()).substr(0, 15),
            "--witness nope:");
}

// 2K <= N lets two views of one size each reach K: refused on a command
// line unless --allow-minority-quorum.
TEST(WitnessPolicyParse, QuorumMustBeAMajority) {
  std::vector<std::string> keys;
  for (const char* name : {"witness.example/a", "witness.example/b", "witness.example/c"}) {
    keys.push_back(CosignerKeyString(Cosigner(name, *Ed25519PrivateKey::Generate()).key()));
  }
  const std::vector<std::string> two(keys.begin(), keys.begin() + 2);
  auto minority = WitnessPolicyFromCommandLine(two, 1, "", false);
  EXPECT_EQ(minority.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStd(minority.status().message()).substr(0, 72),
            "--quorum: witness policy: quorum 1 of 2 witnesses is not a majority: two");
  EXPECT_NE(ToStd(minority.status().message()).find("--allow-minority-quorum"),
            std::string::npos);
  EXPECT_FALSE(WitnessPolicyFromCommandLine(keys, 1, "", false).ok());
  EXPECT_TRUE(WitnessPolicyFromCommandLine(keys, 2, "", false).ok());
  EXPECT_TRUE(WitnessPolicyFromCommandLine(two, 0, "", false).ok());  // all of them
  EXPECT_TRUE(WitnessPolicyFromCommandLine(two, 1, "", true).ok());
  // A witness listed twice counts once: 1 of {a, a} is all of one.
  EXPECT_TRUE(WitnessPolicyFromCommandLine({keys[0], keys[0]}, 1, "", false).ok());
  EXPECT_TRUE(WitnessPolicyFromCommandLine({}, 0, "", false)->has_value() == false);
  const std::string file = ::testing::TempDir() + "/minority-policy";
  std::ofstream(file) << "witness " << keys[0] << "\nwitness " << keys[1] << "\nquorum 1\n";
  auto from_file = WitnessPolicyFromCommandLine({}, 0, file, false);
  EXPECT_NE(ToStd(from_file.status().message()).find("--witness-policy " + file + ": witness "
                                                     "policy: quorum 1 of 2"),
            std::string::npos)
      << from_file.status();
  EXPECT_TRUE(WitnessPolicyFromCommandLine({}, 0, file, true).ok());
  EXPECT_TRUE(CheckMajorityQuorum({{}, 0}).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace indelible::chain
