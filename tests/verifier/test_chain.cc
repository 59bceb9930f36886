#include "tests/verifier/test_chain.h"

#include <algorithm>
#include <cstdlib>

#include "verifier/chain/canonical_event.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/retention_policy.h"
#include "verifier/chain/signing.h"

namespace indelible::testing {

std::string TestEvent(const std::string& tenant, uint64_t i) {
  chain::EventFields e;
  e.tenant = tenant;
  e.event_id = "evt-" + std::to_string(i);
  e.occurred_at_ns = 1'700'000'000'000'000'000ULL + i;
  e.actor_id = "alice@" + tenant + ".example";
  e.actor_type = "user";
  e.actor_ip = "203.0.113.7";
  e.action = "customer.read";
  e.resource_type = "customer";
  e.resource_id = "cus_" + std::to_string(i);
  e.reason = "support ticket T-" + std::to_string(1000 + i);
  e.outcome = "allowed";
  e.source = "crm-api";
  e.category = "access";
  e.metadata = {{"region", "eu"}, {"approval", "A-9"}};
  auto ce = chain::EncodeCanonicalEvent(e);
  if (!ce.ok()) std::abort();
  return *ce;
}

std::vector<TestRecord> MakeChain(const std::string& tenant, uint64_t n) {
  std::vector<TestRecord> out;
  for (uint64_t i = 1; i <= n; ++i) {
    TestRecord r;
    r.seq = i;
    r.skeleton.received_at_ns = 1'700'000'000'000'000'000ULL + i * 1'000'000;
    chain::Salt salt;
    for (size_t b = 0; b < salt.size(); ++b) {
      salt[b] = static_cast<uint8_t>(i * 31 + b);
    }
    r.body = store::EncodeBody(r.skeleton.received_at_ns, salt, TestEvent(tenant, i));
    out.push_back(std::move(r));
  }
  Rehash(tenant, &out, 0);
  return out;
}

void MakePolicyFirst(const std::string& tenant, std::vector<TestRecord>* chain,
                     uint64_t seconds) {
  chain::RetentionPolicy p;
  p.tenant = tenant;
  p.default_seconds = p.min_seconds = seconds;
  p.max_seconds = 3650 * 86400;
  chain::EventFields e;
  e.tenant = tenant;
  e.event_id = "policy";
  e.action = std::string(chain::kPolicyAction);
  e.category = std::string(chain::kPolicyCategory);
  e.metadata = {{std::string(chain::kPolicyMetadataKey), chain::FormatRetentionPolicy(p)}};
  TestRecord& first = (*chain)[0];
  std::string_view salt, ce;
  if (!store::DecodeBody(first.body, &salt, &ce)) std::abort();
  chain::Salt s16;
  std::copy(salt.begin(), salt.end(), s16.begin());
  first.has_body = true;
  first.body = store::EncodeBody(first.skeleton.received_at_ns, s16,
                                 *chain::EncodeCanonicalEvent(e));
  Rehash(tenant, chain, 0);
}

void Rehash(const std::string& tenant, std::vector<TestRecord>* chain,
            size_t from) {
  chain::Digest prev = from == 0 ? chain::Genesis(tenant)
                                 : (*chain)[from - 1].skeleton.entry_hash;
  for (size_t i = from; i < chain->size(); ++i) {
    TestRecord& r = (*chain)[i];
    if (r.has_body) {
      std::string_view salt, ce;
      if (!store::DecodeBody(r.body, &salt, &ce)) std::abort();
      r.skeleton.body_digest = chain::BodyDigest(salt, ce);
    }
    r.skeleton.entry_hash =
        chain::EntryHash(tenant, r.seq, r.skeleton.received_at_ns, prev,
                         r.skeleton.body_digest);
    prev = r.skeleton.entry_hash;
  }
}

store::Head HeadOf(const std::vector<TestRecord>& chain) {
  const TestRecord& last = chain.back();
  return store::Head{last.seq, last.skeleton.received_at_ns,
                     last.skeleton.entry_hash};
}

namespace {

chain::NoteSigner SignerFromSeedByte(const std::string& name, uint8_t first) {
  std::string seed(32, '\0');
  for (size_t i = 0; i < seed.size(); ++i) {
    seed[i] = static_cast<char>(first + i);
  }
  auto key = chain::Ed25519PrivateKey::FromSeed(seed);
  if (!key.ok()) std::abort();
  return chain::NoteSigner(name, *std::move(key));
}

}  // namespace

chain::NoteSigner TestSigner() { return SignerFromSeedByte("indelible-test", 0); }
chain::NoteSigner OtherSigner() {
  return SignerFromSeedByte("indelible-test", 0x40);
}

std::string SignedCheckpoint(const chain::NoteSigner& signer,
                             const std::string& tenant, uint64_t seq,
                             const chain::Digest& head, uint64_t timestamp_ns) {
  return signer.Sign(
      chain::CheckpointText(chain::Checkpoint{tenant, seq, head, timestamp_ns}));
}

}  // namespace indelible::testing
