// The signing key of the golden vectors (tests/data/format-v1.json), so that
// the seed corpora's notes verify and the targets can sign what they parse.
#ifndef INDELIBLE_TESTS_FUZZ_FUZZ_KEY_H_
#define INDELIBLE_TESTS_FUZZ_FUZZ_KEY_H_

#include <string>

#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::fuzz {

inline const chain::NoteSigner& TestSigner() {
  static const chain::NoteSigner* signer = [] {
    std::string seed;
    for (int i = 0; i < 32; ++i) seed.push_back(static_cast<char>(i));
    return new chain::NoteSigner("indelible-test",
                                 *chain::Ed25519PrivateKey::FromSeed(seed));
  }();
  return *signer;
}

}  // namespace indelible::fuzz

#endif  // INDELIBLE_TESTS_FUZZ_FUZZ_KEY_H_
