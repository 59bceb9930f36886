#include "daemon/service.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/append_stream.h"
#include "daemon/grpc_status.h"
#include "spdlog/spdlog.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"

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
      FieldsToProto(*fields, out_.mutable_event());
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

void ToProto(const Receipt& r, v1::Receipt* out) {
  out->set_tenant(r.tenant);
  out->set_seq(r.seq);
  out->set_received_at_ns(r.received_at_ns);
  out->set_entry_hash(std::string(chain::AsBytes(r.entry_hash)));
  out->set_duplicate(r.duplicate);
  if (r.seq > 0) out->set_leaf_index(r.seq - 1);
  out->set_body_digest(std::string(chain::AsBytes(r.body_digest)));
  out->set_prev_entry_hash(std::string(chain::AsBytes(r.prev_entry_hash)));
}

AuditLogService::AuditLogService(Sequencer* sequencer, Storage* storage,
                                 Clock* clock, const LogSigner* signer,
                                 ServiceOptions options)
    : sequencer_(sequencer), storage_(storage), clock_(clock), signer_(signer),
      options_(std::move(options)),
      authorizer_(options_.authorizer != nullptr ? options_.authorizer
                                                 : &open_authorizer_) {}

absl::StatusOr<v1::Event> MakeDaemonEvent(const std::string& tenant, const std::string& event_id_prefix,
                          const Principal& who, const std::string& action,
                          const std::string& category) {
  v1::Event e;
  e.set_tenant(tenant);
  chain::Salt id;
  if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
  e.set_event_id(event_id_prefix + chain::ToHex(chain::AsBytes(id)));
  e.mutable_actor()->set_id(who.name);
  e.mutable_actor()->set_type("principal");
  e.set_action(action);
  e.set_source("indelibled");
  e.set_category(category);
  auto* m = e.add_metadata();
  m->set_key("auth_method");
  m->set_value(who.method);
  m = e.add_metadata();
  m->set_key("peer");
  m->set_value(who.peer);
  return e;
}

absl::StatusOr<Principal> AuditLogService::AuthorizeRead(
    const grpc::ServerContextBase& ctx, const std::string& tenant, RoleSet roles,
    std::string_view what, const std::string* reason) const {
  auto who = authorizer_->Authenticate(ctx);
  if (!who.ok()) return who.status();
  if (!chain::IsValidTenantId(tenant)) {
    return absl::InvalidArgumentError(
        tenant.empty() ? "tenant: required"
                       : "tenant: must match [a-z0-9][a-z0-9._-]{0,62}");
  }
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
  auto made = MakeDaemonEvent(tenant, "indelible-read-", who, action, kAccessCategory);
  if (!made.ok()) return done(made.status());
  v1::Event& e = *made;
  e.mutable_resource()->set_type("chain");
  e.mutable_resource()->set_id(resource_id);
  e.set_reason(reason);
  e.set_outcome("allowed");
  for (auto& [k, v] : metadata) {
    auto* m = e.add_metadata();
    m->set_key(k);
    m->set_value(v);
  }
  std::vector<PreparedEvent> events(1);
  if (auto s = PrepareEvent(e, options_.limits, clock_->NowNanos(), options_.salt_source,
                            "reason", &events[0]);
      !s.ok()) {
    return done(s);
  }
  sequencer_->Submit(std::move(events),
                     [done = std::move(done)](absl::StatusOr<std::vector<Receipt>> r) {
                       done(r.status());
                     });
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
  sequencer_->Submit(std::move(events),
                     [reactor, response](absl::StatusOr<std::vector<Receipt>> r) {
                       if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
                       ToProto(r->front(), response->mutable_receipt());
                       reactor->Finish(grpc::Status::OK);
                     });
  return reactor;
}

absl::Status AuditLogService::AuthorizeEvent(const Principal& who,
                                             const v1::Event& event,
                                             std::string_view path) const {
  if (!chain::IsValidTenantId(event.tenant())) {
    return absl::InvalidArgumentError(absl::StrCat(
        chain::Av(path), ".tenant: ",
        event.tenant().empty() ? "required" : "must match [a-z0-9][a-z0-9._-]{0,62}"));
  }
  if (auto s = authorizer_->Check(who, event.tenant(), Roles(Role::kWriter), "append");
      !s.ok()) {
    return s;
  }
  if (absl::StartsWith(event.category(), kReservedCategoryPrefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        chain::Av(path), ".category: \"", event.category(), "\" is reserved: categories starting ",
        kReservedCategoryPrefix, " are the daemon's own records"));
  }
  return absl::OkStatus();
}

