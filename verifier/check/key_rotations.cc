#include "verifier/check/key_rotations.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/text.h"

namespace indelible::check {

std::string FollowKeyRotation(std::string_view ce, TrustedKeys* keys,
                              std::string* followed) {
  auto category = chain::CanonicalEventCategory(ce);
  if (!category.ok() || *category != kKeyRotationCategory) return "";
  auto event = chain::DecodeCanonicalEvent(ce);
  if (!event.ok()) return "";
  const std::string* statement = nullptr;
  for (const auto& [k, v] : event->metadata) {
    if (k == "statement") statement = &v;
  }
  if (statement == nullptr) {
    return "an indelible.key record without a statement: no key rotation followed";
  }
  auto r = chain::VerifyKeyRotation(*statement);
  if (!r.ok()) {
    return absl::StrCat("key rotation statement: ", r.status().message(),
                        ": its new key is not trusted");
  }
  const std::string new_key = chain::NoteVerifierKeyString(r->new_key);
  // A statement to a key trusted already adds nothing to follow, whoever
  // signed it: an auditor who starts from the newer key reads a tenant's
  // copy of the key history (docs/FORMAT.md section 14) without a finding.
  if (!keys->Trusts(r->old_key) && keys->Trusts(r->new_key)) return "";
  if (!keys->Trusts(r->old_key)) {
    return absl::StrCat("key rotation to ", new_key, " is signed by ",
                        chain::NoteVerifierKeyString(r->old_key),
                        ", a key not trusted here: its new key is not trusted");
  }
  if (!keys->Trusts(r->new_key)) keys->AddKey(r->new_key);
  if (followed != nullptr) *followed = *statement;
  return "";
}

absl::Status FollowSuppliedRotations(const std::vector<std::string>& statements,
                                     TrustedKeys* keys) {
  std::vector<chain::KeyRotation> pending;
  for (size_t i = 0; i < statements.size(); ++i) {
    auto r = chain::VerifyKeyRotation(statements[i]);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rotation statement ", i + 1, ": ", r.status().message()));
    }
    pending.push_back(*std::move(r));
  }
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (!keys->Trusts(it->old_key)) {
        ++it;
        continue;
      }
      if (!keys->Trusts(it->new_key)) keys->AddKey(it->new_key);
      it = pending.erase(it);
      progress = true;
    }
  }
  if (!pending.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rotation statement to ", chain::NoteVerifierKeyString(pending.front().new_key),
        " is signed by ", chain::NoteVerifierKeyString(pending.front().old_key),
        ", which no trusted key leads to"));
  }
  return absl::OkStatus();
}

}  // namespace indelible::check
