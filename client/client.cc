#include "client/client.h"

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/client_context.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/channel.h"
#include "client/status_convert.h"

namespace indelible::client {
namespace {

// `status` with `path` before its message.
absl::Status At(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

}  // namespace

size_t EventRequestBytes(const v1::Event& event) {
  const size_t n = event.ByteSizeLong();
  // Field 1 of AppendRequest and AppendBatchRequest: a one-byte tag, the
  // length as a varint, then the event.
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(n) + n;
}

absl::Status CheckEventFits(const v1::Event& event, size_t bytes) {
  if (bytes <= kMaxRequestBytes) return absl::OkStatus();
  // The id is shown shortened, whole UTF-8 characters only.
  constexpr size_t kMaxShown = 64;
  std::string id = event.event_id();
  if (id.size() > kMaxShown) {
    size_t cut = kMaxShown;
    while (cut > 0 && (static_cast<unsigned char>(id[cut]) & 0xc0) == 0x80) --cut;
    id = absl::StrCat(id.substr(0, cut), "...");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "event \"", id, "\" is ", bytes, " bytes encoded; a request may carry at most ",
      kMaxRequestBytes, " bytes (16 MiB), so it cannot be sent"));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  auto channel =
      OpenChannel("client", options.target, options.deadline, options.credentials);
  if (!channel.ok()) return channel.status();
  auto client = std::make_unique<Client>(*std::move(channel), options.deadline);
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
  PrepareCallContext(context, deadline_, bearer_token_);
}

absl::StatusOr<v1::Receipt> Client::Append(const v1::Event& event) {
  if (absl::Status s = CheckEventFits(event, EventRequestBytes(event)); !s.ok()) {
    return At("event", s);
  }
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
  size_t total = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const size_t bytes = EventRequestBytes(events[i]);
    if (absl::Status s = CheckEventFits(events[i], bytes); !s.ok()) {
      return At(absl::StrCat("events[", i, "]"), s);
    }
    total += bytes;
  }
  if (total > kMaxRequestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "events: the batch is ", total, " bytes encoded; a request may carry at most ",
        kMaxRequestBytes, " bytes (16 MiB): split it into smaller batches"));
  }
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

absl::StatusOr<v1::Checkpoint> Client::GetCheckpointV2(std::string_view tenant,
                                                       uint64_t min_size) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetCheckpointRequest request;
  request.set_tenant(std::string(tenant));
  request.set_min_seq(min_size);
  request.set_version(2);
  if (!read_reason_.empty()) request.set_reason(read_reason_);
  v1::Checkpoint response;
  grpc::Status status = stub_->GetCheckpoint(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::GetInclusionProofResponse> Client::GetInclusionProof(
    std::string_view tenant, uint64_t seq, uint64_t tree_size,
    bool with_checkpoint) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetInclusionProofRequest request;
  request.set_tenant(std::string(tenant));
  request.set_seq(seq);
  request.set_tree_size(tree_size);
  request.set_with_checkpoint(with_checkpoint);
  v1::GetInclusionProofResponse response;
  grpc::Status status = stub_->GetInclusionProof(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::GetConsistencyProofResponse> Client::GetConsistencyProof(
    std::string_view tenant, uint64_t old_size, uint64_t new_size,
    bool with_checkpoint) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetConsistencyProofRequest request;
  request.set_tenant(std::string(tenant));
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  request.set_with_checkpoint(with_checkpoint);
  v1::GetConsistencyProofResponse response;
  grpc::Status status =
      stub_->GetConsistencyProof(&context, request, &response);
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
