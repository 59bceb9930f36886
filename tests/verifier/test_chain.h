// Synthetic chains for the verifier's tests: records built with the chain
// library exactly as the daemon builds them, plus the damage an attacker
// could do to them.
#ifndef INDELIBLE_TESTS_VERIFIER_TEST_CHAIN_H_
#define INDELIBLE_TESTS_VERIFIER_TEST_CHAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "verifier/chain/checkpoint.h"
#include "verifier/chain/note.h"
#include "verifier/check/finding.h"
#include "verifier/check/record.h"
#include "verifier/store/layout.h"

namespace indelible::testing {

struct TestRecord {
  uint64_t seq = 0;
  store::Skeleton skeleton;
  bool has_body = true;
  std::string body;  // salt || CE

  check::RecordView view() const {
    return check::RecordView{seq, skeleton, has_body, body};
  }
};

// The CE of a plausible event of `tenant`, numbered `i`.
std::string TestEvent(const std::string& tenant, uint64_t i);

// Records 1..n of `tenant`'s chain, received 1 ms apart from
// 1'700'000'000 s on, with deterministic salts.
std::vector<TestRecord> MakeChain(const std::string& tenant, uint64_t n);

// Makes record 1 of `chain` (of `tenant`) the tenant's retention policy
// record (docs/FORMAT.md section 15): `seconds` for every category, and
// rehashes the chain.
void MakePolicyFirst(const std::string& tenant, std::vector<TestRecord>* chain,
                     uint64_t seconds);

// Recomputes body digests and entry hashes of records [from, end) of
// `chain` as if they had been written that way (what an attacker with the
// format spec does after changing something), keeping each record's seq.
void Rehash(const std::string& tenant, std::vector<TestRecord>* chain,
            size_t from);

// The head row of the chain's last record.
store::Head HeadOf(const std::vector<TestRecord>& chain);

// The golden test key of docs/FORMAT.md section 8.6, and another one.
chain::NoteSigner TestSigner();
chain::NoteSigner OtherSigner();

// A signed checkpoint note of (tenant, seq, head, timestamp_ns).
std::string SignedCheckpoint(const chain::NoteSigner& signer,
                             const std::string& tenant, uint64_t seq,
                             const chain::Digest& head, uint64_t timestamp_ns);

// Collects findings, for assertions.
class CollectingReporter final : public check::Reporter {
 public:
  void Report(const check::Finding& f) override { findings.push_back(f); }
  std::vector<check::Finding> findings;
};

}  // namespace indelible::testing

#endif  // INDELIBLE_TESTS_VERIFIER_TEST_CHAIN_H_
