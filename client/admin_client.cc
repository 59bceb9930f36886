#include "client/admin_client.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/channel.h"
#include "client/status_convert.h"

namespace indelible::client {
namespace {

void SetContext(const AdminContext& from, v1::AdminContext* to) {
  to->set_actor(from.actor);
  to->set_reason(from.reason);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminClient>> AdminClient::Connect(
    const AdminClientOptions& options) {
  auto channel =
      OpenChannel("admin client", options.target, options.deadline, options.credentials);
  if (!channel.ok()) return channel.status();
  auto client = std::make_unique<AdminClient>(*std::move(channel), options.deadline);
  client->set_bearer_token(options.bearer_token);
  return client;
}

AdminClient::AdminClient(std::shared_ptr<grpc::Channel> channel,
                         std::chrono::milliseconds deadline)
    : channel_(std::move(channel)),
      stub_(v1::Admin::NewStub(channel_)),
      deadline_(deadline) {}

void AdminClient::PrepareContext(grpc::ClientContext* context) const {
  PrepareCallContext(context, deadline_, bearer_token_);
}

absl::StatusOr<v1::SetRetentionResponse> AdminClient::SetRetention(
    const AdminContext& context, std::string_view tenant,
    std::string_view category, std::string_view retention) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::SetRetentionRequest request;
  SetContext(context, request.mutable_context());
  request.set_tenant(std::string(tenant));
  request.set_category(std::string(category));
  request.set_retention(std::string(retention));
  v1::SetRetentionResponse response;
  grpc::Status status = stub_->SetRetention(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::GetRetentionResponse> AdminClient::GetRetention(
    std::string_view tenant, const std::vector<std::string>& categories) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::GetRetentionRequest request;
  request.set_tenant(std::string(tenant));
  for (const std::string& c : categories) request.add_categories(c);
  v1::GetRetentionResponse response;
  grpc::Status status = stub_->GetRetention(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::SetLegalHoldResponse> AdminClient::SetLegalHold(
    const AdminContext& context, std::string_view tenant, bool hold) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::SetLegalHoldRequest request;
  SetContext(context, request.mutable_context());
  request.set_tenant(std::string(tenant));
  request.set_hold(hold);
  v1::SetLegalHoldResponse response;
  grpc::Status status = stub_->SetLegalHold(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::ApproveResponse> AdminClient::Approve(const AdminContext& context,
                                                         std::string_view request_id) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::ApproveRequest request;
  SetContext(context, request.mutable_context());
  request.set_request_id(std::string(request_id));
  v1::ApproveResponse response;
  grpc::Status status = stub_->Approve(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::ListPendingApprovalsResponse> AdminClient::ListPendingApprovals(
    std::string_view tenant) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::ListPendingApprovalsRequest request;
  request.set_tenant(std::string(tenant));
  v1::ListPendingApprovalsResponse response;
  grpc::Status status = stub_->ListPendingApprovals(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::PurgeTenantResponse> AdminClient::PurgeTenant(
    const AdminContext& context, std::string_view tenant) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::PurgeTenantRequest request;
  SetContext(context, request.mutable_context());
  request.set_tenant(std::string(tenant));
  v1::PurgeTenantResponse response;
  grpc::Status status = stub_->PurgeTenant(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::CompactResponse> AdminClient::Compact() {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::CompactRequest request;
  v1::CompactResponse response;
  grpc::Status status = stub_->Compact(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::BackupResponse> AdminClient::Backup(std::string_view label,
                                                     std::string_view reason) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx);
  v1::BackupRequest request;
  request.set_label(std::string(label));
  if (!reason.empty()) request.set_reason(std::string(reason));
  v1::BackupResponse response;
  grpc::Status status = stub_->Backup(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace indelible::client
