// Key rotations for verify-report: which log keys a report's checkpoints
// may be signed by, given the keys an auditor trusts and the rotation
// statements (docs/FORMAT.md, "Key rotation statements") they were given.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_REPORT_REPORT_ROTATIONS_H_
#define INDELIBLE_VERIFIER_REPORT_REPORT_ROTATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace indelible::report {

// The new keys (raw) of the rotation `statements` (docs/FORMAT.md, "Key
// rotation statements"), followed in any order from the raw `trusted` keys:
// a statement counts once its old key is trusted or led to. InvalidArgument
// naming the statement if one does not verify, or if one is not led to.
absl::StatusOr<std::vector<std::string>> FollowRotations(
    const std::vector<std::string>& statements, const std::vector<std::string>& trusted);

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_REPORT_ROTATIONS_H_
