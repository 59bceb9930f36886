#include "verifier/chain/note.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
uint32_t SignedNoteKeyId(std::string_view key_name, uint8_t sig_type,
                         std::string_view public_key) {
  std::string buf(key_name);
  buf.push_back('\n');
  buf.push_back(static_cast<char>(sig_type));
  buf.append(public_key);
  Digest d = Sha256(buf);
  return DecodeU32(reinterpret_cast<const char*>(d.data()));
}

std::string VerifierKeyString(std::string_view key_name, uint32_t key_id,
                              uint8_t sig_type, std::string_view public_key) {
  std::string alg_key(1, static_cast<char>(sig_type));
  alg_key.append(public_key);
  return absl::StrCat(ToAbsl(key_name), "+", absl::StrFormat("%08x", key_id), "+",
                      Base64Encode(alg_key));
}

absl::Status ParseVerifierKeyString(std::string_view s, uint8_t sig_type,
                                    std::string* name,
                                    std::string* public_key) {
  std::vector<std::string_view> parts = Split(s, '+');
  // The base64 part may itself contain '+': rejoin everything after the id.
  if (parts.size() < 3 || parts[0].empty() || parts[1].size() != 8) {
    return absl::InvalidArgumentError("verifier key: want name+id+key");
  }
  // A signature line splits at the first space, so a name with a space or
  // newline could never match one: refuse it rather than trust a key that
  // silently verifies nothing.
  for (char c : parts[0]) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          "verifier key: name has a space or control character");
    }
  }
  std::string b64(s.substr(parts[0].size() + parts[1].size() + 2));
  std::string id_bytes, alg_key;
  if (!FromHex(parts[1], &id_bytes)) {
    return absl::InvalidArgumentError("verifier key: key id is not hex");
  }
  if (!Base64Decode(b64, &alg_key) ||
      alg_key.size() != 1 + kEd25519PublicKeySize ||
      static_cast<uint8_t>(alg_key[0]) != sig_type) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "verifier key: key is not base64(0x%02x || 32-byte Ed25519 key)",
        sig_type));
  }
  if (SignedNoteKeyId(parts[0], sig_type, alg_key.substr(1)) !=
      DecodeU32(id_bytes.data())) {
    return absl::InvalidArgumentError("verifier key: key id does not match");
  }
  *name = std::string(parts[0]);
  *public_key = alg_key.substr(1);
  return absl::OkStatus();
}

uint32_t NoteKeyId(std::string_view key_name, std::string_view public_key) {
  return SignedNoteKeyId(key_name, kNoteSigEd25519, public_key);
}

NoteVerifierKey MakeNoteVerifierKey(std::string key_name,
                                    std::string public_key) {
  NoteVerifierKey k;
  k.key_id = NoteKeyId(key_name, public_key);
  k.name = std::move(key_name);
  k.public_key = std::move(public_key);
  return k;
}

std::string NoteVerifierKeyString(const NoteVerifierKey& key) {
  return VerifierKeyString(key.name, key.key_id, kNoteSigEd25519,
                           key.public_key);
}

absl::StatusOr<NoteVerifierKey> ParseNoteVerifierKey(std::string_view s) {
  std::string name, public_key;
  if (absl::Status st =
          ParseVerifierKeyString(s, kNoteSigEd25519, &name, &public_key);
      !st.ok()) {
    return st;
  }
  return MakeNoteVerifierKey(std::move(name), std::move(public_key));
}

NoteSigner::NoteSigner(std::string key_name, Ed25519PrivateKey key)
    : key_(std::move(key)),
      verifier_key_(MakeNoteVerifierKey(std::move(key_name), key_.PublicKey())) {}

std::string NoteSigner::Sign(std::string_view text) const {
  std::string id_sig;
  PutU32(&id_sig, verifier_key_.key_id);
  id_sig.append(key_.Sign(text));
  return absl::StrCat(ToAbsl(text), "\n", ToAbsl(kNoteSignaturePrefix),
                      verifier_key_.name, " ", Base64Encode(id_sig), "\n");
}

absl::StatusOr<SplitNoteResult> SplitNote(std::string_view note) {
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::DataLossError("note: no blank line before signatures");
  }
  SplitNoteResult out;
  out.text = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::DataLossError("note: signature block must end in newline");
  }
  sigs.remove_suffix(1);
  for (std::string_view line : Split(sigs, '\n')) {
    if (line.substr(0, kNoteSignaturePrefix.size()) != kNoteSignaturePrefix) {
      return absl::DataLossError("note: malformed signature line");
    }
    line.remove_prefix(kNoteSignaturePrefix.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return absl::DataLossError("note: malformed signature line");
    }
    NoteSignature sig;
    sig.name = line.substr(0, space);
    std::string id_sig;
    if (!Base64Decode(line.substr(space + 1), &id_sig) || id_sig.size() < 4) {
      return absl::DataLossError("note: signature is not base64");
    }
    sig.key_id = DecodeU32(id_sig.data());
    sig.signature = id_sig.substr(4);
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

absl::StatusOr<std::string> VerifyNote(
    std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  auto split = SplitNote(note);
  if (!split.ok()) return split.status();
  bool verified = false;
  for (const NoteSignature& sig : split->signatures) {
    for (const NoteVerifierKey& k : keys) {
      if (k.name != sig.name || k.key_id != sig.key_id) continue;
      if (auto s = VerifyEd25519(k.public_key, split->text, sig.signature);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat(
            "note: signature by ", ToAbsl(sig.name), " does not verify"));
      }
      verified = true;
    }
  }
  if (!verified) {
    return absl::DataLossError("note: no signature by a known key");
  }
  return std::string(split->text);
}

}  // namespace indelible::chain
