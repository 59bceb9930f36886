// AdminService: tenant purge and the two-person rule's approvals (request,
// approve, list, expire).
#include <future>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/api/admin_service.h"
#include "daemon/api/admin_status.h"
#include "daemon/api/grpc_status.h"
#include "daemon/api/service.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/tenant_id.h"
#include "verifier/chain/text.h"
#include "verifier/store/purge_register.h"

namespace indelible {
namespace {

using admin_status::CheckTenant;
using admin_status::Invalid;

// The approvers a deletion certificate names: `actor`, then each approver
// in `metadata` ("approved_by"). INVALID_ARGUMENT if one cannot be named.
grpc::Status PurgeApprovers(const std::string& actor,
                            const std::vector<std::pair<std::string, std::string>>& metadata,
                            std::vector<std::string>* approvers) {
  approvers->push_back(actor);
  for (const auto& [key, value] : metadata) {
    if (key == "approved_by") approvers->push_back(value);
  }
  for (const auto& a : *approvers) {
    if (!chain::IsValidApproverName(a)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "context.actor: a purge's approver is named in its deletion "
                          "certificate: 1..256 bytes without control characters");
    }
  }
  return grpc::Status::OK;
}

// Signs the tenant's deletion certificate and has the sequencer purge the
// tenant with it; fills *cert_out. The certificate is signed outside the
// sequencer (appends never wait for the signer), for the head as it is now;
// the purge then goes ahead only if that is still the final head, else it
// is signed again.
grpc::Status SignAndPurge(const AdminDeps& deps, const std::string& tenant,
                          const std::vector<std::string>& approvers, std::string* cert_out) {
  constexpr int kAttempts = 3;
  absl::StatusOr<std::string> cert = absl::AbortedError("not attempted");
  for (int attempt = 0; attempt < kAttempts && absl::IsAborted(cert.status()); ++attempt) {
    const store::Head head = deps.sequencer->GetHead(tenant);
    if (head.seq == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "tenant " + tenant + " has no records");
    }
    auto signed_cert = deps.checkpointer->SignDeletion(tenant, head, approvers);
    if (!signed_cert.ok()) {
      spdlog::error("event=deletion_certificate_unsigned tenant={} status=\"{}\"", tenant,
                    signed_cert.status().ToString());
      return ToGrpcStatus(absl::Status(
          absl::IsPermissionDenied(signed_cert.status()) ? absl::StatusCode::kFailedPrecondition
                                                          : absl::StatusCode::kUnavailable,
          absl::StrCat("deletion certificate of tenant ", tenant, " not signed; nothing was "
                       "purged: ", signed_cert.status().message())));
    }
    std::promise<absl::StatusOr<std::string>> done;
    auto f = done.get_future();
    deps.sequencer->SubmitPurge(
        tenant,
        [head, c = *signed_cert](const store::Head& final_head) -> absl::StatusOr<std::string> {
          if (final_head.seq != head.seq || final_head.entry_hash != head.entry_hash) {
            return absl::AbortedError("records were appended while the certificate was signed");
          }
          return c;
        },
        [&done](absl::StatusOr<std::string> r) { done.set_value(std::move(r)); });
    cert = f.get();
  }
  if (!cert.ok()) return ToGrpcStatus(cert.status());
  *cert_out = *std::move(cert);
  return grpc::Status::OK;
}

// Writes the purged tenant's entry in the purge register beside the
// backups, so restoring one taken earlier never brings the tenant back
// (verifier/store/purge_register.h). Nothing to do with backups off.
grpc::Status RegisterPurgeBesideBackups(Backuper* backuper, const std::string& tenant,
                                        const std::string& cert) {
  if (backuper != nullptr && backuper->enabled()) {
    if (auto s = store::RegisterPurge(backuper->dir(), tenant, cert); !s.ok()) {
      spdlog::error("event=purge_register_failed tenant={} status=\"{}\"", tenant,
                    s.ToString());
      return ToGrpcStatus(absl::InternalError(absl::StrCat(
          "tenant ", tenant, " was purged, but its entry in the purge register of ",
          backuper->dir(), " could not be written (", s.message(),
          "): restoring an older backup would bring its content back until it is; the "
          "certificate is in the data directory")));
    }
  }
  return grpc::Status::OK;
}

