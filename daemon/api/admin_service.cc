#include "daemon/api/admin_service.h"

#include <algorithm>
#include <future>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/api/admin_status.h"
#include "daemon/api/grpc_status.h"
#include "daemon/ops/retention_compaction.h"
#include "daemon/api/service.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/tenant_id.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using admin_status::CheckTenant;
using admin_status::Invalid;

std::string RetentionKey(const std::string& tenant, const std::string& category) {
  return absl::StrCat(store::kRetentionPrefix, tenant, std::string(1, '\0'), category);
}

}  // namespace

absl::Status LoadRetentionState(Storage* storage, RetentionState* state) {
  auto overrides = storage->ScanMeta(store::kRetentionPrefix);
  if (!overrides.ok()) return overrides.status();
  const size_t rp = std::string_view(store::kRetentionPrefix).size();
  for (const auto& [key, value] : *overrides) {
    const size_t nul = key.find('\0', rp);
    if (nul == std::string::npos || value.size() != 8) {
      return absl::DataLossError("malformed retention override " + key);
    }
    state->SetOverride(key.substr(rp, nul - rp), key.substr(nul + 1),
                       chain::DecodeU64(value.data()));
  }
  auto holds = storage->ScanMeta(store::kHoldPrefix);
  if (!holds.ok()) return holds.status();
  const size_t hp = std::string_view(store::kHoldPrefix).size();
  for (const auto& [key, value] : *holds) state->SetHold(key.substr(hp), true);
  auto purged = storage->ScanMeta(store::kPurgedPrefix);
  if (!purged.ok()) return purged.status();
  const size_t pp = std::string_view(store::kPurgedPrefix).size();
  for (const auto& [key, value] : *purged) state->AddPurged(key.substr(pp));
  return absl::OkStatus();
}

AdminService::AdminService(AdminDeps deps)
    : deps_(std::move(deps)),
      auth_(deps_.authorizer != nullptr ? deps_.authorizer : &open_authorizer_),
      recorder_(deps_.sequencer, deps_.storage, deps_.clock, deps_.limits) {}

AdminService::~AdminService() { StopExpiry(); }

void AdminService::StartExpiry(std::chrono::milliseconds interval) {
  if (expiry_) return;
  expiry_ = std::make_unique<PeriodicTask>(
      PeriodicTask::Options{.name = "approval_expiry", .interval = interval}, [this] {
        if (auto n = ExpirePendingApprovals(); !n.ok()) {
          spdlog::error("event=approval_expiry_failed status=\"{}\"", n.status().ToString());
        }
      });
  expiry_->Start();
}

void AdminService::StopExpiry() {
  if (expiry_) expiry_->Stop();
}

absl::StatusOr<Principal> AdminService::Authorize(grpc::ServerContext* ctx,
                                                  const std::string& tenant, RoleSet roles,
                                                  std::string_view what,
                                                  const v1::AdminContext* context,
                                                  Attribution* who) const {
  auto p = auth_->Authenticate(*ctx);
  if (!p.ok()) return p.status();
  if (tenant != kAnyTenant) {
    if (auto s = CheckTenant(tenant); !s.ok()) {
      return absl::InvalidArgumentError(s.error_message());
    }
  }
  if (auto s = auth_->Check(*p, tenant, roles, what); !s.ok()) return s;
  if (context == nullptr) return p;
  if (!auth_->enabled() && context->actor().empty()) {
    // Open mode: nobody is authenticated, so the caller says who it is.
    return absl::InvalidArgumentError("context.actor: required");
  }
  if (context->reason().empty()) return absl::InvalidArgumentError("context.reason: required");
  if (!auth_->enabled()) {
    who->actor = context->actor();
  } else {
    who->actor = p->name;
    if (!context->actor().empty() && context->actor() != p->name) {
      who->metadata.emplace_back("stated_actor", context->actor());
    }
    who->metadata.emplace_back("auth_method", p->method);
  }
  who->reason = context->reason();
  return p;
}

absl::StatusOr<Receipt> AdminService::Record(const std::string& tenant, const Attribution& who,
                                             const std::string& action,
                                             const std::string& resource_type,
                                             const std::string& resource_id,
                                             Metadata metadata, Sequencer::Extra extra) {
  chain::EventFields e;
  e.tenant = tenant;
  chain::Salt id;
  if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
  e.event_id = "indelible-admin-" + chain::ToHex(chain::AsBytes(id));
  e.actor_id = who.actor;
  e.actor_type = "admin";
  e.action = action;
  e.resource_type = resource_type;
  e.resource_id = resource_id;
  e.reason = who.reason;
  e.outcome = "applied";
  e.source = "indelibled";
  e.category = kAdminCategory;
  e.metadata = std::move(metadata);
  e.metadata.insert(e.metadata.end(), who.metadata.begin(), who.metadata.end());
  PreparedEvent p;
  if (auto s = PrepareFields(std::move(e), deps_.limits, deps_.clock->NowNanos(), chain::RandomSalt,
                             "context", &p);
      !s.ok()) {
    return s;
  }
  if (!who.approval_key.empty()) {
    Storage* storage = deps_.storage;
    const std::string key = who.approval_key;
    Sequencer::Extra inner = std::move(extra);
    extra = [storage, key, inner](rocksdb::WriteBatch* b) {
      if (inner) inner(b);
      storage->DeleteMeta(b, key);
    };
  }
  std::vector<PreparedEvent> events;
  events.push_back(std::move(p));
  std::promise<absl::StatusOr<std::vector<Receipt>>> done;
  auto f = done.get_future();
  deps_.sequencer->Submit(
      std::move(events),
      [&done](absl::StatusOr<std::vector<Receipt>> r) { done.set_value(std::move(r)); },
      std::move(extra));
  auto r = f.get();
  if (!r.ok()) return r.status();
  return r->front();
}

