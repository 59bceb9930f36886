#include "tests/witness/test_log.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "witness/witness.h"

namespace indelible::witness::testing {
namespace {

std::string Unhex(const std::string& hex) {
  std::string out;
  EXPECT_TRUE(chain::FromHex(hex, &out)) << hex;
  return out;
}

}  // namespace

const Vectors& FormatV2() {
  static const Vectors* v = [] {
    std::ifstream in(std::string(INDELIBLE_TEST_DATA_DIR) + "/format-v2.json");
    EXPECT_TRUE(in.good());
    const nlohmann::json j = nlohmann::json::parse(in);
    auto* out = new Vectors;
    const auto& cp = j.at("checkpoint");
    out->log_key_name = cp.at("key_name").get<std::string>();
    out->log_seed = Unhex(cp.at("private_key_seed_hex").get<std::string>());
    out->log_verifier_key = cp.at("verifier_key").get<std::string>();
    out->origin = j.at("origin").get<std::string>();
    out->note = cp.at("note").get<std::string>();
    const auto& co = j.at("cosignature");
    out->witness_name = co.at("witness_name").get<std::string>();
    out->witness_seed = Unhex(co.at("private_key_seed_hex").get<std::string>());
    out->witness_verifier_key = co.at("verifier_key").get<std::string>();
    out->cosignature_time = co.at("timestamp").get<uint64_t>();
    out->cosigned_note = co.at("cosigned_note").get<std::string>();
    return out;
  }();
  return *v;
}

chain::NoteSigner TestLogSigner() {
  return chain::NoteSigner(FormatV2().log_key_name,
                           *chain::Ed25519PrivateKey::FromSeed(FormatV2().log_seed));
}

TestLog::TestLog(std::string log_name, std::string tenant, std::string salt)
    : log_name_(std::move(log_name)), tenant_(std::move(tenant)), salt_(std::move(salt)) {}

void TestLog::Grow(uint64_t n) {
  while (leaves_.size() < n) {
    leaves_.push_back(chain::LeafHash(
        chain::Sha256(salt_, std::to_string(leaves_.size())), "access"));
  }
}

void TestLog::RewriteFrom(uint64_t from, const std::string& salt) {
  for (uint64_t i = from; i < leaves_.size(); ++i) {
    leaves_[i] = chain::LeafHash(chain::Sha256(salt, std::to_string(i)), "access");
  }
}

chain::Digest TestLog::Root(uint64_t n) const { return chain::MerkleRoot(leaves_.data(), n); }

std::vector<chain::Digest> TestLog::Consistency(uint64_t old_size, uint64_t new_size) const {
  auto nodes = chain::NodesFromLeaves([this](uint64_t i) -> absl::StatusOr<chain::Digest> {
    return leaves_.at(i);
  });
  auto proof = chain::ConsistencyProof(old_size, new_size, nodes);
  EXPECT_TRUE(proof.ok()) << proof.status();
  return proof.ok() ? *proof : std::vector<chain::Digest>{};
}

std::string TestLog::Body(uint64_t n) const {
  chain::CheckpointV2 c;
  c.log_name = log_name_;
  c.tenant = tenant_;
  c.size = n;
  c.root = Root(n);
  c.chain_head = chain::Sha256(salt_, absl::StrCat("head", n));
  c.timestamp_ns = 1700000000000000000ull + n;
  return chain::CheckpointV2Text(c);
}

std::string TestLog::Note(uint64_t n, const chain::NoteSigner& signer) const {
  return signer.Sign(Body(n));
}

std::string TestLog::Request(uint64_t old_size, uint64_t n,
                             const chain::NoteSigner& signer) const {
  AddCheckpointRequest r;
  r.old_size = old_size;
  if (old_size > 0 && old_size <= n) r.proof = Consistency(old_size, n);
  r.checkpoint = Note(n, signer);
  return AddCheckpointRequestText(r);
}

}  // namespace indelible::witness::testing
