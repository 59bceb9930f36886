// Pins format v2 to shared/vectors/format-v2.json (copied unchanged into
// tests/data): leaf data and hashes, every root, every inclusion and
// consistency proof (generated and verified), the signed v2 checkpoint and
// the witness cosignature, byte for byte.
#include <fstream>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::chain {
namespace {

const nlohmann::json& Vectors() {
  static const nlohmann::json* v = [] {
    std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/format-v2.json");
    EXPECT_TRUE(in.good());
    return new nlohmann::json(nlohmann::json::parse(in));
  }();
  return *v;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  EXPECT_TRUE(FromHex(hex, &out)) << hex;
  return out;
}

Digest DigestOf(const nlohmann::json& hex) {
  Digest d{};
  EXPECT_TRUE(DigestFromBytes(Unhex(hex.get<std::string>()), &d)) << hex;
  return d;
}

std::vector<Digest> Proof(const nlohmann::json& hexes) {
  std::vector<Digest> out;
  for (const auto& h : hexes) out.push_back(DigestOf(h));
  return out;
}

std::vector<Digest> LeafHashes() {
  std::vector<Digest> out;
  for (const auto& r : Vectors().at("records")) {
    out.push_back(DigestOf(r.at("leaf_hash_hex")));
  }
  return out;
}

NodeHashReader VectorNodes() {
  return NodesFromLeaves(
      [leaves = LeafHashes()](uint64_t i) -> absl::StatusOr<Digest> {
        if (i >= leaves.size()) return absl::OutOfRangeError("no such leaf");
        return leaves[i];
      });
}

Digest RootOf(uint64_t size) {
  if (size == 0) return DigestOf(Vectors().at("empty_tree_root_hex"));
  return DigestOf(Vectors().at("roots_hex").at(std::to_string(size)));
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
  for (auto it = j.at("metadata").begin(); it != j.at("metadata").end(); ++it) {
    e.metadata.emplace_back(it.key(), it.value().get<std::string>());
  }
  return e;
}

TEST(FormatV2Vectors, ChainAndLeaves) {
  const auto& v = Vectors();
  const std::string tenant = v.at("tenant");
  Digest prev = Genesis(tenant);
  EXPECT_EQ(ToHex(prev), v.at("genesis_hex"));
  ASSERT_EQ(v.at("records").size(), 13u);
  uint64_t seq = 0;
  for (const auto& r : v.at("records")) {
    SCOPED_TRACE(r.at("seq").dump());
    ASSERT_EQ(r.at("seq").get<uint64_t>(), ++seq);
    EventFields e = EventFromJson(r.at("event"));
    auto ce = EncodeCanonicalEvent(e);
    ASSERT_TRUE(ce.ok()) << ce.status();
    EXPECT_EQ(ToHex(*ce), r.at("canonical_event_hex"));
    Digest body = BodyDigest(Unhex(r.at("salt_hex")), *ce);
    EXPECT_EQ(ToHex(body), r.at("body_digest_hex"));
    Digest entry = EntryHash(tenant, seq, r.at("received_at_ns"), prev, body);
    EXPECT_EQ(ToHex(entry), r.at("entry_hash_hex"));
    prev = entry;

    const std::string data = LeafData(entry, e.category);
    EXPECT_EQ(ToHex(data), r.at("leaf_data_hex"));
    EXPECT_EQ(ToHex(HashLeafData(data)), r.at("leaf_hash_hex"));
    EXPECT_EQ(ToHex(LeafHash(entry, e.category)), r.at("leaf_hash_hex"));
  }
}

TEST(FormatV2Vectors, Roots) {
  const auto& v = Vectors();
  EXPECT_EQ(ToHex(EmptyRoot()), v.at("empty_tree_root_hex"));
  EXPECT_EQ(ToHex(CompactRange().Root()), v.at("empty_tree_root_hex"));
  const std::vector<Digest> leaves = LeafHashes();
  ASSERT_EQ(v.at("roots_hex").size(), leaves.size());
  CompactRange range;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    SCOPED_TRACE(n);
    const std::string want = v.at("roots_hex").at(std::to_string(n));
    EXPECT_EQ(ToHex(MerkleRoot(leaves.data(), n)), want);
    range.Append(leaves[n - 1]);
    EXPECT_EQ(ToHex(range.Root()), want);
    auto rebuilt = CompactRange::FromNodes(n, VectorNodes());
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_EQ(*rebuilt, range);
  }
}

TEST(FormatV2Vectors, InclusionProofs) {
  const auto& v = Vectors();
  ASSERT_FALSE(v.at("inclusion_proofs").empty());
  for (const auto& p : v.at("inclusion_proofs")) {
    SCOPED_TRACE(p.dump());
    const uint64_t index = p.at("leaf_index");
    const uint64_t size = p.at("tree_size");
    ASSERT_EQ(index + 1, p.at("seq").get<uint64_t>());
    const std::vector<Digest> want = Proof(p.at("proof_hex"));
    auto got = InclusionProof(index, size, VectorNodes());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
    const Digest leaf = DigestOf(v.at("records").at(index).at("leaf_hash_hex"));
    EXPECT_TRUE(VerifyInclusion(index, size, leaf, want, RootOf(size)).ok());
  }
}