// Fills *resp from the purge's certificate (and the v2 checkpoint of its
// final head, if there is one) and logs the purge.
grpc::Status PurgeResponse(const AdminDeps& deps, const std::string& tenant,
                           const std::string& cert, const std::string& actor,
                           v1::PurgeTenantResponse* resp) {
  auto parsed = chain::VerifyDeletionCertificate(cert, {deps.signer->verifier_key()});
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  spdlog::warn("event=tenant_purged tenant={} final_seq={} actor=\"{}\"", tenant,
               parsed->final_seq, actor);
  resp->set_certificate(cert);
  resp->set_final_seq(parsed->final_seq);
  resp->set_final_head_hash(std::string(chain::AsBytes(parsed->final_head)));
  resp->set_timestamp_ns(parsed->timestamp_ns);
  resp->set_final_root_hash(std::string(chain::AsBytes(parsed->root)));
  for (const auto& a : parsed->approvers) resp->add_approvers(a);
  if (auto cp = deps.storage->GetCheckpointV2(tenant, parsed->final_seq);
      cp.ok() && cp->first == parsed->final_seq) {
    resp->set_final_checkpoint(cp->second);
  }
  return grpc::Status::OK;
}

// PERMISSION_DENIED unless `approver` is another principal and another
// person than the requester of `p`. One person, however many principals:
// the person recorded with the request and `requester_person_now`, the one
// the requester maps to now.
grpc::Status CheckSecondPerson(const Principal& approver, const v1::PendingApproval& p,
                               const std::string& requester_person_now) {
  if (approver.name == p.requested_by()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "principal \"" + approver.name +
                            "\" asked for this change; a different admin must approve it");
  }
  for (const std::string& requester : {p.requested_by_person(), requester_person_now}) {
    if (!requester.empty() && approver.person == requester) {
      return grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          "principal \"" + approver.name + "\" is person \"" + approver.person +
              "\", who asked for this change as principal \"" + p.requested_by() +
              "\"; a different person must approve it");
    }
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AdminService::RequestApproval(const Principal& requester, const Attribution& who,
                                           v1::ApprovalRecord record,
                                           const std::string& action,
                                           const std::string& summary,
                                           v1::PendingApproval* pending) {
  chain::Salt id;
  if (auto s = chain::RandomSalt(&id); !s.ok()) return ToGrpcStatus(s);
  const std::string request_id = chain::ToHex(chain::AsBytes(id)).substr(0, 24);
  const uint64_t now = deps_.clock->NowNanos();
  v1::PendingApproval* p = record.mutable_pending();
  p->set_request_id(request_id);
  p->set_action(action);
  p->set_summary(summary);
  p->set_requested_by(requester.name);
  p->set_requested_by_person(requester.person);
  p->set_reason(who.reason);
  p->set_requested_at_ns(now);
  p->set_expires_at_ns(now + auth_->approval_window_seconds() * 1000000000ull);
  const std::string key = std::string(store::kApprovalPrefix) + request_id;
  const std::string value = record.SerializeAsString();
  Storage* storage = deps_.storage;
  auto receipt = Record(p->tenant(), who, "approval.requested", "approval", request_id,
                        {{"requested_action", action},
                         {"summary", summary},
                         {"requested_by_person", requester.person},
                         {"expires_at_ns", absl::StrCat(p->expires_at_ns())}},
                        [storage, key, value](rocksdb::WriteBatch* b) {
                          storage->PutMeta(b, key, value);
                        });
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  ToProto(*receipt, p->mutable_receipt());
  spdlog::warn("event=approval_requested tenant={} request_id={} action={} requested_by=\"{}\"",
               p->tenant(), request_id, action, requester.name);
  *pending = *p;
  return grpc::Status::OK;
}

grpc::Status AdminService::PurgeTenant(grpc::ServerContext* ctx,
                                       const v1::PurgeTenantRequest* req,
                                       v1::PurgeTenantResponse* resp) {
  Attribution who;
  auto principal = Authorize(ctx, req->tenant(), Roles(Role::kAdmin), "purge",
                             &req->context(), &who);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  if (deps_.retention->Get()->holds.count(req->tenant())) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "tenant " + req->tenant() + " is under legal hold; lift it first");
  }
  if (auth_->two_person_rule()) {
    v1::ApprovalRecord record;
    record.mutable_pending()->set_tenant(req->tenant());
    *record.mutable_purge_tenant() = *req;
    return RequestApproval(*principal, who, std::move(record), "purge",
                           "delete every record of the tenant", resp->mutable_pending());
  }
  return ApplyPurge(req->tenant(), who, resp);
}

