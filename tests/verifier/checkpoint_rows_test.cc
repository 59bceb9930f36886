#include "verifier/check/checkpoint_rows.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/verifier/test_chain.h"
#include "verifier/check/sink.h"

namespace indelible::check {
namespace {

using testing::CollectingReporter;

// The golden checkpoint of docs/FORMAT.md section 8.6.
struct Golden {
  std::string verifier_key, public_key_pem, note;
};

Golden LoadGolden() {
  std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/format-v1.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str());
  const auto& c = j["checkpoint"];
  return Golden{c["verifier_key"], c["public_key_pem"], c["note"]};
}

TEST(TrustedKeysTest, VerifiesTheGoldenNoteWithAVerifierKey) {
  Golden g = LoadGolden();
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(g.verifier_key).ok());
  auto cp = keys.VerifyCheckpoint(g.note);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->tenant, "acme");
  EXPECT_EQ(cp->seq, 3u);
  EXPECT_EQ(keys.Describe(), std::vector<std::string>{g.verifier_key});
}

TEST(TrustedKeysTest, VerifiesTheGoldenNoteWithAPemKey) {
  Golden g = LoadGolden();
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddPublicKeyPem(g.public_key_pem).ok());
  auto cp = keys.VerifyCheckpoint(g.note);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->seq, 3u);
}

TEST(TrustedKeysTest, RejectsBadKeysAndForeignSignatures) {
  TrustedKeys keys;
  EXPECT_FALSE(keys.AddVerifierKey("nonsense").ok());
  EXPECT_FALSE(keys.AddPublicKeyPem("-----BEGIN PUBLIC KEY-----\n").ok());
  EXPECT_TRUE(keys.empty());
  ASSERT_TRUE(keys.AddVerifierKey(chain::NoteVerifierKeyString(
                      testing::OtherSigner().verifier_key()))
                  .ok());
  EXPECT_FALSE(keys.VerifyCheckpoint(LoadGolden().note).ok());
}

TEST(TrustedKeysTest, KeyHistory) {
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(chain::NoteVerifierKeyString(
                      testing::OtherSigner().verifier_key()))
                  .ok());
  ASSERT_TRUE(keys.AddVerifierKey(LoadGolden().verifier_key).ok());
  EXPECT_TRUE(keys.VerifyCheckpoint(LoadGolden().note).ok());
}

TEST(ParseCheckpointNoteTest, ReadsTextWithoutKeys) {
  auto cp = ParseCheckpointNote(LoadGolden().note);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->timestamp_ns, 1700000001000000000u);
  EXPECT_FALSE(ParseCheckpointNote("indelible/v1/acme\n3\n").ok());
}

class StoredCheckpointTest : public ::testing::Test {
 protected:
  StoredCheckpointTest()
      : chain_(testing::MakeChain("acme", 5)), sink_(&reporter_) {
    keys_.AddVerifierKey(chain::NoteVerifierKeyString(
                             testing::TestSigner().verifier_key()))
        .IgnoreError();
  }

  // Feeds `note` as the stored row at `key_seq`, then the chain.
  void Feed(uint64_t key_seq, const std::string& note,
            const TrustedKeys& keys) {
    ChainChecker checker("acme",
                         HeadRow{HeadRow::State::kPresent,
                                 testing::HeadOf(chain_)},
                         &sink_);
    AddStoredCheckpoint(key_seq, note, keys, &checker);
    for (const auto& r : chain_) checker.AddRecord(r.view());
    checker.Finish();
    summary_ = checker.summary();
  }

  std::string Note(const chain::NoteSigner& signer, uint64_t seq,
                   const std::string& tenant = "acme") {
    return testing::SignedCheckpoint(signer, tenant, seq,
                                     chain_[seq - 1].skeleton.entry_hash, 77);
  }

  std::vector<testing::TestRecord> chain_;
  CollectingReporter reporter_;
  InlineSink sink_;
  TrustedKeys keys_;
  TenantSummary summary_;
};

TEST_F(StoredCheckpointTest, SignedAndConfirmed) {
  Feed(3, Note(testing::TestSigner(), 3), keys_);
  EXPECT_TRUE(reporter_.findings.empty());
  EXPECT_EQ(summary_.stored_checkpoints, 1u);
  EXPECT_EQ(summary_.checkpoints_signed, 1u);
  EXPECT_EQ(summary_.checkpoints_confirmed, 1u);
}

TEST_F(StoredCheckpointTest, WithoutKeysComparedButUnverified) {
  Feed(3, Note(testing::OtherSigner(), 3), TrustedKeys());
  EXPECT_TRUE(reporter_.findings.empty());
  EXPECT_EQ(summary_.checkpoints_unverified, 1u);
  EXPECT_EQ(summary_.checkpoints_confirmed, 1u);
}

TEST_F(StoredCheckpointTest, SignedByAnotherKey) {
  Feed(3, Note(testing::OtherSigner(), 3), keys_);
  ASSERT_EQ(reporter_.findings.size(), 1u);
  EXPECT_EQ(reporter_.findings[0].kind, Kind::kCheckpointSignature);
  EXPECT_EQ(reporter_.findings[0].seq, 3u);
  EXPECT_EQ(summary_.checkpoints_confirmed, 0u);
}

TEST_F(StoredCheckpointTest, ForgedText) {
  std::string note = Note(testing::TestSigner(), 3);
  // Claim seq 4 with the signature of seq 3's text.
  note.replace(note.find("\n3\n"), 3, "\n4\n");
  Feed(4, note, keys_);
  ASSERT_EQ(reporter_.findings.size(), 1u);
  EXPECT_EQ(reporter_.findings[0].kind, Kind::kCheckpointSignature);
  EXPECT_EQ(reporter_.findings[0].seq, 4u);
}

TEST_F(StoredCheckpointTest, FiledUnderAnotherSeqOrTenant) {
  Feed(2, Note(testing::TestSigner(), 3), keys_);
  ASSERT_EQ(reporter_.findings.size(), 1u);
  EXPECT_EQ(reporter_.findings[0].kind, Kind::kCheckpointMismatch);
  reporter_.findings.clear();
  Feed(3, Note(testing::TestSigner(), 3, "globex"), keys_);
  ASSERT_EQ(reporter_.findings.size(), 1u);
  EXPECT_EQ(reporter_.findings[0].kind, Kind::kCheckpointMismatch);
}

TEST_F(StoredCheckpointTest, Malformed) {
  Feed(3, "garbage", keys_);
  ASSERT_EQ(reporter_.findings.size(), 1u);
  EXPECT_EQ(reporter_.findings[0].kind, Kind::kMalformed);
  EXPECT_EQ(reporter_.findings[0].seq, 3u);
}

TEST(SuppliedCheckpointTest, VerifiedWhenKeysAreGiven) {
  Golden g = LoadGolden();
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(g.verifier_key).ok());
  auto claim = LoadSuppliedCheckpoint(g.note, keys);
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_TRUE(claim->signature_verified);
  EXPECT_EQ(claim->source, CheckpointClaim::Source::kSupplied);

  auto unverified = LoadSuppliedCheckpoint(g.note, TrustedKeys());
  ASSERT_TRUE(unverified.ok());
  EXPECT_FALSE(unverified->signature_verified);

  TrustedKeys other;
  ASSERT_TRUE(other.AddVerifierKey(chain::NoteVerifierKeyString(
                       testing::OtherSigner().verifier_key()))
                  .ok());
  auto rejected = LoadSuppliedCheckpoint(g.note, other);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace indelible::check
