#include "client/client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/status_convert.h"

namespace indelible::client {

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("client: target is empty");
  }
  if (options.deadline.count() <= 0) {
    return absl::InvalidArgumentError("client: deadline must be positive");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds =
      options.credentials != nullptr ? options.credentials
                                     : grpc::InsecureChannelCredentials();
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(options.target, creds);
  if (channel == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("client: cannot create a channel to ", options.target));
  }
  auto client = std::make_unique<Client>(std::move(channel), options.deadline);
  client->set_bearer_token(options.bearer_token);
  client->set_read_reason(options.read_reason);
  return client;
}

Client::Client(std::shared_ptr<grpc::Channel> channel,
               std::chrono::milliseconds deadline)
    : channel_(std::move(channel)),
      stub_(v1::AuditLog::NewStub(channel_)),
      deadline_(deadline) {}

void Client::PrepareContext(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + deadline_);
  if (!bearer_token_.empty()) {
    context->AddMetadata("authorization", "Bearer " + bearer_token_);
  }
}

absl::StatusOr<v1::Receipt> Client::Append(const v1::Event& event) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::AppendRequest request;
  *request.mutable_event() = event;
  v1::AppendResponse response;
  grpc::Status status = stub_->Append(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return std::move(*response.mutable_receipt());
}

absl::StatusOr<std::vector<v1::Receipt>> Client::AppendBatch(
    const std::vector<v1::Event>& events) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::AppendBatchRequest request;
  request.mutable_events()->Reserve(static_cast<int>(events.size()));
  for (const v1::Event& e : events) *request.add_events() = e;
  v1::AppendBatchResponse response;
  grpc::Status status = stub_->AppendBatch(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (static_cast<size_t>(response.receipts_size()) != events.size()) {
    return absl::InternalError(
        absl::StrCat("AppendBatch: sent ", events.size(), " events, got ",
                     response.receipts_size(), " receipts"));
  }
  std::vector<v1::Receipt> receipts;
  receipts.reserve(events.size());
  for (v1::Receipt& r : *response.mutable_receipts()) {
    receipts.push_back(std::move(r));
  }
  return receipts;
}

absl::StatusOr<v1::GetHeadResponse> Client::GetHead(std::string_view tenant) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetHeadRequest request;
  request.set_tenant(std::string(tenant));
  v1::GetHeadResponse response;
  grpc::Status status = stub_->GetHead(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::Status Client::ReadRecords(
    std::string_view tenant, uint64_t from_seq, uint64_t limit,
    const std::function<bool(const v1::Record&)>& on_record) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::ReadRecordsRequest request;
  request.set_tenant(std::string(tenant));
  request.set_from_seq(from_seq);
  request.set_limit(limit);
  if (!read_reason_.empty()) request.set_reason(read_reason_);
  std::unique_ptr<grpc::ClientReader<v1::Record>> reader =
      stub_->ReadRecords(&context, request);
  v1::Record record;
  bool stopped = false;
  while (reader->Read(&record)) {
    if (!on_record(record)) {
      stopped = true;
      context.TryCancel();
      // Drain what is already buffered so Finish does not block on it.
      while (reader->Read(&record)) {
      }
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (stopped) return absl::OkStatus();
  return FromGrpcStatus(status);
}

absl::StatusOr<v1::Checkpoint> Client::GetCheckpoint(std::string_view tenant,
                                                     uint64_t min_seq) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetCheckpointRequest request;
  request.set_tenant(std::string(tenant));
  request.set_min_seq(min_seq);
  if (!read_reason_.empty()) request.set_reason(read_reason_);
  v1::Checkpoint response;
  grpc::Status status = stub_->GetCheckpoint(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::GetPublicKeyResponse> Client::GetPublicKey() {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetPublicKeyRequest request;
  v1::GetPublicKeyResponse response;
  grpc::Status status = stub_->GetPublicKey(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace indelible::client
