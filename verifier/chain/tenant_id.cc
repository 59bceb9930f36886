#include "verifier/chain/tenant_id.h"

#include <string>

#include "verifier/chain/hash.h"

namespace indelible::chain {

absl::Status CheckTenantId(std::string_view tenant, std::string_view field) {
  if (IsValidTenantId(tenant)) return absl::OkStatus();
  std::string msg(field);
  if (tenant.empty()) {
    msg += ": required";
  } else {
    msg += ": must match ";
    msg += kTenantIdPattern;
  }
  return absl::InvalidArgumentError(msg);
}

}  // namespace indelible::chain
