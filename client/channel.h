// The one place clients set up gRPC channels and per-call contexts: Client
// and AdminClient (and anything else that talks to indelibled) use it.
#ifndef INDELIBLE_CLIENT_CHANNEL_H_
#define INDELIBLE_CLIENT_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace indelible::client {

// A channel to `target` ("host:port", "dns:///host:port", "unix:/path",
// ...) with `credentials` (null: plaintext). gRPC connects lazily: this does
// not wait for the server. InvalidArgument, naming `who` ("client", "admin
// client"), if the target is empty, `deadline` is not positive, or gRPC
// makes no channel.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    std::string_view who, const std::string& target, std::chrono::milliseconds deadline,
    std::shared_ptr<grpc::ChannelCredentials> credentials);

// Sets a call's deadline (now + `deadline`) and, if `bearer_token` is not
// empty, its "authorization: Bearer <token>" metadata.
void PrepareCallContext(grpc::ClientContext* context, std::chrono::milliseconds deadline,
                        const std::string& bearer_token);

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_CHANNEL_H_
