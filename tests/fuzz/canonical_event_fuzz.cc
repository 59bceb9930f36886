// Canonical event bytes (verifier/chain/canonical_event.h): decoding any
// bytes is safe, and whatever decodes re-encodes to exactly the same bytes
// (CE is stored verbatim and hashed, so it must have one encoding only).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "verifier/chain/canonical_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible::chain;
  const std::string_view ce(reinterpret_cast<const char*>(data), size);
  auto category = CanonicalEventCategory(ce);
  auto event = DecodeCanonicalEvent(ce);
  if (!event.ok()) return 0;
  // A decodable CE has a category, the same one.
  FUZZ_CHECK(category.ok() && *category == event->category);
  auto encoded = EncodeCanonicalEvent(*event);
  FUZZ_CHECK(encoded.ok());
  FUZZ_CHECK(*encoded == ce);
  auto again = DecodeCanonicalEvent(*encoded);
  FUZZ_CHECK(again.ok() && *again == *event);
  return 0;
}
