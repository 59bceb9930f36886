// Following a rotation record: only from a trusted key, only a valid
// statement (verifier/check/key_rotations.h).
#include "verifier/check/key_rotations.h"

#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::check {
namespace {

class KeyRotationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/key-rotation.json");
    ASSERT_TRUE(in);
    v_ = nlohmann::json::parse(in);
  }
  std::string Ce(const std::string& category, const std::string& statement) {
    chain::EventFields e;
    e.tenant = "acme";
    e.event_id = "x";
    e.actor_id = "operator";
    e.action = "key.rotate";
    e.category = category;
    e.metadata = {{"statement", statement}};
    auto ce = chain::EncodeCanonicalEvent(e);
    EXPECT_TRUE(ce.ok());
    return *ce;
  }
  nlohmann::json v_;
};

TEST_F(KeyRotationsTest, FollowsAStatementFromATrustedKey) {
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(v_["old_verifier_key"].get<std::string>()).ok());
  auto new_key = chain::ParseNoteVerifierKey(v_["new_verifier_key"].get<std::string>());
  ASSERT_TRUE(new_key.ok());
  EXPECT_FALSE(keys.Trusts(*new_key));
  EXPECT_EQ(FollowKeyRotation(Ce("indelible.key", v_["note"]), &keys), "");
  EXPECT_TRUE(keys.Trusts(*new_key));
}

TEST_F(KeyRotationsTest, AStatementFromAnUntrustedKeyIsNotFollowed) {
  TrustedKeys keys;  // trusts a third key: neither the old nor the new
  const chain::NoteSigner third("indelible", *chain::Ed25519PrivateKey::Generate());
  ASSERT_TRUE(keys.AddVerifierKey(chain::NoteVerifierKeyString(third.verifier_key())).ok());
  const std::string why = FollowKeyRotation(Ce("indelible.key", v_["note"]), &keys);
  EXPECT_NE(why.find("a key not trusted here"), std::string::npos) << why;
  auto old_key = chain::ParseNoteVerifierKey(v_["old_verifier_key"].get<std::string>());
  auto new_key = chain::ParseNoteVerifierKey(v_["new_verifier_key"].get<std::string>());
  EXPECT_FALSE(keys.Trusts(*old_key));
  EXPECT_FALSE(keys.Trusts(*new_key));
}

// An auditor given the newer key reads a tenant's copy of the key history
// (statements from keys before it) without a finding, and trusts no more.
TEST_F(KeyRotationsTest, AStatementToATrustedKeyIsNoFinding) {
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(v_["new_verifier_key"].get<std::string>()).ok());
  std::string followed;
  EXPECT_EQ(FollowKeyRotation(Ce("indelible.key", v_["note"]), &keys, &followed), "");
  EXPECT_EQ(followed, "");
  auto old_key = chain::ParseNoteVerifierKey(v_["old_verifier_key"].get<std::string>());
  EXPECT_FALSE(keys.Trusts(*old_key));
  // Edited, it is still a problem.
  std::string note = v_["note"];
  note.replace(note.find("time 1"), 6, "time 2");
  EXPECT_NE(FollowKeyRotation(Ce("indelible.key", note), &keys), "");
}

TEST_F(KeyRotationsTest, ABrokenStatementIsAProblem) {
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(v_["old_verifier_key"].get<std::string>()).ok());
  std::string note = v_["note"];
  note.replace(note.find("time 1"), 6, "time 2");
  EXPECT_NE(FollowKeyRotation(Ce("indelible.key", note), &keys), "");
  EXPECT_NE(FollowKeyRotation(Ce("indelible.key", ""), &keys), "");
  auto new_key = chain::ParseNoteVerifierKey(v_["new_verifier_key"].get<std::string>());
  EXPECT_FALSE(keys.Trusts(*new_key));
}

TEST_F(KeyRotationsTest, OtherCategoriesAreIgnored) {
  TrustedKeys keys;
  ASSERT_TRUE(keys.AddVerifierKey(v_["old_verifier_key"].get<std::string>()).ok());
  // A client cannot announce a key: only indelible.key records count (and
  // the daemon refuses reserved categories from clients).
  EXPECT_EQ(FollowKeyRotation(Ce("access", v_["note"]), &keys), "");
  auto new_key = chain::ParseNoteVerifierKey(v_["new_verifier_key"].get<std::string>());
  EXPECT_FALSE(keys.Trusts(*new_key));
}

}  // namespace
}  // namespace indelible::check
