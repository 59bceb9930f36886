// The one place where gRPC statuses become absl statuses (STYLE.md: convert
// at the edge, once). gRPC and absl share the canonical code numbering, so the
// code and message pass through unchanged.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_CLIENT_STATUS_CONVERT_H_
#define INDELIBLE_CLIENT_STATUS_CONVERT_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace indelible::client {

// Same code, same message. An OK grpc::Status becomes absl::OkStatus().
absl::Status FromGrpcStatus(const grpc::Status& status);

// The inverse, for fakes and servers written against this library.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_STATUS_CONVERT_H_
