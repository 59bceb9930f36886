// A log for witness tests: a Merkle tree over made-up leaves (chain
// library), and checkpoints of any of its sizes signed with the format-v2
// test log key (tests/data/format-v2.json) or any other key.
#ifndef INDELIBLE_TESTS_WITNESS_TEST_LOG_H_
#define INDELIBLE_TESTS_WITNESS_TEST_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::witness::testing {

// The format-v2.json vectors' parts used here.
struct Vectors {
  std::string log_key_name;     // "indelible-test"
  std::string log_seed;         // raw 32 bytes
  std::string log_verifier_key;
  std::string origin;           // "indelible.test/acme"
  std::string note;             // the signed v2 checkpoint of size 13
  std::string witness_name;     // "witness.test/w1"
  std::string witness_seed;
  std::string witness_verifier_key;
  uint64_t cosignature_time = 0;
  std::string cosigned_note;
};
const Vectors& FormatV2();

// The format-v2 test log's signer.
chain::NoteSigner TestLogSigner();

class TestLog {
 public:
  // `salt` picks the leaves: two logs with different salts fork at leaf 0.
  TestLog(std::string log_name, std::string tenant, std::string salt);

  // Grows the tree to at least n leaves.
  void Grow(uint64_t n);
  // Replaces the leaves from index `from` on with leaves of another salt
  // (a rewritten tail); the tree keeps its size.
  void RewriteFrom(uint64_t from, const std::string& salt);

  uint64_t size() const { return leaves_.size(); }
  chain::Digest Root(uint64_t n) const;
  std::vector<chain::Digest> Consistency(uint64_t old_size, uint64_t new_size) const;
  std::string Origin() const { return log_name_ + "/" + tenant_; }

  // The v2 checkpoint text of size n (REQUIRES n <= size()), and the note
  // signed by `signer`.
  std::string Body(uint64_t n) const;
  std::string Note(uint64_t n, const chain::NoteSigner& signer) const;
  // An add-checkpoint request body: old size, proof old->n, signed note.
  std::string Request(uint64_t old_size, uint64_t n, const chain::NoteSigner& signer) const;

 private:
  const std::string log_name_, tenant_, salt_;
  std::vector<chain::Digest> leaves_;
};

}  // namespace indelible::witness::testing

#endif  // INDELIBLE_TESTS_WITNESS_TEST_LOG_H_
