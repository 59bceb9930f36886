#include "daemon/admin_service.h"

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "daemon/grpc_status.h"
#include "daemon/service.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

grpc::Status Invalid(const std::string& msg) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, msg);
}

grpc::Status CheckContext(const v1::AdminContext& c) {
  if (c.actor().empty()) return Invalid("context.actor: required");
  if (c.reason().empty()) return Invalid("context.reason: required");
  return grpc::Status::OK;
}

grpc::Status CheckTenant(const std::string& t) {
  if (t.empty()) return Invalid("tenant: required");
  if (!chain::IsValidTenantId(t)) {
    return Invalid("tenant: must match [a-z0-9][a-z0-9._-]{0,62}");
  }
  return grpc::Status::OK;
}

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

AdminService::AdminService(AdminDeps deps) : d_(std::move(deps)) {}

absl::StatusOr<Receipt> AdminService::Record(
    const std::string& tenant, const v1::AdminContext& who, const std::string& action,
    const std::string& resource_type, const std::string& resource_id,
    std::vector<std::pair<std::string, std::string>> metadata, Sequencer::Extra extra) {
  v1::Event e;
  e.set_tenant(tenant);
  chain::Salt id;
  if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
  e.set_event_id("indelible-admin-" + chain::ToHex(chain::AsBytes(id)));
  e.mutable_actor()->set_id(who.actor());
  e.mutable_actor()->set_type("admin");
  e.set_action(action);
  e.mutable_resource()->set_type(resource_type);
  e.mutable_resource()->set_id(resource_id);
  e.set_reason(who.reason());
  e.set_outcome("applied");
  e.set_source("indelibled");
  e.set_category(kAdminCategory);
  for (auto& [k, v] : metadata) {
    auto* m = e.add_metadata();
    m->set_key(k);
    m->set_value(v);
  }
  PreparedEvent p;
  if (auto s = PrepareEvent(e, d_.limits, d_.clock->NowNanos(), chain::RandomSalt,
                            "context", &p);
      !s.ok()) {
    return s;
  }
  std::vector<PreparedEvent> events;
  events.push_back(std::move(p));
  std::promise<absl::StatusOr<std::vector<Receipt>>> done;
  auto f = done.get_future();
  d_.sequencer->Submit(
      std::move(events),
      [&done](absl::StatusOr<std::vector<Receipt>> r) { done.set_value(std::move(r)); },
      std::move(extra));
  auto r = f.get();
  if (!r.ok()) return r.status();
  return r->front();
}

grpc::Status AdminService::SetRetention(grpc::ServerContext*, const v1::SetRetentionRequest* req,
                                        v1::SetRetentionResponse* resp) {
  if (auto s = CheckContext(req->context()); !s.ok()) return s;
  if (auto s = CheckTenant(req->tenant()); !s.ok()) return s;
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
  auto snap = d_.retention->Get();
  if (*seconds < snap->config.min_seconds || *seconds > snap->config.max_seconds) {
    return Invalid(absl::StrCat("retention: ", req->retention(), " is outside [",
                                FormatRetentionDuration(snap->config.min_seconds), ", ",
                                FormatRetentionDuration(snap->config.max_seconds), "]"));
  }
  const uint64_t previous = snap->RetentionSeconds(req->tenant(), category);
  std::string value;
  chain::PutU64(&value, *seconds);
  const std::string key = RetentionKey(req->tenant(), category);
  Storage* storage = d_.storage;
  auto receipt = Record(req->tenant(), req->context(), "retention.set", "retention_policy",
                        category,
                        {{"retention", FormatRetentionDuration(*seconds)},
                         {"previous", FormatRetentionDuration(previous)}},
                        [storage, key, value](rocksdb::WriteBatch* b) {
                          storage->PutMeta(b, key, value);
                        });
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  d_.retention->SetOverride(req->tenant(), category, *seconds);
  spdlog::info("event=retention_set tenant={} category={} retention={} previous={}",
               req->tenant(), category, FormatRetentionDuration(*seconds),
               FormatRetentionDuration(previous));
  ToProto(*receipt, resp->mutable_receipt());
  resp->set_previous_retention(FormatRetentionDuration(previous));
  return grpc::Status::OK;
}

