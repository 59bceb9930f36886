// Format v2 checkpoints and cosignatures (verifier/chain/checkpoint_v2.h,
// cosignature.h): parsing any text, note or witness key is safe; the text
// grammar has one spelling per checkpoint (parse -> print gives back the
// text); a parsed text, signed by the log and cosigned by a witness,
// verifies to the same checkpoint and counts that witness, and no other.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_key.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/cosignature.h"

namespace {

using namespace indelible;

// The witness of the golden vectors (tests/data/format-v2.json), so that
// the seed corpus's cosigned note verifies.
const chain::Cosigner& TestWitness() {
  static const chain::Cosigner* witness = [] {
    std::string seed;
    for (int i = 0x20; i < 0x40; ++i) seed.push_back(static_cast<char>(i));
    return new chain::Cosigner("witness.test/w1",
                               *chain::Ed25519PrivateKey::FromSeed(seed));
  }();
  return *witness;
}

const chain::Cosigner& OtherWitness() {
  static const chain::Cosigner* witness = [] {
    return new chain::Cosigner(
        "witness.test/w2",
        *chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x07')));
  }();
  return *witness;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const chain::NoteSigner& log = fuzz::TestSigner();
  const chain::WitnessPolicy policy{{TestWitness().key()}, 1};

  // The input as a note.
  auto v = chain::VerifyCheckpointV2(in, {log.verifier_key()});
  if (v.ok()) {
    auto split = chain::SplitNote(in);
    FUZZ_CHECK(split.ok());
    auto text = chain::ParseCheckpointV2Text(split->text);
    FUZZ_CHECK(text.ok() && *text == *v);
  }
  auto cosigs = chain::VerifyCosignatures(in, policy);
  if (cosigs.ok()) {
    FUZZ_CHECK(cosigs->size() == 1);
    FUZZ_CHECK((*cosigs)[0].timestamp <= chain::kMaxCosignatureTime);
  }

  // The input as a witness key.
  auto key = chain::ParseCosignerKey(in);
  if (key.ok()) {
    auto again = chain::ParseCosignerKey(chain::CosignerKeyString(*key));
    FUZZ_CHECK(again.ok() && *again == *key);
    FUZZ_CHECK(!chain::ParseNoteVerifierKey(in).ok());
  }

  // The input as checkpoint text.
  auto generic = chain::ParseTlogCheckpoint(in);
  auto c = chain::ParseCheckpointV2Text(in);
  if (!c.ok()) return 0;
  FUZZ_CHECK(generic.ok() && generic->size == c->size &&
             generic->root == c->root);
  FUZZ_CHECK(chain::CheckpointV2Text(*c) == in);
  const uint64_t ts = size;  // any time will do
  const std::string note = log.Sign(in) + TestWitness().SignatureLine(in, ts);
  auto back = chain::VerifyCheckpointV2(note, {log.verifier_key()});
  FUZZ_CHECK(back.ok() && *back == *c);
  auto found = chain::VerifyCosignatures(note, policy);
  FUZZ_CHECK(found.ok() && found->size() == 1 && (*found)[0].timestamp == ts);
  FUZZ_CHECK(
      !chain::VerifyCosignatures(note, {{OtherWitness().key()}, 1}).ok());
  return 0;
}
