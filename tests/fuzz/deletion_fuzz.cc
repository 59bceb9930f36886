// Deletion certificates (verifier/chain/deletion.h): parsing any text or
// note is safe; parse -> print gives back the text; a certificate is never a
// checkpoint nor the other way round; a parsed text, signed, verifies.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_key.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/deletion.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<chain::NoteVerifierKey> keys = {
      fuzz::TestSigner().verifier_key()};

  auto verified = chain::VerifyDeletionCertificate(in, keys);
  if (verified.ok()) FUZZ_CHECK(!chain::VerifyCheckpoint(in, keys).ok());

  auto c = chain::ParseDeletionCertificateText(in);
  if (!c.ok()) return 0;
  FUZZ_CHECK(!chain::ParseCheckpointText(in).ok());
  FUZZ_CHECK(chain::DeletionCertificateText(*c) == in);
  auto v = chain::VerifyDeletionCertificate(fuzz::TestSigner().Sign(in), keys);
  FUZZ_CHECK(v.ok() && *v == *c);
  return 0;
}
