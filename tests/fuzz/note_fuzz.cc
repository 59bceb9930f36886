// C2SP signed notes (verifier/chain/note.h): VerifyNote on any bytes is
// safe; a note it accepts was really signed by the key; and any text the
// signer may sign comes back unchanged from VerifyNote(Sign(text)).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_key.h"
#include "verifier/chain/note.h"

namespace {

// NoteSigner::Sign's REQUIRES: non-empty, ends in '\n', no blank line.
bool Signable(std::string_view text) {
  return !text.empty() && text.back() == '\n' && text[0] != '\n' &&
         text.find("\n\n") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const chain::NoteSigner& signer = fuzz::TestSigner();
  const std::vector<chain::NoteVerifierKey> keys = {signer.verifier_key()};

  auto text = chain::VerifyNote(in, keys);
  if (text.ok()) {
    // The signed text is a prefix of the note, ending in a newline.
    FUZZ_CHECK(!text->empty() && text->back() == '\n');
    FUZZ_CHECK(in.substr(0, text->size()) == *text);
  }
  if (Signable(in)) {
    const std::string note = signer.Sign(in);
    auto back = chain::VerifyNote(note, keys);
    FUZZ_CHECK(back.ok() && *back == in);
    // Any other key finds no signature of its own.
    FUZZ_CHECK(!chain::VerifyNote(note, {}).ok());
  }
  return 0;
}
