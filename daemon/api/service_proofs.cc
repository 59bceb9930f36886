// AuditLogService: the checkpoint, proof and public-key RPCs.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/api/grpc_status.h"
#include "daemon/api/service.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"

namespace indelible {

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
                                            " was signed; ask for ", chain::ToAbsl(size_field),
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
          chain::ToAbsl(field), ": 0 means the newest v2 checkpoint's size, and tenant ", tenant,
          " has none yet"));
    }
    if (!latest.ok()) return latest.status();
    size = latest->first;
  }
  if (size > head) {
    return absl::OutOfRangeError(absl::StrCat(chain::ToAbsl(field), ": ", size,
                                              " is beyond the tenant's head (seq ", head,
                                              ")"));
  }
  return size;
}

absl::Status AuditLogService::ResolveProof(
    const std::string& tenant, const chain::ProofPlan& plan,
    google::protobuf::RepeatedPtrField<std::string>* out) const {
  auto hashes = storage_->ProofHashes(tenant, plan);
  if (!hashes.ok()) return hashes.status();
  for (const chain::Digest& h : *hashes) out->Add(std::string(chain::AsBytes(h)));
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