grpc::Status AdminService::ApplyPurge(const std::string& tenant, const Attribution& who,
                                      v1::PurgeTenantResponse* resp) {
  if (deps_.retention->Get()->holds.count(tenant)) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "tenant " + tenant + " is under legal hold; lift it first");
  }
  // The certificate names who approved: the requester and the approving
  // admin under the two-person rule, else the one actor.
  std::vector<std::string> approvers;
  if (auto s = PurgeApprovers(who.actor, who.metadata, &approvers); !s.ok()) return s;
  // The purge is on record (with the approval and its request dropped,
  // under the two-person rule) before the content goes: the certificate's
  // final tree and head cover it.
  auto receipt = Record(tenant, who, who.approval_key.empty() ? "purge" : "purge.approved",
                        "tenant", tenant, {}, nullptr);
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  std::string cert;
  if (auto s = SignAndPurge(deps_, tenant, approvers, &cert); !s.ok()) return s;
  deps_.retention->AddPurged(tenant);
  // The tenant's event ids are not one key range (store::EventIdKey): a scan
  // of the index deletes them. Appends to the tenant are refused from here
  // on; if this fails or the daemon stops first, the next start finishes it.
  if (auto s = deps_.storage->DeleteTenantEventIds(tenant); !s.ok()) {
    spdlog::error("event=purge_event_ids_failed tenant={} status=\"{}\"", tenant,
                  s.ToString());
    return ToGrpcStatus(s);
  }
  if (auto s = RegisterPurgeBesideBackups(deps_.backuper, tenant, cert); !s.ok()) return s;
  // The rows are deleted; compact so they are gone from the files as well.
  if (auto s = deps_.storage->CompactPurgedTenant(tenant); !s.ok()) {
    spdlog::error("event=purge_compaction_failed tenant={} status=\"{}\"", tenant,
                  s.ToString());
    return ToGrpcStatus(s);
  }
  return PurgeResponse(deps_, tenant, cert, who.actor, resp);
}

absl::StatusOr<int> AdminService::ExpirePendingApprovals() {
  std::lock_guard<std::mutex> l(approvals_mu_);
  auto rows = deps_.storage->ScanMeta(store::kApprovalPrefix);
  if (!rows.ok()) return rows.status();
  const uint64_t now = deps_.clock->NowNanos();
  int expired = 0;
  for (const auto& [key, value] : *rows) {
    v1::ApprovalRecord record;
    if (!record.ParseFromString(value)) {
      return absl::DataLossError("malformed approval request " + key);
    }
    const v1::PendingApproval& p = record.pending();
    if (p.expires_at_ns() > now) continue;
    Attribution who;
    who.actor = "indelibled";
    who.reason = "approval window elapsed without a second admin";
    who.approval_key = key;
    Storage* storage = deps_.storage;
    if (deps_.retention->Get()->purged.count(p.tenant())) {
      // Nothing left to record into: drop the request.
      rocksdb::WriteBatch b;
      storage->DeleteMeta(&b, key);
      if (auto s = storage->WriteSynced(&b); !s.ok()) return s;
    } else {
      auto receipt = Record(p.tenant(), who, "approval.expired", "approval", p.request_id(),
                            {{"requested_action", p.action()},
                             {"requested_by", p.requested_by()},
                             {"summary", p.summary()}},
                            nullptr);
      if (!receipt.ok()) return receipt.status();
    }
    spdlog::warn("event=approval_expired tenant={} request_id={} action={}", p.tenant(),
                 p.request_id(), p.action());
    ++expired;
  }
  return expired;
}

