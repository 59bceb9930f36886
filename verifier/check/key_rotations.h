// Following key rotations recorded in a tenant's chain (docs/FORMAT.md
// section 14, docs/VERIFY.md "Keys and checkpoints"): a record of category
// indelible.key carries a statement by which the old key hands over to a
// new one. The new key is trusted from that record on, in that tenant,
// only if the statement verifies and its old key is trusted there already;
// the store's key history (meta rows) is never a source of trust.
//
// Thread-safe: a pure function.
#ifndef INDELIBLE_VERIFIER_CHECK_KEY_ROTATIONS_H_
#define INDELIBLE_VERIFIER_CHECK_KEY_ROTATIONS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

#include "verifier/check/trusted_keys.h"

namespace indelible::check {

inline constexpr std::string_view kKeyRotationCategory = "indelible.key";

// If `ce` is a record of category indelible.key: follows its statement
// (adds the new key to *keys; sets *followed, if given, to the statement)
// and returns "", or returns why it cannot be followed (a kKeyRotation
// finding). A valid statement to a key already trusted returns "" whatever
// its old key. Returns "" for any other record, including a CE that cannot be
// decoded (the record checks report that).
std::string FollowKeyRotation(std::string_view ce, TrustedKeys* keys,
                              std::string* followed = nullptr);

// Statements an auditor supplies (--rotation): for keys the chains do not
// vouch for, such as a tenant created or purged after a rotation. Each is
// followed when its old key is trusted, in whatever order they are given.
// InvalidArgument naming the statement (1-based) if one does not verify or
// its old key never becomes trusted.
absl::Status FollowSuppliedRotations(const std::vector<std::string>& statements,
                                     TrustedKeys* keys);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_KEY_ROTATIONS_H_