TEST(FormatV2Vectors, ConsistencyProofs) {
  const auto& v = Vectors();
  ASSERT_FALSE(v.at("consistency_proofs").empty());
  for (const auto& p : v.at("consistency_proofs")) {
    SCOPED_TRACE(p.dump());
    const uint64_t old_size = p.at("old_size");
    const uint64_t new_size = p.at("new_size");
    const std::vector<Digest> want = Proof(p.at("proof_hex"));
    auto got = ConsistencyProof(old_size, new_size, VectorNodes());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
    EXPECT_TRUE(VerifyConsistency(old_size, new_size, want, RootOf(old_size),
                                  RootOf(new_size))
                    .ok());
  }
}

Ed25519PrivateKey KeyFromSeed(const nlohmann::json& hex) {
  auto key = Ed25519PrivateKey::FromSeed(Unhex(hex.get<std::string>()));
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

CheckpointV2 VectorCheckpoint() {
  const auto& v = Vectors();
  CheckpointV2 c;
  c.log_name = v.at("log_name");
  c.tenant = v.at("tenant");
  c.size = v.at("records").size();
  c.root = RootOf(c.size);
  c.chain_head = DigestOf(v.at("records").back().at("entry_hash_hex"));
  c.timestamp_ns = v.at("checkpoint").at("timestamp_ns");
  return c;
}

TEST(FormatV2Vectors, SignedCheckpoint) {
  const auto& v = Vectors();
  const auto& cp = v.at("checkpoint");
  const CheckpointV2 c = VectorCheckpoint();
  EXPECT_EQ(c.origin(), v.at("origin"));
  const std::string text = CheckpointV2Text(c);
  EXPECT_EQ(text, cp.at("body"));

  NoteSigner signer(cp.at("key_name"),
                    KeyFromSeed(cp.at("private_key_seed_hex")));
  EXPECT_EQ(absl::StrFormat("%08x", signer.verifier_key().key_id),
            cp.at("key_id_hex").get<std::string>());
  EXPECT_EQ(NoteVerifierKeyString(signer.verifier_key()),
            cp.at("verifier_key"));
  EXPECT_EQ(signer.Sign(text), cp.at("note"));

  auto vk = ParseNoteVerifierKey(cp.at("verifier_key").get<std::string>());
  ASSERT_TRUE(vk.ok()) << vk.status();
  auto parsed = VerifyCheckpointV2(cp.at("note").get<std::string>(), {*vk});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, c);
  // The same key and the v1 parser: a v2 note is not a v1 checkpoint.
  EXPECT_FALSE(VerifyCheckpoint(cp.at("note").get<std::string>(), {*vk}).ok());
}

TEST(FormatV2Vectors, Cosignature) {
  const auto& v = Vectors();
  const auto& cs = v.at("cosignature");
  const std::string body = v.at("checkpoint").at("body");
  const std::string note = v.at("checkpoint").at("note");
  const uint64_t ts = cs.at("timestamp");

  Cosigner witness(cs.at("witness_name"),
                   KeyFromSeed(cs.at("private_key_seed_hex")));
  EXPECT_EQ(ToHex(witness.key().public_key), cs.at("public_key_raw_hex"));
  EXPECT_EQ(absl::StrFormat("%08x", witness.key().key_id),
            cs.at("key_id_hex").get<std::string>());
  EXPECT_EQ(CosignerKeyString(witness.key()), cs.at("verifier_key"));
  EXPECT_EQ(CosignedMessage(body, ts), cs.at("signed_message"));
  EXPECT_EQ(note + witness.SignatureLine(body, ts), cs.at("cosigned_note"));

  auto wk = ParseCosignerKey(cs.at("verifier_key").get<std::string>());
  ASSERT_TRUE(wk.ok()) << wk.status();
  EXPECT_EQ(*wk, witness.key());
  const std::string cosigned = cs.at("cosigned_note");
  auto found = VerifyCosignatures(cosigned, {{*wk}, 1});
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].name, cs.at("witness_name"));
  EXPECT_EQ((*found)[0].timestamp, ts);

  // The log's signature still verifies with the cosignature line present.
  auto log_key = ParseNoteVerifierKey(
      v.at("checkpoint").at("verifier_key").get<std::string>());
  ASSERT_TRUE(log_key.ok());
  auto parsed = VerifyCheckpointV2(cosigned, {*log_key});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, VectorCheckpoint());
  // A witness key is no log key, and the other way round.
  EXPECT_FALSE(
      ParseNoteVerifierKey(cs.at("verifier_key").get<std::string>()).ok());
  EXPECT_FALSE(
      ParseCosignerKey(v.at("checkpoint").at("verifier_key").get<std::string>())
          .ok());
}

}  // namespace
}  // namespace indelible::chain
