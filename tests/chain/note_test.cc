#include "verifier/chain/note.h"

#include "gtest/gtest.h"
#include "verifier/chain/checkpoint.h"

namespace indelible::chain {
namespace {

Checkpoint SampleCheckpoint() {
  Checkpoint c;
  c.tenant = "acme";
  c.seq = 7;
  c.head = Sha256("head");
  c.timestamp_ns = 1234;
  return c;
}

TEST(Note, SignVerifyRoundTrip) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  NoteSigner signer("test-key", *key);
  std::string note = signer.Sign(CheckpointText(SampleCheckpoint()));
  auto got = VerifyCheckpoint(note, {signer.verifier_key()});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, SampleCheckpoint());
  auto vk = ParseNoteVerifierKey(NoteVerifierKeyString(signer.verifier_key()));
  ASSERT_TRUE(vk.ok()) << vk.status();
  EXPECT_EQ(vk->public_key, key->PublicKey());
}

TEST(Note, TamperedTextFails) {
  auto key = Ed25519PrivateKey::Generate();
  NoteSigner signer("test-key", *key);
  std::string note = signer.Sign(CheckpointText(SampleCheckpoint()));
  std::string tampered = note;
  tampered.replace(tampered.find("\n7\n"), 3, "\n8\n");
  auto got = VerifyCheckpoint(tampered, {signer.verifier_key()});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
}

TEST(Note, OtherKeyFails) {
  NoteSigner a("k", *Ed25519PrivateKey::Generate());
  NoteSigner b("k", *Ed25519PrivateKey::Generate());
  std::string note = a.Sign(CheckpointText(SampleCheckpoint()));
  auto got = VerifyCheckpoint(note, {b.verifier_key()});
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("no signature by a known key"),
            std::string::npos);
}

TEST(Note, MalformedCheckpointText) {
  EXPECT_FALSE(ParseCheckpointText("indelible/v1/acme\n07\nAAAA\n1\n").ok());
  EXPECT_FALSE(ParseCheckpointText("other/acme\n7\n").ok());
  EXPECT_FALSE(ParseCheckpointText("").ok());
  EXPECT_FALSE(ParseNoteVerifierKey("nokey").ok());
}

// A name no signature line can carry was accepted, giving a trusted key that
// could never verify anything (tests/fuzz/keys_fuzz now asserts it is not).
TEST(Note, VerifierKeyNameWithSpaceIsRefused) {
  auto key = Ed25519PrivateKey::FromSeed(std::string(32, '\x05'));
  ASSERT_TRUE(key.ok());
  for (const char* name : {"two words", "new\nline", "tab\tbed", "\x7f"}) {
    const std::string s =
        NoteVerifierKeyString(MakeNoteVerifierKey(name, key->PublicKey()));
    EXPECT_EQ(ParseNoteVerifierKey(s).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_TRUE(ParseNoteVerifierKey(NoteVerifierKeyString(
                  MakeNoteVerifierKey("ok-name", key->PublicKey())))
                  .ok());
}

}  // namespace
}  // namespace indelible::chain