grpc::Status AdminService::SetRetention(grpc::ServerContext* ctx,
                                        const v1::SetRetentionRequest* req,
                                        v1::SetRetentionResponse* resp) {
  Attribution who;
  auto principal = Authorize(ctx, req->tenant(), Roles(Role::kAdmin), "set retention",
                             &req->context(), &who);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  const std::string& category = req->category();
  if (category.empty() || category.size() > 128 ||
      !std::all_of(category.begin(), category.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
      })) {
    return Invalid("category: required, [a-z0-9._-]+");
  }
  auto seconds = ParseRetentionDuration(req->retention());
  if (!seconds.ok()) return Invalid(absl::StrCat("retention: ", seconds.status().message()));
  auto snap = deps_.retention->Get();
  if (*seconds < snap->config.min_seconds || *seconds > snap->config.max_seconds) {
    return Invalid(absl::StrCat("retention: ", req->retention(), " is outside [",
                                FormatRetentionDuration(snap->config.min_seconds), ", ",
                                FormatRetentionDuration(snap->config.max_seconds), "]"));
  }
  const uint64_t previous = snap->RetentionSeconds(req->tenant(), category);
  if (*seconds < previous && auth_->two_person_rule()) {
    v1::ApprovalRecord record;
    record.mutable_pending()->set_tenant(req->tenant());
    *record.mutable_set_retention() = *req;
    resp->set_previous_retention(FormatRetentionDuration(previous));
    return RequestApproval(*principal, who, std::move(record), "retention.shorten",
                           absl::StrCat(category, " ", FormatRetentionDuration(previous),
                                        " -> ", FormatRetentionDuration(*seconds)),
                           resp->mutable_pending());
  }
  return ApplyRetention(req->tenant(), category, *seconds, who, resp);
}

grpc::Status AdminService::ApplyRetention(const std::string& tenant,
                                          const std::string& category, uint64_t seconds,
                                          const Attribution& who,
                                          v1::SetRetentionResponse* resp) {
  const uint64_t previous = deps_.retention->Get()->RetentionSeconds(tenant, category);
  std::string value;
  chain::PutU64(&value, seconds);
  const std::string key = RetentionKey(tenant, category);
  Storage* storage = deps_.storage;
  auto receipt = Record(tenant, who, "retention.set", "retention_policy", category,
                        {{"retention", FormatRetentionDuration(seconds)},
                         {"previous", FormatRetentionDuration(previous)}},
                        [storage, key, value](rocksdb::WriteBatch* b) {
                          storage->PutMeta(b, key, value);
                        });
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  deps_.retention->RecordOverride(tenant, category, seconds);
  spdlog::info("event=retention_set tenant={} category={} retention={} previous={}", tenant,
               category, FormatRetentionDuration(seconds), FormatRetentionDuration(previous));
  ToProto(*receipt, resp->mutable_receipt());
  resp->set_previous_retention(FormatRetentionDuration(previous));
  return grpc::Status::OK;
}

grpc::Status AdminService::GetRetention(grpc::ServerContext* ctx,
                                        const v1::GetRetentionRequest* req,
                                        v1::GetRetentionResponse* resp) {
  auto principal = Authorize(ctx, req->tenant(), Role::kAdmin | Role::kAuditor,
                             "read retention", nullptr, nullptr);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  auto snap = deps_.retention->Get();
  std::vector<std::string> categories(req->categories().begin(), req->categories().end());
  if (categories.empty()) {
    for (const auto& [c, v] : snap->config.categories) categories.push_back(c);
    for (const auto& [tc, v] : snap->overrides) {
      if (tc.first == req->tenant()) categories.push_back(tc.second);
    }
    std::sort(categories.begin(), categories.end());
    categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  }
  for (const auto& c : categories) {
    auto* e = resp->add_entries();
    const uint64_t s = snap->RetentionSeconds(req->tenant(), c);
    e->set_category(c);
    e->set_seconds(s);
    e->set_retention(FormatRetentionDuration(s));
  }
  resp->set_legal_hold(snap->holds.count(req->tenant()) > 0);
  resp->set_default_retention(
      FormatRetentionDuration(snap->RetentionSeconds(req->tenant(), "")));
  return grpc::Status::OK;
}

