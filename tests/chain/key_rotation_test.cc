// Key rotation statements (docs/FORMAT.md): pinned by tests/data/
// key-rotation.json, which tests/chain/key_rotation_check.py builds and
// verifies from the spec text with Python's `cryptography`.
#include "verifier/chain/key_rotation.h"

#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/key-rotation.json");
    ASSERT_TRUE(in) << "tests/data/key-rotation.json";
    v_ = nlohmann::json::parse(in);
  }
  NoteSigner Signer(const char* which) {
    std::string seed;
    EXPECT_TRUE(FromHex(v_[std::string(which) + "_seed"].get<std::string>(), &seed));
    auto key = Ed25519PrivateKey::FromSeed(seed);
    EXPECT_TRUE(key.ok()) << key.status();
    return NoteSigner(v_[std::string(which) + "_name"].get<std::string>(), *key);
  }
  KeyRotation Rotation() {
    KeyRotation r;
    r.log_name = v_["log_name"];
    r.old_key = Signer("old").verifier_key();
    r.new_key = Signer("new").verifier_key();
    r.timestamp_ns = v_["timestamp_ns"];
    return r;
  }
  nlohmann::json v_;
};

TEST_F(KeyRotationTest, ReproducesTheVector) {
  EXPECT_EQ(NoteVerifierKeyString(Signer("old").verifier_key()), v_["old_verifier_key"]);
  EXPECT_EQ(NoteVerifierKeyString(Signer("new").verifier_key()), v_["new_verifier_key"]);
  EXPECT_EQ(KeyRotationText(Rotation()), v_["text"]);
  auto note = SignKeyRotation(Rotation(), Signer("old"), Signer("new"));
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(*note, v_["note"]);
}

TEST_F(KeyRotationTest, VerifiesTheVector) {
  auto r = VerifyKeyRotation(v_["note"].get<std::string>());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->log_name, "audit.example.com");
  EXPECT_EQ(NoteVerifierKeyString(r->old_key), v_["old_verifier_key"]);
  EXPECT_EQ(NoteVerifierKeyString(r->new_key), v_["new_verifier_key"]);
  EXPECT_EQ(r->timestamp_ns, v_["timestamp_ns"].get<uint64_t>());
}

TEST_F(KeyRotationTest, TamperedTextFails) {
  std::string note = v_["note"];
  note.replace(note.find("log audit"), 9, "log evil.");
  auto r = VerifyKeyRotation(note);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("old key does not verify"), std::string::npos)
      << r.status();
}

TEST_F(KeyRotationTest, EachKeyMustSign) {
  const std::string text = KeyRotationText(Rotation());
  // Only the old key's line: no proof the new key's holder agreed.
  auto only_old = VerifyKeyRotation(Signer("old").Sign(text));
  ASSERT_FALSE(only_old.ok());
  EXPECT_NE(only_old.status().message().find("no signature by the new key"), std::string::npos)
      << only_old.status();
  // Only the new key's line: an announcement the old key never made.
  auto only_new = VerifyKeyRotation(Signer("new").Sign(text));
  ASSERT_FALSE(only_new.ok());
  EXPECT_NE(only_new.status().message().find("no signature by the old key"), std::string::npos)
      << only_new.status();
}

TEST_F(KeyRotationTest, AThirdKeyCannotSignForTheOld) {
  auto other = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  NoteSigner mallory("indelible", *other);
  KeyRotation r = Rotation();
  EXPECT_FALSE(SignKeyRotation(r, mallory, Signer("new")).ok());
  // The statement names the old key, the signature line comes from another.
  const std::string text = KeyRotationText(r);
  const std::string by_new = Signer("new").Sign(text);
  const std::string forged =
      mallory.Sign(text) + by_new.substr(text.size() + 1);
  auto got = VerifyKeyRotation(forged);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("no signature by the old key"), std::string::npos)
      << got.status();
}

TEST_F(KeyRotationTest, MalformedTextIsRefused) {
  const std::string good = KeyRotationText(Rotation());
  for (const std::string& bad : {
           std::string(""),
           std::string("indelible/v1/key-rotation\n"),
           "indelible/v2/key-rotation" + good.substr(good.find('\n')),
           good.substr(0, good.size() - 1),                       // no final newline
           good + "extra\n",
           good.substr(0, good.find("time ")) + "time 01\n",      // leading zero
           good.substr(0, good.find("time ")) + "time -1\n",
       }) {
    EXPECT_FALSE(ParseKeyRotationText(bad).ok()) << bad;
  }
  KeyRotation same = Rotation();
  same.new_key = same.old_key;
  auto parsed = ParseKeyRotationText(KeyRotationText(same));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("same key"), std::string::npos);
  EXPECT_FALSE(SignKeyRotation(same, Signer("old"), Signer("old")).ok());
}

}  // namespace
}  // namespace indelible::chain
