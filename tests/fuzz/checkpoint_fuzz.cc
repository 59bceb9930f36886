// Checkpoints (verifier/chain/checkpoint.h) and the verifier's view of them
// (verifier/check/trusted_keys.h): parsing any text or note is safe; the
// text grammar has one spelling per checkpoint (parse -> print gives back
// the text); a parsed text, signed, verifies to the same checkpoint under a
// named and an unnamed (PEM) trusted key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_key.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/check/trusted_keys.h"

namespace {

using namespace indelible;

const check::TrustedKeys& Named() {
  static const check::TrustedKeys* keys = [] {
    auto* k = new check::TrustedKeys;
    FUZZ_CHECK(k->AddVerifierKey(chain::NoteVerifierKeyString(
                    fuzz::TestSigner().verifier_key()))
                   .ok());
    return k;
  }();
  return *keys;
}

const check::TrustedKeys& Unnamed() {
  static const check::TrustedKeys* keys = [] {
    auto* k = new check::TrustedKeys;
    FUZZ_CHECK(
        k->AddPublicKeyPem(fuzz::TestSigner().private_key().PublicKeyPem()).ok());
    return k;
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // The input as a whole note.
  auto named = Named().VerifyCheckpoint(in);
  auto unnamed = Unnamed().VerifyCheckpoint(in);
  auto unsigned_cp = check::ParseCheckpointNote(in);
  if (named.ok()) FUZZ_CHECK(unsigned_cp.ok() && *unsigned_cp == *named);
  if (unnamed.ok()) FUZZ_CHECK(unsigned_cp.ok() && *unsigned_cp == *unnamed);

  // The input as checkpoint text.
  auto c = chain::ParseCheckpointText(in);
  if (!c.ok()) return 0;
  FUZZ_CHECK(chain::CheckpointText(*c) == in);
  const std::string note = fuzz::TestSigner().Sign(in);
  auto v = chain::VerifyCheckpoint(note, {fuzz::TestSigner().verifier_key()});
  FUZZ_CHECK(v.ok() && *v == *c);
  auto n = Named().VerifyCheckpoint(note);
  FUZZ_CHECK(n.ok() && *n == *c);
  auto u = Unnamed().VerifyCheckpoint(note);
  FUZZ_CHECK(u.ok() && *u == *c);
  return 0;
}
