// Pins the format to shared/vectors/format-v1.json (copied into tests/data):
// every intermediate value of the three-record chain and the signed
// checkpoint must be reproduced byte for byte.
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::chain {
namespace {

nlohmann::json LoadVectors() {
  std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/format-v1.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

std::string Unhex(const std::string& hex) {
  std::string out;
  EXPECT_TRUE(FromHex(hex, &out)) << hex;
  return out;
}

EventFields EventFromJson(const nlohmann::json& j) {
  EventFields e;
  e.tenant = j.at("tenant");
  e.event_id = j.at("event_id");
  e.occurred_at_ns = j.at("occurred_at_ns");
  e.actor_id = j.at("actor_id");
  e.actor_type = j.at("actor_type");
  e.actor_ip = j.at("actor_ip");
  e.action = j.at("action");
  e.resource_type = j.at("resource_type");
  e.resource_id = j.at("resource_id");
  e.reason = j.at("reason");
  e.outcome = j.at("outcome");
  e.source = j.at("source");
  e.category = j.at("category");
  // Insert in reverse key order so the encoder's sorting is exercised.
  for (auto it = j.at("metadata").rbegin(); it != j.at("metadata").rend();
       ++it) {
    e.metadata.emplace_back(it.key(), it.value().get<std::string>());
  }
  return e;
}

TEST(GoldenVectors, ThreeRecordChain) {
  nlohmann::json v = LoadVectors();
  ASSERT_EQ(v.at("format"), "indelible/v1");
  const std::string tenant = v.at("tenant");
  Digest prev = Genesis(tenant);
  EXPECT_EQ(ToHex(prev), v.at("genesis"));
  ASSERT_EQ(v.at("records").size(), 3u);
  for (const auto& r : v.at("records")) {
    SCOPED_TRACE(r.at("seq").dump());
    EventFields e = EventFromJson(r.at("event"));
    auto ce = EncodeCanonicalEvent(e);
    ASSERT_TRUE(ce.ok()) << ce.status();
    EXPECT_EQ(ToHex(*ce), r.at("canonical_event_hex"));

    auto decoded = DecodeCanonicalEvent(*ce);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->event_id, e.event_id);
    EXPECT_EQ(decoded->reason, e.reason);
    EXPECT_EQ(decoded->metadata.size(), e.metadata.size());

    Salt salt;
    ASSERT_TRUE(SaltFromBytes(Unhex(r.at("salt_hex")), &salt));
    Digest body = BodyDigest(salt, *ce);
    EXPECT_EQ(ToHex(body), r.at("body_digest_hex"));

    Digest entry = EntryHash(tenant, r.at("seq"), r.at("received_at_ns"),
                             prev, body);
    EXPECT_EQ(ToHex(entry), r.at("entry_hash_hex"));
    prev = entry;
  }
}

TEST(GoldenVectors, SignedCheckpoint) {
  nlohmann::json v = LoadVectors();
  const auto& c = v.at("checkpoint");
  auto key = Ed25519PrivateKey::FromSeed(Unhex(c.at("private_key_seed_hex").get<std::string>()));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->PrivateKeyPem(), c.at("private_key_pem"));
  EXPECT_EQ(key->PublicKeyPem(), c.at("public_key_pem"));
  EXPECT_EQ(ToHex(key->PublicKey()), c.at("public_key_raw_hex"));

  auto from_pem = Ed25519PrivateKey::FromPem(c.at("private_key_pem").get<std::string>());
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  EXPECT_EQ(from_pem->PublicKey(), key->PublicKey());
  auto pub = PublicKeyFromPem(c.at("public_key_pem").get<std::string>());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, key->PublicKey());

  NoteSigner signer(c.at("key_name"), *key);
  char id_hex[9];
  snprintf(id_hex, sizeof(id_hex), "%08x", signer.verifier_key().key_id);
  EXPECT_EQ(id_hex, c.at("key_id_hex").get<std::string>());
  EXPECT_EQ(NoteVerifierKeyString(signer.verifier_key()), c.at("verifier_key"));

  // The checkpoint is the head of the three-record chain above.
  const auto& last = v.at("records").back();
  Checkpoint cp;
  cp.tenant = v.at("tenant");
  cp.seq = last.at("seq");
  std::string head = Unhex(last.at("entry_hash_hex"));
  ASSERT_TRUE(DigestFromBytes(head, &cp.head));
  cp.timestamp_ns = 1700000001000000000ull;
  std::string note = signer.Sign(CheckpointText(cp));
  EXPECT_EQ(note, c.at("note"));

  auto vk = ParseNoteVerifierKey(c.at("verifier_key").get<std::string>());
  ASSERT_TRUE(vk.ok()) << vk.status();
  auto parsed = VerifyCheckpoint(c.at("note").get<std::string>(), {*vk});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, cp);
}

}  // namespace
}  // namespace indelible::chain
