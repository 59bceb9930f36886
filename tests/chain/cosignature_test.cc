#include "verifier/chain/cosignature.h"

#include "gtest/gtest.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

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

class CosignatureTest : public testing::Test {
 protected:
  CosignatureTest()
      : log_("audit.example.com", *Ed25519PrivateKey::Generate()),
        w1_("witness.example/w1", *Ed25519PrivateKey::Generate()),
        w2_("witness.example/w2", *Ed25519PrivateKey::Generate()),
        w3_("witness.example/w3", *Ed25519PrivateKey::Generate()) {}

  std::string Note(uint64_t size) const { return log_.Sign(Body(size)); }

  NoteSigner log_;
  Cosigner w1_, w2_, w3_;
};

TEST_F(CosignatureTest, QuorumOfDistinctWitnesses) {
  const std::string body = Body(13);
  const std::string note =
      Note(13) + w1_.SignatureLine(body, 100) + w2_.SignatureLine(body, 101);
  WitnessPolicy policy{{w1_.key(), w2_.key(), w3_.key()}, 2};
  auto found = VerifyCosignatures(note, policy);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].name, "witness.example/w1");
  EXPECT_EQ((*found)[0].timestamp, 100u);
  EXPECT_EQ((*found)[1].timestamp, 101u);
  policy.quorum = 3;
  EXPECT_EQ(VerifyCosignatures(note, policy).status().code(),
            absl::StatusCode::kDataLoss);
  // The log's signature is unaffected by the cosignature lines.
  EXPECT_TRUE(VerifyCheckpointV2(note, {log_.verifier_key()}).ok());
}

