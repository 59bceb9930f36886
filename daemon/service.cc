#include "daemon/service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/append_stream.h"
#include "daemon/grpc_status.h"
#include "spdlog/spdlog.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"

namespace indelible {
namespace {

grpc::Status InvalidTenant(const std::string& tenant) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      tenant.empty()
                          ? "tenant: required"
                          : "tenant: must match [a-z0-9][a-z0-9._-]{0,62}");
}

// Streams a tenant's records in chunks, each read from a fresh snapshot so no
// RocksDB iterator lives across callbacks.
class RecordsWriter final : public grpc::ServerWriteReactor<v1::Record> {
 public:
  static constexpr size_t kChunk = 256;

  RecordsWriter(Storage* storage, std::string tenant, uint64_t from,
                uint64_t limit)
      : storage_(storage), tenant_(std::move(tenant)), next_(from),
        remaining_(limit) {
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (pos_ == chunk_.size()) {
      if (remaining_ == 0 || chunk_done_) return Finish(grpc::Status::OK);
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, remaining_));
      auto records = storage_->ReadRecords(tenant_, next_, want);
      if (!records.ok()) return Finish(ToGrpcStatus(records.status()));
      chunk_ = std::move(*records);
      pos_ = 0;
      chunk_done_ = chunk_.size() < want;
      if (chunk_.empty()) return Finish(grpc::Status::OK);
    }
    const StoredRecord& r = chunk_[pos_++];
    next_ = r.seq + 1;
    --remaining_;
    out_.Clear();
    out_.set_tenant(r.tenant);
    out_.set_seq(r.seq);
    out_.set_received_at_ns(r.skeleton.received_at_ns);
    out_.set_body_digest(std::string(chain::AsBytes(r.skeleton.body_digest)));
    out_.set_entry_hash(std::string(chain::AsBytes(r.skeleton.entry_hash)));
    out_.set_pruned(r.pruned);
    if (!r.pruned) {
      out_.set_salt(r.salt);
      out_.set_canonical_event(r.ce);
      auto fields = chain::DecodeCanonicalEvent(r.ce);
      if (!fields.ok()) return Finish(ToGrpcStatus(fields.status()));
      FieldsToProto(*fields, out_.mutable_event());
    }
    StartWrite(&out_);
  }

  Storage* const storage_;
  const std::string tenant_;
  uint64_t next_;
  uint64_t remaining_;
  std::vector<StoredRecord> chunk_;
  size_t pos_ = 0;
  bool chunk_done_ = false;
  v1::Record out_;
};

}  // namespace

void ToProto(const Receipt& r, v1::Receipt* out) {
  out->set_tenant(r.tenant);
  out->set_seq(r.seq);
  out->set_received_at_ns(r.received_at_ns);
  out->set_entry_hash(std::string(chain::AsBytes(r.entry_hash)));
  out->set_duplicate(r.duplicate);
}

AuditLogService::AuditLogService(Sequencer* sequencer, Storage* storage,
                                 Clock* clock, const chain::NoteSigner* signer,
                                 ServiceOptions options)
    : sequencer_(sequencer), storage_(storage), clock_(clock), signer_(signer),
      options_(std::move(options)) {}

