// Key strings (verifier/chain/note.h, signing.h, verifier/report/
// report_check.h, verifier/check/trusted_keys.h): C2SP verifier-key strings,
// public and private key PEM (what a key file holds), as given on command
// lines and in key files. Parsing any text is safe, and what parses prints
// to a form that parses to the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/report/report_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string in(reinterpret_cast<const char*>(data), size);

  auto vk = chain::ParseNoteVerifierKey(in);
  if (vk.ok()) {
    FUZZ_CHECK(vk->public_key.size() == chain::kEd25519PublicKeySize);
    FUZZ_CHECK(vk->key_id == chain::NoteKeyId(vk->name, vk->public_key));
    // The name is one a signature line can carry (note.h).
    for (char c : vk->name) {
      FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '+');
    }
    const std::string printed = chain::NoteVerifierKeyString(*vk);
    auto again = chain::ParseNoteVerifierKey(printed);
    FUZZ_CHECK(again.ok() && again->name == vk->name &&
               again->public_key == vk->public_key &&
               again->key_id == vk->key_id);
    FUZZ_CHECK(chain::NoteVerifierKeyString(*again) == printed);
  }

  auto pub = chain::PublicKeyFromPem(in);
  if (pub.ok()) {
    FUZZ_CHECK(pub->size() == chain::kEd25519PublicKeySize);
    auto pem = chain::PublicKeyToPem(*pub);
    FUZZ_CHECK(pem.ok());
    auto again = chain::PublicKeyFromPem(*pem);
    FUZZ_CHECK(again.ok() && *again == *pub);
  }

  auto priv = chain::Ed25519PrivateKey::FromPem(in);
  if (priv.ok()) {
    auto again = chain::Ed25519PrivateKey::FromPem(priv->PrivateKeyPem());
    FUZZ_CHECK(again.ok() && again->PublicKey() == priv->PublicKey());
    auto pub_of_priv = chain::PublicKeyFromPem(priv->PublicKeyPem());
    FUZZ_CHECK(pub_of_priv.ok() && *pub_of_priv == priv->PublicKey());
  }

  // The command-line forms: either of the public ones, and nothing else.
  auto any = report::ParsePublicKey(in);
  if (any.ok()) {
    FUZZ_CHECK(*any == (vk.ok() ? vk->public_key : *pub));
  }
  check::TrustedKeys trusted;
  FUZZ_CHECK(trusted.AddVerifierKey(in).ok() == vk.ok());
  FUZZ_CHECK(trusted.AddPublicKeyPem(in).ok() == pub.ok());
  return 0;
}