TEST_F(CosignatureTest, DuplicatesCountOnce) {
  const std::string body = Body(13);
  // The same witness twice in the note (two timestamps) is one witness.
  const std::string note =
      Note(13) + w1_.SignatureLine(body, 100) + w1_.SignatureLine(body, 200);
  EXPECT_FALSE(VerifyCosignatures(note, {{w1_.key(), w2_.key()}, 2}).ok());
  auto one = VerifyCosignatures(note, {{w1_.key(), w2_.key()}, 1});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->size(), 1u);
  // Listed twice in the policy: still one witness, and a quorum of two
  // cannot be met by it.
  EXPECT_EQ(
      VerifyCosignatures(note, {{w1_.key(), w1_.key()}, 2}).status().code(),
      absl::StatusCode::kInvalidArgument);
  // One key under two names: the line renamed would verify, so it is still
  // one witness.
  CosignerKey alias =
      MakeCosignerKey("witness.example/alias", w1_.key().public_key);
  std::string line = w1_.SignatureLine(body, 100);
  // The same signature under the alias's name and key id.
  const size_t b64 = line.rfind(' ') + 1;
  std::string id_sig;
  ASSERT_TRUE(Base64Decode(line.substr(b64, line.size() - b64 - 1), &id_sig));
  id_sig[0] = static_cast<char>(alias.key_id >> 24);
  id_sig[1] = static_cast<char>(alias.key_id >> 16);
  id_sig[2] = static_cast<char>(alias.key_id >> 8);
  id_sig[3] = static_cast<char>(alias.key_id);
  const std::string alias_line =
      "\xe2\x80\x94 witness.example/alias " + Base64Encode(id_sig) + "\n";
  const std::string both = Note(13) + line + alias_line;
  // The renamed line really verifies as the alias ...
  auto as_alias = VerifyCosignatures(Note(13) + alias_line, {{alias}, 1});
  ASSERT_TRUE(as_alias.ok()) << as_alias.status();
  // ... yet both together are one witness.
  EXPECT_EQ(VerifyCosignatures(both, {{w1_.key(), alias}, 2}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto counted = VerifyCosignatures(both, {{w1_.key(), alias, w2_.key()}, 2});
  EXPECT_EQ(counted.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CosignatureTest, UnknownLinesIgnored) {
  const std::string body = Body(13);
  // A witness outside the policy, and a line with a known name but an
  // unknown key id, are ignored (signed-note: unknown keys).
  std::string other_id_line = w1_.SignatureLine(body, 5);
  Cosigner impostor("witness.example/w1", *Ed25519PrivateKey::Generate());
  const std::string note =
      Note(13) + w3_.SignatureLine(body, 1) + impostor.SignatureLine(body, 2);
  auto found = VerifyCosignatures(note, {{w1_.key()}, 0});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->empty());
  EXPECT_EQ(VerifyCosignatures(note, {{w1_.key()}, 1}).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(VerifyCosignatures(note + other_id_line, {{w1_.key()}, 1}).ok());
}

TEST_F(CosignatureTest, SecondKeyOrOtherBodyFails) {
  const std::string body = Body(13);
  // A cosignature made for another checkpoint, moved onto this one: its
  // name and id match w1, so it must verify, and does not.
  const std::string moved = Note(13) + w1_.SignatureLine(Body(12), 100);
  auto got = VerifyCosignatures(moved, {{w1_.key()}, 1});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("does not verify"), std::string::npos);
  // w1's name and key id over a signature by a second key.
  std::string line = w1_.SignatureLine(body, 100);
  const size_t b64 = line.rfind(' ') + 1;
  std::string id_sig;
  ASSERT_TRUE(Base64Decode(line.substr(b64, line.size() - b64 - 1), &id_sig));
  const std::string forged_sig =
      Ed25519PrivateKey::Generate()->Sign(CosignedMessage(body, 100));
  id_sig.replace(12, 64, forged_sig);
  const std::string forged =
      Note(13) + line.substr(0, b64) + Base64Encode(id_sig) + "\n";
  EXPECT_EQ(VerifyCosignatures(forged, {{w1_.key()}, 1}).status().code(),
            absl::StatusCode::kDataLoss);
  // The timestamp is signed: changing it breaks the signature.
  ASSERT_TRUE(Base64Decode(line.substr(b64, line.size() - b64 - 1), &id_sig));
  id_sig[11] ^= 1;
  EXPECT_FALSE(VerifyCosignatures(
                   Note(13) + line.substr(0, b64) + Base64Encode(id_sig) + "\n",
                   {{w1_.key()}, 1})
                   .ok());
  // Truncated signature bytes.
  EXPECT_FALSE(VerifyCosignatures(Note(13) + line.substr(0, b64) +
                                      Base64Encode(id_sig.substr(0, 70)) + "\n",
                                  {{w1_.key()}, 1})
                   .ok());
}

TEST_F(CosignatureTest, TimestampAboveInt63Rejected) {
  const std::string body = Body(13);
  const uint64_t ts = uint64_t{1} << 63;
  // Signed properly over the message with that time, still refused.
  Ed25519PrivateKey key = *Ed25519PrivateKey::Generate();
  CosignerKey ck = MakeCosignerKey("w", key.PublicKey());
  std::string id_sig;
  for (int s : {24, 16, 8, 0})
    id_sig.push_back(static_cast<char>(ck.key_id >> s));
  for (int s = 56; s >= 0; s -= 8) id_sig.push_back(static_cast<char>(ts >> s));
  id_sig += key.Sign(absl::StrCat("cosignature/v1\ntime ", ts, "\n", body));
  const std::string note =
      Note(13) + "\xe2\x80\x94 w " + Base64Encode(id_sig) + "\n";
  auto got = VerifyCosignatures(note, {{ck}, 1});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CosignatureTest, WitnessedCheckpointNeedsLogSignatureAndQuorum) {
  const std::string body = Body(13);
  const std::string cosigned = Note(13) + w1_.SignatureLine(body, 100);
  std::vector<WitnessCosignature> found;
  auto c = VerifyWitnessedCheckpointV2(cosigned, {log_.verifier_key()},
                                       {{w1_.key(), w2_.key()}, 1}, &found);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->size, 13u);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].timestamp, 100u);
  EXPECT_FALSE(VerifyWitnessedCheckpointV2(cosigned, {log_.verifier_key()},
                                           {{w1_.key(), w2_.key()}, 2})
                   .ok());
  // A quorum of cosignatures does not stand in for the log's signature.
  NoteSigner other("audit.example.com", *Ed25519PrivateKey::Generate());
  const std::string unsigned_by_log =
      other.Sign(body) + w1_.SignatureLine(body, 100);
  EXPECT_FALSE(VerifyWitnessedCheckpointV2(
                   unsigned_by_log, {log_.verifier_key()}, {{w1_.key()}, 1})
                   .ok());
}

TEST(CosignerKeys, ParseAndFormat) {
  Cosigner w("witness.example/w1", *Ed25519PrivateKey::Generate());
  const std::string s = CosignerKeyString(w.key());
  auto parsed = ParseCosignerKey(s);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, w.key());
  EXPECT_NE(w.key().key_id, NoteKeyId(w.key().name, w.key().public_key));
  EXPECT_FALSE(ParseCosignerKey("witness").ok());
  EXPECT_FALSE(
      ParseCosignerKey("w x+00000000+" + Base64Encode(std::string(33, 4)))
          .ok());
  std::string wrong_id = s;
  wrong_id[s.find('+') + 1] = wrong_id[s.find('+') + 1] == '0' ? '1' : '0';
  EXPECT_FALSE(ParseCosignerKey(wrong_id).ok());
  EXPECT_FALSE(ParseCosignerKey(s.substr(0, s.size() - 4)).ok());
}

TEST(WitnessPolicies, Validate) {
  Cosigner a("a", *Ed25519PrivateKey::Generate());
  EXPECT_TRUE(ValidateWitnessPolicy({{}, 0}).ok());
  EXPECT_FALSE(ValidateWitnessPolicy({{}, 1}).ok());
  EXPECT_TRUE(ValidateWitnessPolicy({{a.key()}, 1}).ok());
  EXPECT_FALSE(ValidateWitnessPolicy({{a.key(), a.key()}, 2}).ok());
}

}  // namespace
}  // namespace indelible::chain
