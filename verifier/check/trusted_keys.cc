#include "verifier/check/trusted_keys.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/text.h"

namespace indelible::check {
namespace {

constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // "— " (U+2014)

// The key names of a note's signature lines (no validation: VerifyNote does
// that).
std::vector<std::string> SignatureNames(std::string_view note) {
  std::vector<std::string> names;
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return names;
  for (std::string_view line : chain::Split(note.substr(split + 2), '\n')) {
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) continue;
    line.remove_prefix(kSigPrefix.size());
    names.emplace_back(line.substr(0, line.find(' ')));
  }
  return names;
}

}  // namespace

absl::Status TrustedKeys::AddVerifierKey(std::string_view s) {
  auto key = chain::ParseNoteVerifierKey(s);
  if (!key.ok()) return key.status();
  named_.push_back(*std::move(key));
  return absl::OkStatus();
}

absl::Status TrustedKeys::AddPublicKeyPem(std::string_view pem) {
  auto key = chain::PublicKeyFromPem(pem);
  if (!key.ok()) return key.status();
  unnamed_.push_back(*std::move(key));
  return absl::OkStatus();
}

bool TrustedKeys::Trusts(const chain::NoteVerifierKey& key) const {
  for (const auto& k : named_) {
    if (k.name == key.name && k.public_key == key.public_key) return true;
  }
  for (const auto& k : unnamed_) {
    if (k == key.public_key) return true;
  }
  return false;
}

std::vector<std::string> TrustedKeys::Describe() const {
  std::vector<std::string> out;
  for (const auto& k : named_) out.push_back(chain::NoteVerifierKeyString(k));
  for (const auto& k : unnamed_) out.push_back("pem:" + chain::ToHex(k));
  return out;
}

std::vector<chain::NoteVerifierKey> TrustedKeys::KeysFor(
    std::string_view note) const {
  std::vector<chain::NoteVerifierKey> keys = named_;
  if (unnamed_.empty()) return keys;
  for (const std::string& name : SignatureNames(note)) {
    if (name.empty()) continue;
    for (const std::string& pub : unnamed_) {
      keys.push_back(chain::MakeNoteVerifierKey(name, pub));
    }
  }
  return keys;
}

absl::StatusOr<chain::Checkpoint> TrustedKeys::VerifyCheckpoint(
    std::string_view note) const {
  if (unnamed_.empty()) return chain::VerifyCheckpoint(note, named_);
  return chain::VerifyCheckpoint(note, KeysFor(note));
}

absl::StatusOr<chain::Checkpoint> ParseCheckpointNote(std::string_view note) {
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::DataLossError("note: no blank line before signatures");
  }
  return chain::ParseCheckpointText(note.substr(0, split + 1));
}

}  // namespace indelible::check
