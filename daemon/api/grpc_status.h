// The one conversion of absl::Status to grpc::Status on the daemon side.
#ifndef INDELIBLE_DAEMON_API_GRPC_STATUS_H_
#define INDELIBLE_DAEMON_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace indelible {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_GRPC_STATUS_H_
