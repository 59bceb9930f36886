#include "client/status_convert.h"

#include <string>

#include "verifier/chain/text.h"

namespace indelible::client {

// Both enums follow google.rpc.Code; pin the ends of the range we rely on.
static_assert(static_cast<int>(grpc::StatusCode::OK) ==
              static_cast<int>(absl::StatusCode::kOk));
static_assert(static_cast<int>(grpc::StatusCode::UNAUTHENTICATED) ==
              static_cast<int>(absl::StatusCode::kUnauthenticated));

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(chain::ToStd(status.message())));
}

}  // namespace indelible::client