grpc::Status AdminService::GetRetention(grpc::ServerContext*, const v1::GetRetentionRequest* req,
                                        v1::GetRetentionResponse* resp) {
  if (auto s = CheckTenant(req->tenant()); !s.ok()) return s;
  auto snap = d_.retention->Get();
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

grpc::Status AdminService::SetLegalHold(grpc::ServerContext*, const v1::SetLegalHoldRequest* req,
                                        v1::SetLegalHoldResponse* resp) {
  if (auto s = CheckContext(req->context()); !s.ok()) return s;
  if (auto s = CheckTenant(req->tenant()); !s.ok()) return s;
  if (!req->has_hold()) return Invalid("hold: required (true to place, false to lift)");
  const bool hold = req->hold();
  const std::string key = std::string(store::kHoldPrefix) + req->tenant();
  const std::string reason = req->context().reason();
  Storage* storage = d_.storage;
  auto receipt = Record(req->tenant(), req->context(),
                        hold ? "legal_hold.place" : "legal_hold.lift", "legal_hold",
                        req->tenant(), {},
                        [storage, key, hold, reason](rocksdb::WriteBatch* b) {
                          if (hold) {
                            storage->PutMeta(b, key, reason);
                          } else {
                            storage->DeleteMeta(b, key);
                          }
                        });
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  d_.retention->SetHold(req->tenant(), hold);
  spdlog::info("event=legal_hold tenant={} hold={}", req->tenant(), hold);
  ToProto(*receipt, resp->mutable_receipt());
  return grpc::Status::OK;
}

grpc::Status AdminService::PurgeTenant(grpc::ServerContext*, const v1::PurgeTenantRequest* req,
                                       v1::PurgeTenantResponse* resp) {
  if (auto s = CheckContext(req->context()); !s.ok()) return s;
  if (auto s = CheckTenant(req->tenant()); !s.ok()) return s;
  if (d_.retention->Get()->holds.count(req->tenant())) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "tenant " + req->tenant() + " is under legal hold; lift it first");
  }
  const chain::NoteSigner* signer = d_.signer;
  Clock* clock = d_.clock;
  const std::string tenant = req->tenant();
  std::promise<absl::StatusOr<std::string>> done;
  auto f = done.get_future();
  d_.sequencer->SubmitPurge(
      tenant,
      [signer, clock, tenant](const store::Head& head) {
        chain::DeletionCertificate c;
        c.tenant = tenant;
        c.final_seq = head.seq;
        c.final_head = head.entry_hash;
        c.timestamp_ns = std::max(clock->NowNanos(), head.received_at_ns);
        return signer->Sign(chain::DeletionCertificateText(c));
      },
      [&done](absl::StatusOr<std::string> r) { done.set_value(std::move(r)); });
  auto cert = f.get();
  if (!cert.ok()) return ToGrpcStatus(cert.status());
  d_.retention->AddPurged(tenant);
  // The rows are deleted; compact so they are gone from the files as well.
  if (auto s = d_.storage->CompactAll(); !s.ok()) {
    spdlog::error("event=purge_compaction_failed tenant={} status=\"{}\"", tenant,
                  s.ToString());
    return ToGrpcStatus(s);
  }
  auto parsed = chain::VerifyDeletionCertificate(*cert, {signer->verifier_key()});
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  spdlog::warn("event=tenant_purged tenant={} final_seq={} actor=\"{}\"", tenant,
               parsed->final_seq, req->context().actor());
  resp->set_certificate(*cert);
  resp->set_final_seq(parsed->final_seq);
  resp->set_final_head_hash(std::string(chain::AsBytes(parsed->final_head)));
  resp->set_timestamp_ns(parsed->timestamp_ns);
  return grpc::Status::OK;
}

grpc::Status AdminService::Compact(grpc::ServerContext*, const v1::CompactRequest*,
                                   v1::CompactResponse* resp) {
  if (auto s = d_.storage->CompactForRetention(); !s.ok()) return ToGrpcStatus(s);
  resp->set_bodies_dropped(d_.counters->bodies_dropped.load());
  resp->set_event_ids_dropped(d_.counters->event_ids_dropped.load());
  return grpc::Status::OK;
}

grpc::Status AdminService::Backup(grpc::ServerContext*, const v1::BackupRequest* req,
                                  v1::BackupResponse* resp) {
  if (d_.backuper == nullptr || !d_.backuper->enabled()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "backups are off: set backup.dir in the daemon's config "
                        "(docs/CONFIG.md)");
  }
  auto r = d_.backuper->Create(req->label());
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
  resp->set_signing_key_included(r->signing_key_included);
  for (const auto& p : r->pruned) resp->add_pruned(p);
  return grpc::Status::OK;
}

grpc::Status AdminService::AdvanceTestClock(grpc::ServerContext*,
                                            const v1::AdvanceTestClockRequest* req,
                                            v1::AdvanceTestClockResponse* resp) {
  if (d_.test_clock == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "the test clock exists only under --testing-manual-clock");
  }
  d_.test_clock->Advance(req->nanos());
  resp->set_now_ns(d_.test_clock->NowNanos());
  return grpc::Status::OK;
}

}  // namespace indelible
