#include "client/channel.h"

#include <grpcpp/create_channel.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::client {

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    std::string_view who, const std::string& target, std::chrono::milliseconds deadline,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (target.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(chain::ToAbsl(who), ": target is empty"));
  }
  if (deadline.count() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(chain::ToAbsl(who), ": deadline must be positive"));
  }
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(target, credentials);
  if (channel == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(chain::ToAbsl(who), ": cannot create a channel to ", target));
  }
  return channel;
}

void PrepareCallContext(grpc::ClientContext* context, std::chrono::milliseconds deadline,
                        const std::string& bearer_token) {
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  if (!bearer_token.empty()) {
    context->AddMetadata("authorization", "Bearer " + bearer_token);
  }
}

}  // namespace indelible::client
