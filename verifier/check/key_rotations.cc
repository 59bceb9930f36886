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
  return chain::FollowKeyRotations(
      statements, [keys](const chain::NoteVerifierKey& k) { return keys->Trusts(k); },
      [keys](const chain::NoteVerifierKey& k) { keys->AddKey(k); });
}

}  // namespace indelible::check
