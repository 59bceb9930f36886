// Deletion certificates (docs/FORMAT.md section 15): version 2 pinned by
// tests/data/deletion-v2.json, which tests/chain/deletion_v2_check.py builds
// and verifies from the spec text; version 1 still verifies.
#include "verifier/chain/deletion.h"

#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/merkle.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

Digest FromHexDigest(const std::string& hex) {
  std::string bytes;
  Digest d{};
  EXPECT_TRUE(FromHex(hex, &bytes) && DigestFromBytes(bytes, &d)) << hex;
  return d;
}

class DeletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/deletion-v2.json");
    ASSERT_TRUE(in) << "tests/data/deletion-v2.json";
    v_ = nlohmann::json::parse(in);
  }
  NoteSigner Signer() {
    std::string seed;
    EXPECT_TRUE(FromHex(v_["private_key_seed_hex"].get<std::string>(), &seed));
    return NoteSigner(v_["key_name"].get<std::string>(), *Ed25519PrivateKey::FromSeed(seed));
  }
  DeletionCertificate Certificate() {
    DeletionCertificate c;
    c.version = 2;
    c.tenant = v_["tenant"];
    c.log_name = v_["log_name"];
    c.final_seq = v_["final_size"];
    c.root = FromHexDigest(v_["final_root_hex"]);
    c.final_head = FromHexDigest(v_["final_chain_head_hex"]);
    c.timestamp_ns = v_["timestamp_ns"];
    c.approvers = v_["approvers"].get<std::vector<std::string>>();
    return c;
  }
  nlohmann::json v_;
};

TEST_F(DeletionTest, ReproducesTheVector) {
  EXPECT_EQ(NoteVerifierKeyString(Signer().verifier_key()), v_["verifier_key"]);
  EXPECT_EQ(DeletionCertificateText(Certificate()), v_["text"]);
  EXPECT_EQ(Signer().Sign(DeletionCertificateText(Certificate())), v_["note"]);
}

TEST_F(DeletionTest, VerifiesTheVectorAndItsTreeExtendsTheKeptOne) {
  auto c = VerifyDeletionCertificate(v_["note"].get<std::string>(), {Signer().verifier_key()});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, Certificate());
  EXPECT_EQ(c->origin(), "indelible.test/acme");
  std::vector<Digest> proof;
  for (const auto& h : v_["consistency_proof_hex"]) proof.push_back(FromHexDigest(h));
  const Digest kept = FromHexDigest(v_["kept_root_hex"]);
  EXPECT_TRUE(VerifyConsistency(v_["kept_size"], c->final_seq, proof, kept, c->root).ok());
  Digest other = c->root;
  other[0] ^= 1;
  EXPECT_FALSE(VerifyConsistency(v_["kept_size"], c->final_seq, proof, kept, other).ok());
}

TEST_F(DeletionTest, AnotherKeyOrAChangedByteIsRefused) {
  const std::string note = v_["note"];
  NoteSigner mallory(v_["key_name"].get<std::string>(),
                     *Ed25519PrivateKey::FromSeed(std::string(32, 'm')));
  // Signed by a second key under the same name: not the log's signature.
  EXPECT_FALSE(VerifyDeletionCertificate(mallory.Sign(v_["text"].get<std::string>()),
                                         {Signer().verifier_key()})
                   .ok());
  std::string changed = note;
  changed.replace(changed.find("size 13"), 7, "size 12");
  EXPECT_FALSE(VerifyDeletionCertificate(changed, {Signer().verifier_key()}).ok());
}

TEST_F(DeletionTest, VersionOneStillVerifies) {
  DeletionCertificate v1{"acme", 7, FromHexDigest(v_["final_chain_head_hex"]), 42};
  const std::string text = DeletionCertificateText(v1);
  EXPECT_EQ(text.substr(0, 27), "indelible/v1/deletion/acme\n");
  auto c = VerifyDeletionCertificate(Signer().Sign(text), {Signer().verifier_key()});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, 1);
  EXPECT_EQ(*c, v1);
}

TEST_F(DeletionTest, MalformedTextIsRefused) {
  const std::string text = v_["text"];
  auto Replaced = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  for (const std::string& bad : {
           Replaced("origin indelible.test/acme", "origin indelible.test/beta"),
           Replaced("origin indelible.test/acme", "origin /acme"),
           Replaced("size 13", "size 013"),
           Replaced("size 13", "size 0"),
           Replaced("root ", "root  "),
           Replaced("approver alice@ops.example\n", "approver \n"),
           Replaced("approver alice@ops.example\n", "approver a\tb\n"),
           Replaced("approver alice@ops.example\napprover bob@ops.example\n", ""),
           Replaced("time ", "when "),
           text.substr(0, text.size() - 1),
       }) {
    EXPECT_FALSE(ParseDeletionCertificateText(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseDeletionCertificateText(text).ok());
}

}  // namespace
}  // namespace indelible::chain
