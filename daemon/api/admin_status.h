// The INVALID_ARGUMENT answers the Admin service's handlers share.
#ifndef INDELIBLE_DAEMON_API_ADMIN_STATUS_H_
#define INDELIBLE_DAEMON_API_ADMIN_STATUS_H_

#include <string>

#include "daemon/api/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "verifier/chain/tenant_id.h"

namespace indelible::admin_status {

inline grpc::Status Invalid(const std::string& msg) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, msg);
}

// OK, or the one tenant-id error (chain::CheckTenantId) as a gRPC status.
inline grpc::Status CheckTenant(const std::string& t) {
  return ToGrpcStatus(chain::CheckTenantId(t));
}

}  // namespace indelible::admin_status

#endif  // INDELIBLE_DAEMON_API_ADMIN_STATUS_H_
