// The one error for a bad tenant id, for every place that checks one.
#ifndef INDELIBLE_VERIFIER_CHAIN_TENANT_ID_H_
#define INDELIBLE_VERIFIER_CHAIN_TENANT_ID_H_

#include <string_view>

#include "absl/status/status.h"

namespace indelible::chain {

// What IsValidTenantId (hash.h) accepts.
inline constexpr char kTenantIdPattern[] = "[a-z0-9][a-z0-9._-]{0,62}";

// OK iff IsValidTenantId(tenant); else InvalidArgument "<field>: required"
// (empty) or "<field>: must match [a-z0-9][a-z0-9._-]{0,62}".
absl::Status CheckTenantId(std::string_view tenant, std::string_view field = "tenant");

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_TENANT_ID_H_
