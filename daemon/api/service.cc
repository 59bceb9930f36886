#include "daemon/api/service.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/api/append_stream.h"
#include "daemon/governance/daemon_records.h"
#include "daemon/api/grpc_status.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/text.h"
#include "verifier/chain/tenant_id.h"
#include "wire/event_mapper.h"

namespace indelible {
namespace {

// Streams a tenant's records in chunks, each read from a fresh snapshot so no
// RocksDB iterator lives across callbacks.
class RecordsWriter final : public grpc::ServerWriteReactor<v1::Record> {
 public:
  static constexpr size_t kChunk = 256;

  RecordsWriter(Storage* storage, std::string tenant, uint64_t from,
                uint64_t limit)
      : storage_(storage), tenant_(std::move(tenant)), next_(from),
        remaining_(limit) {}

  // Starts streaming, or ends the call with `status` (from recording the
  // read) if it is not OK.
  void Start(const absl::Status& status) {
    if (!status.ok()) return Finish(ToGrpcStatus(status));
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
      EventToProto(*fields, out_.mutable_event());
    } else if (r.leaf_category.has_value()) {
      out_.set_leaf_category(*r.leaf_category);
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

AuditLogService::AuditLogService(Sequencer* sequencer, Storage* storage,
                                 Clock* clock, const LogSigner* signer,
                                 ServiceOptions options)
    : sequencer_(sequencer), storage_(storage), clock_(clock), signer_(signer),
      options_(std::move(options)),
      authorizer_(options_.authorizer != nullptr ? options_.authorizer
                                                 : &open_authorizer_) {}

absl::StatusOr<Principal> AuditLogService::AuthorizeRead(
    const grpc::ServerContextBase& ctx, const std::string& tenant, RoleSet roles,
    std::string_view what, const std::string* reason) const {
  auto who = authorizer_->Authenticate(ctx);
  if (!who.ok()) return who.status();
  if (auto s = chain::CheckTenantId(tenant); !s.ok()) return s;
  if (auto s = authorizer_->Check(*who, tenant, roles, what); !s.ok()) return s;
  if (reason != nullptr && authorizer_->require_read_reason()) {
    if (reason->empty()) {
      return absl::InvalidArgumentError(
          "reason: required: say why you read (it is recorded in the tenant's chain)");
    }
    if (reason->size() > options_.limits.max_reason_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reason: too long (max ", options_.limits.max_reason_bytes, " bytes)"));
    }
  }
  return who;
}

void AuditLogService::RecordRead(const Principal& who, const std::string& tenant,
                                 std::string action, std::string resource_id,
                                 const std::string& reason,
                                 std::vector<std::pair<std::string, std::string>> metadata,
                                 std::function<void(absl::Status)> done) {
  if (!authorizer_->record_reads()) return done(absl::OkStatus());
  // A purged tenant's chain takes no record, and holds only hashes to read.
  if (sequencer_->PurgeCertificate(tenant)) return done(absl::OkStatus());
  auto made = DaemonRecordFields(tenant, "indelible-read-", who, action, kAccessCategory);
  if (!made.ok()) return done(made.status());
  chain::EventFields& e = *made;
  e.resource_type = "chain";
  e.resource_id = std::move(resource_id);
  e.reason = reason;
  e.outcome = "allowed";
  for (auto& kv : metadata) e.metadata.push_back(std::move(kv));
  std::vector<PreparedEvent> events(1);
  if (auto s = PrepareFields(std::move(e), options_.limits, clock_->NowNanos(),
                             options_.salt_source, "reason", &events[0]);
      !s.ok()) {
    return done(s);
  }
  sequencer_->Submit(std::move(events),
                     [done = std::move(done)](absl::StatusOr<std::vector<Receipt>> r) {
                       done(r.status());
                     });
}

void AuditLogService::RefuseBusy(grpc::CallbackServerContext* ctx,
                                 grpc::ServerUnaryReactor* reactor) const {
  const uint64_t ms = sequencer_->RetryAfterMs();
  ctx->AddTrailingMetadata(std::string(kRetryPushbackKey), absl::StrCat(ms));
  reactor->Finish(grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      absl::StrCat("busy: the daemon holds max_queued_events (",
                   sequencer_->max_queued_events(),
                   ") events not yet committed; nothing was stored; retry after ", ms,
                   " ms (", kRetryPushbackKey, ")")));
}

grpc::ServerUnaryReactor* AuditLogService::Append(
    grpc::CallbackServerContext* ctx, const v1::AppendRequest* request,
    v1::AppendResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto who = authorizer_->Authenticate(*ctx);
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  std::vector<PreparedEvent> events(1);
  absl::Status s = AuthorizeEvent(*who, request->event(), "event");
  if (s.ok()) {
    s = PrepareEvent(request->event(), options_.limits, clock_->NowNanos(),
                     options_.salt_source, "event", &events[0], options_.ingest_rules);
  }
  if (!s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  if (!sequencer_->TrySubmit(std::move(events),
                             [reactor, response](absl::StatusOr<std::vector<Receipt>> r) {
                               if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
                               ToProto(r->front(), response->mutable_receipt());
                               reactor->Finish(grpc::Status::OK);
                             })) {
    RefuseBusy(ctx, reactor);
  }
  return reactor;
}

absl::Status AuditLogService::AuthorizeEvent(const Principal& who,
                                             const v1::Event& event,
                                             std::string_view path) const {
  if (!chain::IsValidTenantId(event.tenant())) {
    return chain::CheckTenantId(event.tenant(), absl::StrCat(chain::ToAbsl(path), ".tenant"));
  }
  if (auto s = authorizer_->Check(who, event.tenant(), Roles(Role::kWriter), "append");
      !s.ok()) {
    return s;
  }
  if (absl::StartsWith(event.category(), kReservedCategoryPrefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        chain::ToAbsl(path), ".category: \"", event.category(), "\" is reserved: categories starting ",
        kReservedCategoryPrefix, " are the daemon's own records"));
  }
  return absl::OkStatus();
}

absl::Status AuditLogService::PrepareBatch(const Principal& who,
                                           const v1::AppendBatchRequest& request,
                                           std::string_view path,
                                           std::vector<PreparedEvent>* out) {
  const std::string events =
      path.empty() ? std::string("events") : absl::StrCat(chain::ToAbsl(path), ".events");
  if (request.events().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(events, ": at least one event required"));
  }
  if (static_cast<size_t>(request.events_size()) > options_.limits.max_batch_events) {
    return absl::InvalidArgumentError(
        absl::StrCat(events, ": too many events (", request.events_size(),
                     ", max ", options_.limits.max_batch_events, ")"));
  }
  // Each event's path ("events[3]") is written into one buffer, which
  // keeps its capacity: no allocation per event.
  std::string event_path;
  auto path_of = [&](int i) -> std::string_view {
    event_path.assign(events);
    absl::StrAppend(&event_path, "[", i, "]");
    return event_path;
  };
  for (int i = 0; i < request.events_size(); ++i) {
    if (auto s = AuthorizeEvent(who, request.events(i), path_of(i)); !s.ok()) return s;
  }
  const uint64_t now = clock_->NowNanos();
  out->resize(request.events_size());
  for (int i = 0; i < request.events_size(); ++i) {
    if (auto s = PrepareEvent(request.events(i), options_.limits, now,
                              options_.salt_source, path_of(i), &(*out)[i],
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
  auto who = authorizer_->Authenticate(*ctx);
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  std::vector<PreparedEvent> events;
  if (auto s = PrepareBatch(*who, *request, "", &events); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  if (!sequencer_->TrySubmit(std::move(events),
                             [reactor, response](absl::StatusOr<std::vector<Receipt>> r) {
                               if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
                               for (const Receipt& rc : *r) {
                                 ToProto(rc, response->add_receipts());
                               }
                               reactor->Finish(grpc::Status::OK);
                             })) {
    RefuseBusy(ctx, reactor);
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::AppendBatchRequest, v1::AppendBatchResponse>*
AuditLogService::AppendStream(grpc::CallbackServerContext* ctx) {
  auto prepare = [this](const Principal& who, const v1::AppendBatchRequest& request,
                        std::string_view path, std::vector<PreparedEvent>* out) {
    return PrepareBatch(who, request, path, out);
  };
  return new AppendStreamReactor(std::move(prepare), sequencer_,
                                 authorizer_->Authenticate(*ctx),
                                 options_.max_stream_in_flight);
}

grpc::ServerUnaryReactor* AuditLogService::GetHead(
    grpc::CallbackServerContext* ctx, const v1::GetHeadRequest* request,
    v1::GetHeadResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto who = AuthorizeRead(*ctx, request->tenant(),
                           Role::kReader | Role::kAuditor | Role::kAdmin, "read the head",
                           nullptr);
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
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
  auto who = AuthorizeRead(*ctx, request->tenant(), Role::kReader | Role::kAuditor,
                           "read records", &request->reason());
  if (!who.ok()) return new Rejected(ToGrpcStatus(who.status()));
  if (auto reason = sequencer_->Quarantined(request->tenant())) {
    return new Rejected(ToGrpcStatus(
        Sequencer::QuarantineError(request->tenant(), *reason)));
  }
  uint64_t limit = request->limit() == 0
                       ? options_.max_read_records
                       : std::min(request->limit(), options_.max_read_records);
  const uint64_t from = std::max<uint64_t>(request->from_seq(), 1);
  auto* writer = new RecordsWriter(storage_, request->tenant(), from, limit);
  // The read is on record before the first record leaves.
  RecordRead(*who, request->tenant(), "records.read",
             absl::StrCat("seq ", from, "..", from + limit - 1), request->reason(),
             {{"from_seq", absl::StrCat(from)}, {"limit", absl::StrCat(limit)}},
             [writer](absl::Status s) { writer->Start(s); });
  return writer;
}

}  // namespace indelible
