#include "verifier/report/report_rotations.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/note.h"

namespace indelible::report {

absl::StatusOr<std::vector<std::string>> FollowRotations(
    const std::vector<std::string>& statements, const std::vector<std::string>& trusted) {
  std::vector<chain::KeyRotation> pending;
  for (size_t i = 0; i < statements.size(); ++i) {
    auto r = chain::VerifyKeyRotation(statements[i]);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rotation statement ", i + 1, ": ", r.status().message()));
    }
    pending.push_back(*std::move(r));
  }
  std::vector<std::string> known = trusted, led_to;
  auto knows = [&](const std::string& k) {
    return std::find(known.begin(), known.end(), k) != known.end();
  };
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (!knows(it->old_key.public_key)) {
        ++it;
        continue;
      }
      if (!knows(it->new_key.public_key)) {
        known.push_back(it->new_key.public_key);
        led_to.push_back(it->new_key.public_key);
      }
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
  return led_to;
}

}  // namespace indelible::report
