#include "verifier/report/report_rotations.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/note.h"

namespace indelible::report {

absl::StatusOr<std::vector<std::string>> FollowRotations(
    const std::vector<std::string>& statements, const std::vector<std::string>& trusted) {
  std::vector<std::string> known = trusted, led_to;
  auto s = chain::FollowKeyRotations(
      statements,
      [&](const chain::NoteVerifierKey& k) {
        return std::find(known.begin(), known.end(), k.public_key) != known.end();
      },
      [&](const chain::NoteVerifierKey& k) {
        known.push_back(k.public_key);
        led_to.push_back(k.public_key);
      });
  if (!s.ok()) return s;
  return led_to;
}

}  // namespace indelible::report