grpc::Status AdminService::SetLegalHold(grpc::ServerContext* ctx,
                                        const v1::SetLegalHoldRequest* req,
                                        v1::SetLegalHoldResponse* resp) {
  Attribution who;
  auto principal = Authorize(ctx, req->tenant(), Roles(Role::kAdmin), "set legal holds",
                             &req->context(), &who);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  if (!req->has_hold()) return Invalid("hold: required (true to place, false to lift)");
  const bool held = deps_.retention->Get()->holds.count(req->tenant()) > 0;
  if (!req->hold() && held && auth_->two_person_rule()) {
    v1::ApprovalRecord record;
    record.mutable_pending()->set_tenant(req->tenant());
    *record.mutable_set_legal_hold() = *req;
    return RequestApproval(*principal, who, std::move(record), "legal_hold.lift",
                           "lift the legal hold", resp->mutable_pending());
  }
  return ApplyHold(req->tenant(), req->hold(), who, resp);
}

grpc::Status AdminService::ApplyHold(const std::string& tenant, bool hold,
                                     const Attribution& who, v1::SetLegalHoldResponse* resp) {
  const std::string key = std::string(store::kHoldPrefix) + tenant;
  const std::string reason = who.reason;
  Storage* storage = deps_.storage;
  auto receipt = Record(tenant, who, hold ? "legal_hold.place" : "legal_hold.lift",
                        "legal_hold", tenant, {},
                        [storage, key, hold, reason](rocksdb::WriteBatch* b) {
                          if (hold) {
                            storage->PutMeta(b, key, reason);
                          } else {
                            storage->DeleteMeta(b, key);
                          }
                        });
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  deps_.retention->RecordHold(tenant, hold);
  spdlog::info("event=legal_hold tenant={} hold={}", tenant, hold);
  ToProto(*receipt, resp->mutable_receipt());
  return grpc::Status::OK;
}

grpc::Status AdminService::Compact(grpc::ServerContext* ctx, const v1::CompactRequest*,
                                   v1::CompactResponse* resp) {
  auto who = Authorize(ctx, kAnyTenant, Roles(Role::kAdmin), "compact", nullptr, nullptr);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (auto s = indelible::CompactForRetention(deps_.storage, deps_.retention, deps_.clock->NowNanos());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  resp->set_bodies_dropped(deps_.counters->bodies_dropped.load());
  resp->set_event_ids_dropped(deps_.counters->event_ids_dropped.load());
  return grpc::Status::OK;
}

grpc::Status AdminService::Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                                  v1::BackupResponse* resp) {
  auto who = Authorize(ctx, kAnyTenant, Roles(Role::kAdmin), "take backups", nullptr, nullptr);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (deps_.backuper == nullptr || !deps_.backuper->enabled()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "backups are off: set backup.dir in the daemon's config "
                        "(docs/CONFIG.md)");
  }
  // A backup reads every tenant: it asks for a reason as reads do, and is
  // recorded in every chain as reads are.
  if (auth_->require_read_reason() && req->reason().empty()) {
    return Invalid("reason: required: say why you take a backup (it is recorded in "
                   "every tenant's chain)");
  }
  if (req->reason().size() > deps_.limits.max_reason_bytes) {
    return Invalid(absl::StrCat("reason: too long (max ", deps_.limits.max_reason_bytes,
                                " bytes)"));
  }
  Backuper::Recorder record;
  if (auth_->record_reads()) {
    const Principal caller = *who;
    const std::string reason = req->reason();
    record = [this, caller, reason](const std::string& name) {
      return RecordBackup(recorder_, caller, "principal", reason, name);
    };
  }
  auto r = deps_.backuper->Create(req->label(), record);
  if (!r.ok()) return ToGrpcStatus(r.status());
  resp->set_path(r->path);
  resp->set_name(r->name);
  resp->set_created_at_ns(r->created_at_ns);
  for (const auto& h : r->heads) {
    auto* out = resp->add_heads();
    out->set_tenant(h.tenant);
    out->set_seq(h.head.seq);
    out->set_head_hash(std::string(chain::AsBytes(h.head.entry_hash)));
    out->set_received_at_ns(h.head.received_at_ns);
    out->set_checkpoint_seq(h.checkpoint_seq);
  }
  resp->set_size_bytes(r->size_bytes);
  resp->set_files(r->files);
  for (const auto& p : r->pruned) resp->add_pruned(p);
  return grpc::Status::OK;
}

grpc::Status AdminService::AdvanceTestClock(grpc::ServerContext* ctx,
                                            const v1::AdvanceTestClockRequest* req,
                                            v1::AdvanceTestClockResponse* resp) {
  auto who = Authorize(ctx, kAnyTenant, Roles(Role::kAdmin), "move the test clock", nullptr,
                       nullptr);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (deps_.test_clock == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "no test clock: only indelibled-testing --testing-manual-clock has one");
  }
  deps_.test_clock->Advance(req->nanos());
  resp->set_now_ns(deps_.test_clock->NowNanos());
  return grpc::Status::OK;
}

}  // namespace indelible