grpc::ServerUnaryReactor* AuditLogService::Append(
    grpc::CallbackServerContext* ctx, const v1::AppendRequest* request,
    v1::AppendResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  std::vector<PreparedEvent> events(1);
  if (auto s = PrepareEvent(request->event(), options_.limits,
                            clock_->NowNanos(), options_.salt_source, "event",
                            &events[0], options_.ingest_rules);
      !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  sequencer_->Submit(std::move(events),
                     [reactor, response](absl::StatusOr<std::vector<Receipt>> r) {
                       if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
                       ToProto(r->front(), response->mutable_receipt());
                       reactor->Finish(grpc::Status::OK);
                     });
  return reactor;
}

absl::Status AuditLogService::PrepareBatch(const v1::AppendBatchRequest& request,
                                           std::vector<PreparedEvent>* out) {
  if (request.events().empty()) {
    return absl::InvalidArgumentError("events: at least one event required");
  }
  if (static_cast<size_t>(request.events_size()) > options_.limits.max_batch_events) {
    return absl::InvalidArgumentError(
        absl::StrCat("events: too many events (", request.events_size(),
                     ", max ", options_.limits.max_batch_events, ")"));
  }
  const uint64_t now = clock_->NowNanos();
  out->resize(request.events_size());
  for (int i = 0; i < request.events_size(); ++i) {
    if (auto s = PrepareEvent(request.events(i), options_.limits, now,
                              options_.salt_source,
                              absl::StrCat("events[", i, "]"), &(*out)[i],
                              options_.ingest_rules);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AuditLogService::AppendBatch(
    grpc::CallbackServerContext* ctx, const v1::AppendBatchRequest* request,
    v1::AppendBatchResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  std::vector<PreparedEvent> events;
  if (auto s = PrepareBatch(*request, &events); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  sequencer_->Submit(std::move(events),
                     [reactor, response](absl::StatusOr<std::vector<Receipt>> r) {
                       if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
                       for (const Receipt& rc : *r) ToProto(rc, response->add_receipts());
                       reactor->Finish(grpc::Status::OK);
                     });
  return reactor;
}

grpc::ServerBidiReactor<v1::AppendBatchRequest, v1::AppendBatchResponse>*
AuditLogService::AppendStream(grpc::CallbackServerContext* ctx) {
  return new AppendStreamReactor(this, options_.max_stream_in_flight);
}

grpc::ServerUnaryReactor* AuditLogService::GetHead(
    grpc::CallbackServerContext* ctx, const v1::GetHeadRequest* request,
    v1::GetHeadResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  if (!chain::IsValidTenantId(request->tenant())) {
    reactor->Finish(InvalidTenant(request->tenant()));
    return reactor;
  }
  if (sequencer_->PurgeCertificate(request->tenant())) {
    reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "tenant " + request->tenant() + " was purged"));
    return reactor;
  }
  if (auto reason = sequencer_->Quarantined(request->tenant())) {
    reactor->Finish(ToGrpcStatus(
        Sequencer::QuarantineError(request->tenant(), *reason)));
    return reactor;
  }
  store::Head h = sequencer_->GetHead(request->tenant());
  response->set_tenant(request->tenant());
  response->set_seq(h.seq);
  response->set_head_hash(std::string(chain::AsBytes(h.entry_hash)));
  response->set_received_at_ns(h.received_at_ns);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::Record>* AuditLogService::ReadRecords(
    grpc::CallbackServerContext* ctx, const v1::ReadRecordsRequest* request) {
  class Rejected final : public grpc::ServerWriteReactor<v1::Record> {
   public:
    explicit Rejected(grpc::Status s) { Finish(std::move(s)); }
    void OnDone() override { delete this; }
  };
  if (!chain::IsValidTenantId(request->tenant())) {
    return new Rejected(InvalidTenant(request->tenant()));
  }
  if (auto reason = sequencer_->Quarantined(request->tenant())) {
    return new Rejected(ToGrpcStatus(
        Sequencer::QuarantineError(request->tenant(), *reason)));
  }
  uint64_t limit = request->limit() == 0
                       ? options_.max_read_records
                       : std::min(request->limit(), options_.max_read_records);
  return new RecordsWriter(storage_, request->tenant(),
                           std::max<uint64_t>(request->from_seq(), 1), limit);
}

grpc::ServerUnaryReactor* AuditLogService::GetCheckpoint(
    grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest* request,
    v1::Checkpoint* response) {
  auto* reactor = ctx->DefaultReactor();
  if (!chain::IsValidTenantId(request->tenant())) {
    reactor->Finish(InvalidTenant(request->tenant()));
    return reactor;
  }
  auto note = storage_->GetCheckpoint(request->tenant(), request->min_seq());
  if (!note.ok()) {
    reactor->Finish(ToGrpcStatus(note.status()));
    return reactor;
  }
  // Parse what we stored, so a damaged row is reported rather than served.
  auto cp = chain::VerifyCheckpoint(*note, {signer_->verifier_key()});
  if (!cp.ok()) {
    // It may be signed by an older key of the history: serve it unparsed.
    spdlog::warn("event=checkpoint_unverified tenant={} status=\"{}\"",
                 request->tenant(), cp.status().ToString());
    response->set_note(*note);
    response->set_tenant(request->tenant());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  response->set_note(*note);
  response->set_tenant(cp->tenant);
  response->set_seq(cp->seq);
  response->set_head_hash(std::string(chain::AsBytes(cp->head)));
  response->set_timestamp_ns(cp->timestamp_ns);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AuditLogService::GetPublicKey(
    grpc::CallbackServerContext* ctx, const v1::GetPublicKeyRequest* request,
    v1::GetPublicKeyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  const auto& vk = signer_->verifier_key();
  response->set_key_name(vk.name);
  response->set_key_id_hex(absl::StrFormat("%08x", vk.key_id));
  response->set_verifier_key(chain::NoteVerifierKeyString(vk));
  response->set_public_key_pem(signer_->private_key().PublicKeyPem());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace indelible
