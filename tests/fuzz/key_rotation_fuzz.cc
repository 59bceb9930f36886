// Key rotation statements (verifier/chain/key_rotation.h): any bytes are
// safe to verify; a text that parses prints back to itself; a statement that
// verifies starts with the text of what it says.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "verifier/chain/key_rotation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto text = chain::ParseKeyRotationText(in);
  if (text.ok()) {
    FUZZ_CHECK(chain::KeyRotationText(*text) == in);
    FUZZ_CHECK(text->old_key.public_key != text->new_key.public_key);
  }
  auto verified = chain::VerifyKeyRotation(in);
  if (verified.ok()) {
    const std::string t = chain::KeyRotationText(*verified);
    FUZZ_CHECK(in.substr(0, t.size()) == t);
  }
  return 0;
}