absl::Status AuditLogService::PrepareBatch(const Principal& who,
                                           const v1::AppendBatchRequest& request,
                                           std::string_view path,
                                           std::vector<PreparedEvent>* out) {
  const std::string events =
      path.empty() ? std::string("events") : absl::StrCat(chain::Av(path), ".events");
  if (request.events().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(events, ": at least one event required"));
  }
  if (static_cast<size_t>(request.events_size()) > options_.limits.max_batch_events) {
    return absl::InvalidArgumentError(
        absl::StrCat(events, ": too many events (", request.events_size(),
                     ", max ", options_.limits.max_batch_events, ")"));
  }
  for (int i = 0; i < request.events_size(); ++i) {
    if (auto s = AuthorizeEvent(who, request.events(i), absl::StrCat(events, "[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  const uint64_t now = clock_->NowNanos();
  out->resize(request.events_size());
  for (int i = 0; i < request.events_size(); ++i) {
    if (auto s = PrepareEvent(request.events(i), options_.limits, now,
                              options_.salt_source,
                              absl::StrCat(events, "[", i, "]"), &(*out)[i],
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
  return new AppendStreamReactor(this, authorizer_->Authenticate(*ctx),
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

grpc::ServerUnaryReactor* AuditLogService::GetCheckpoint(
    grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest* request,
    v1::Checkpoint* response) {
  auto* reactor = ctx->DefaultReactor();
  auto who = AuthorizeRead(*ctx, request->tenant(), Role::kReader | Role::kAuditor,
                           "fetch checkpoints", &request->reason());
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  if (request->version() > 2) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "version: must be 0, 1 (chain checkpoint) or 2 (tree)"));
    return reactor;
  }
  RecordRead(*who, request->tenant(), "checkpoint.fetch",
             absl::StrCat(request->version() == 2 ? "v2 min_size " : "min_seq ",
                          request->min_seq()),
             request->reason(), {},
             [this, reactor, request, response](absl::Status s) {
               if (!s.ok()) return reactor->Finish(ToGrpcStatus(s));
               ServeCheckpoint(request, response, reactor);
             });
  return reactor;
}

void AuditLogService::ServeCheckpoint(const v1::GetCheckpointRequest* request,
                                      v1::Checkpoint* response,
                                      grpc::ServerUnaryReactor* reactor) {
  if (request->version() == 2) {
    return reactor->Finish(
        ToGrpcStatus(FillCheckpointV2(request->tenant(), request->min_seq(), response)));
  }
  auto note = storage_->GetCheckpoint(request->tenant(), request->min_seq());
  if (!note.ok()) {
    return reactor->Finish(ToGrpcStatus(note.status()));
  }
  // Parse what we stored, so a damaged row is reported rather than served.
  auto cp = chain::VerifyCheckpoint(*note, {signer_->verifier_key()});
  if (!cp.ok()) {
    // It may be signed by an older key of the history: serve it unparsed.
    spdlog::warn("event=checkpoint_unverified tenant={} status=\"{}\"",
                 request->tenant(), cp.status().ToString());
    response->set_note(*note);
    response->set_tenant(request->tenant());
    return reactor->Finish(grpc::Status::OK);
  }
  response->set_note(*note);
  response->set_tenant(cp->tenant);
  response->set_seq(cp->seq);
  response->set_head_hash(std::string(chain::AsBytes(cp->head)));
  response->set_timestamp_ns(cp->timestamp_ns);
  response->set_version(1);
  reactor->Finish(grpc::Status::OK);
}

absl::Status AuditLogService::FillCheckpointV2(const std::string& tenant,
                                               uint64_t min_size,
                                               v1::Checkpoint* out) const {
  auto stored = storage_->GetCheckpointV2(tenant, min_size);
  if (!stored.ok()) return stored.status();
  out->set_note(stored->second);
  out->set_tenant(tenant);
  out->set_seq(stored->first);
  out->set_version(2);
  auto cp = chain::VerifyCheckpointV2(stored->second, {signer_->verifier_key()});
  if (!cp.ok()) {
    // Signed by an older key of the history: served unparsed.
    spdlog::warn("event=checkpoint_unverified version=2 tenant={} status=\"{}\"", tenant,
                 cp.status().ToString());
    return absl::OkStatus();
  }
  out->set_head_hash(std::string(chain::AsBytes(cp->chain_head)));
  out->set_timestamp_ns(cp->timestamp_ns);
  out->set_root_hash(std::string(chain::AsBytes(cp->root)));
  out->set_origin(cp->origin());
  return absl::OkStatus();
}

absl::Status AuditLogService::FillProofCheckpoint(const std::string& tenant, uint64_t size,
                                                  std::string_view size_field,
                                                  v1::Checkpoint* out) const {
  if (auto s = FillCheckpointV2(tenant, size, out); !s.ok()) return s;
  if (out->seq() != size) {
    return absl::NotFoundError(absl::StrCat("with_checkpoint: no v2 checkpoint of size ", size,
                                            " was signed; ask for ", chain::Av(size_field),
                                            " 0 or ", out->seq()));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AuditLogService::ProofTreeSize(
    const grpc::ServerContextBase& ctx, const std::string& tenant, uint64_t size,
    std::string_view field) {
  // Proofs hold only hashes: readers and auditors get them without a
  // reason, and they are not recorded in the chain (docs/API.md).
  auto who = AuthorizeRead(ctx, tenant, Role::kReader | Role::kAuditor, "fetch proofs",
                           nullptr);
  if (!who.ok()) return who.status();
  // A purged tenant keeps its tree (hashes only): its proofs are served.
  if (auto reason = sequencer_->Quarantined(tenant)) {
    return Sequencer::QuarantineError(tenant, *reason);
  }
  const uint64_t head = sequencer_->GetHead(tenant).seq;
  if (size == 0) {
    auto latest = storage_->GetCheckpointV2(tenant, 0);
    if (absl::IsNotFound(latest.status())) {
      return absl::NotFoundError(absl::StrCat(
          chain::Av(field), ": 0 means the newest v2 checkpoint's size, and tenant ", tenant,
          " has none yet"));
    }
    if (!latest.ok()) return latest.status();
    size = latest->first;
  }
  if (size > head) {
    return absl::OutOfRangeError(absl::StrCat(chain::Av(field), ": ", size,
                                              " is beyond the tenant's head (seq ", head,
                                              ")"));
  }
  return size;
}

absl::Status AuditLogService::ResolveProof(
    const std::string& tenant, const chain::ProofPlan& plan,
    google::protobuf::RepeatedPtrField<std::string>* out) const {
  std::vector<chain::NodeId> nodes;
  for (const auto& element : plan.elements) {
    nodes.insert(nodes.end(), element.begin(), element.end());
  }
  auto hashes = storage_->GetTreeNodes(tenant, nodes);
  if (!hashes.ok()) return hashes.status();
  size_t pos = 0;
  for (const auto& element : plan.elements) {
    std::vector<chain::Digest> part(hashes->begin() + pos,
                                    hashes->begin() + pos + element.size());
    pos += element.size();
    out->Add(std::string(chain::AsBytes(chain::FoldRange(part))));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AuditLogService::GetInclusionProof(
    grpc::CallbackServerContext* ctx, const v1::GetInclusionProofRequest* request,
    v1::GetInclusionProofResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    auto size = ProofTreeSize(*ctx, request->tenant(), request->tree_size(), "tree_size");
    if (!size.ok()) return size.status();
    if (request->seq() == 0) return absl::InvalidArgumentError("seq: required (>= 1)");
    if (request->seq() > *size) {
      return absl::OutOfRangeError(absl::StrCat("seq: ", request->seq(),
                                                " is not in the tree of size ", *size));
    }
    response->set_tenant(request->tenant());
    response->set_seq(request->seq());
    response->set_leaf_index(request->seq() - 1);
    response->set_tree_size(*size);
    if (auto s = ResolveProof(request->tenant(),
                              chain::InclusionPlan(request->seq() - 1, *size),
                              response->mutable_hashes());
        !s.ok()) {
      return s;
    }
    if (request->with_checkpoint()) {
      return FillProofCheckpoint(request->tenant(), *size, "tree_size",
                                 response->mutable_checkpoint());
    }
    return absl::OkStatus();
  }();
  if (options_.proof_counter != nullptr) options_.proof_counter(status);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* AuditLogService::GetConsistencyProof(
    grpc::CallbackServerContext* ctx, const v1::GetConsistencyProofRequest* request,
    v1::GetConsistencyProofResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    auto size = ProofTreeSize(*ctx, request->tenant(), request->new_size(), "new_size");
    if (!size.ok()) return size.status();
    if (request->old_size() == 0) {
      return absl::InvalidArgumentError("old_size: required (>= 1)");
    }
    if (request->old_size() > *size) {
      return absl::OutOfRangeError(absl::StrCat("old_size: ", request->old_size(),
                                                " is larger than new_size ", *size));
    }
    response->set_tenant(request->tenant());
    response->set_old_size(request->old_size());
    response->set_new_size(*size);
    if (auto s = ResolveProof(request->tenant(),
                              chain::ConsistencyPlan(request->old_size(), *size),
                              response->mutable_hashes());
        !s.ok()) {
      return s;
    }
    if (request->with_checkpoint()) {
      return FillProofCheckpoint(request->tenant(), *size, "new_size",
                                 response->mutable_checkpoint());
    }
    return absl::OkStatus();
  }();
  if (options_.proof_counter != nullptr) options_.proof_counter(status);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* AuditLogService::GetPublicKey(
    grpc::CallbackServerContext* ctx, const v1::GetPublicKeyRequest* request,
    v1::GetPublicKeyResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  if (auto who = authorizer_->Authenticate(*ctx); !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  const auto& vk = signer_->verifier_key();
  response->set_key_name(vk.name);
  response->set_key_id_hex(absl::StrFormat("%08x", vk.key_id));
  response->set_verifier_key(chain::NoteVerifierKeyString(vk));
  response->set_public_key_pem(signer_->PublicKeyPem());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace indelible