grpc::Status AdminService::Approve(grpc::ServerContext* ctx, const v1::ApproveRequest* req,
                                   v1::ApproveResponse* resp) {
  if (auto n = ExpirePendingApprovals(); !n.ok()) return ToGrpcStatus(n.status());
  auto approver = auth_->Authenticate(*ctx);
  if (!approver.ok()) return ToGrpcStatus(approver.status());
  if (req->request_id().empty()) return Invalid("request_id: required");
  std::lock_guard<std::mutex> l(approvals_mu_);
  const std::string key = std::string(store::kApprovalPrefix) + req->request_id();
  auto rows = deps_.storage->ScanMeta(key);
  if (!rows.ok()) return ToGrpcStatus(rows.status());
  v1::ApprovalRecord record;
  const bool found = !rows->empty() && rows->front().first == key;
  if (!found || !record.ParseFromString(rows->front().second)) {
    // Same answer whether the id never existed or belongs to another tenant.
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "request_id: no pending request " + req->request_id() +
                            " (approved, expired or never made)");
  }
  const v1::PendingApproval& p = record.pending();
  Attribution approval;
  auto checked = Authorize(ctx, p.tenant(), Roles(Role::kAdmin), "approve requests",
                           &req->context(), &approval);
  if (!checked.ok()) {
    if (absl::IsPermissionDenied(checked.status())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "request_id: no pending request " + req->request_id() +
                              " (approved, expired or never made)");
    }
    return ToGrpcStatus(checked.status());
  }
  if (auto s = CheckSecondPerson(*checked, p, auth_->PersonOf(p.requested_by())); !s.ok()) {
    return s;
  }
  Attribution who;
  who.actor = p.requested_by();
  who.reason = p.reason();
  who.approval_key = key;
  who.metadata = {{"request_id", p.request_id()},
                  {"approved_by", checked->name},
                  {"approved_by_person", checked->person},
                  {"approval_reason", approval.reason}};
  grpc::Status s;
  if (record.has_set_retention()) {
    const auto& r = record.set_retention();
    auto seconds = ParseRetentionDuration(r.retention());
    if (!seconds.ok()) return ToGrpcStatus(seconds.status());
    s = ApplyRetention(r.tenant(), r.category(), *seconds, who, resp->mutable_set_retention());
  } else if (record.has_set_legal_hold()) {
    s = ApplyHold(record.set_legal_hold().tenant(), record.set_legal_hold().hold(), who,
                  resp->mutable_set_legal_hold());
  } else if (record.has_purge_tenant()) {
    s = ApplyPurge(record.purge_tenant().tenant(), who, resp->mutable_purge_tenant());
    if (s.ok()) {
      // Dropped with the purge.approved record already; made sure of here.
      rocksdb::WriteBatch b;
      deps_.storage->DeleteMeta(&b, key);
      if (auto w = deps_.storage->WriteSynced(&b); !w.ok()) return ToGrpcStatus(w);
    }
  } else {
    return ToGrpcStatus(absl::DataLossError("approval request " + key + " names no action"));
  }
  if (!s.ok()) return s;
  spdlog::warn("event=approval_granted tenant={} request_id={} action={} approved_by=\"{}\"",
               p.tenant(), p.request_id(), p.action(), checked->name);
  *resp->mutable_approved() = p;
  return grpc::Status::OK;
}

grpc::Status AdminService::ListPendingApprovals(grpc::ServerContext* ctx,
                                                const v1::ListPendingApprovalsRequest* req,
                                                v1::ListPendingApprovalsResponse* resp) {
  if (auto n = ExpirePendingApprovals(); !n.ok()) return ToGrpcStatus(n.status());
  auto who = auth_->Authenticate(*ctx);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!req->tenant().empty()) {
    if (auto s = CheckTenant(req->tenant()); !s.ok()) return s;
    if (auto s = auth_->Check(*who, req->tenant(), Role::kAdmin | Role::kAuditor,
                              "list pending approvals");
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  auto rows = deps_.storage->ScanMeta(store::kApprovalPrefix);
  if (!rows.ok()) return ToGrpcStatus(rows.status());
  for (const auto& [key, value] : *rows) {
    v1::ApprovalRecord record;
    if (!record.ParseFromString(value)) continue;
    const auto& p = record.pending();
    if (!req->tenant().empty() && p.tenant() != req->tenant()) continue;
    if (!(auth_->RolesOn(*who, p.tenant()) & (Role::kAdmin | Role::kAuditor))) continue;
    *resp->add_pending() = p;
  }
  return grpc::Status::OK;
}

}  // namespace indelible
