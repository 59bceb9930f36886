// `indelible health`: the daemon's standard gRPC health status, for probes
// (docs/OPERATIONS.md, "Health").
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/status_convert.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace indelible::cli {

int RunHealth(const HealthFlags& flags, std::ostream& out, std::ostream& err) {
  auto channel = grpc::CreateChannel(
      flags.target,
      flags.credentials != nullptr ? flags.credentials : grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + flags.deadline);
  if (!flags.bearer_token.empty()) {
    ctx.AddMetadata("authorization", "Bearer " + flags.bearer_token);
  }
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(flags.service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return ReportError(err, "health", client::FromGrpcStatus(s));
  const std::string status =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  out << status << "\n";
  out.flush();
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                         : kExitNotServing;
}

}  // namespace indelible::cli
