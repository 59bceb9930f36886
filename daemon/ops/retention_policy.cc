#include "daemon/ops/retention_policy.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/event.h"
#include "verifier/chain/retention_policy.h"

namespace indelible {
namespace {

// The record of `tenant`'s policy `text` (docs/FORMAT.md section 15).
chain::EventFields PolicyRecord(const std::string& tenant, const std::string& cause,
                                const std::string& text) {
  chain::EventFields e;
  e.tenant = tenant;
  e.actor_id = "indelibled";
  e.actor_type = "daemon";
  e.action = std::string(chain::kPolicyAction);
  e.resource_type = "retention_policy";
  e.resource_id = tenant;
  e.reason = absl::StrCat("the tenant's retention policy from here on (", cause, ")");
  e.outcome = "applied";
  e.source = "indelibled";
  e.category = std::string(chain::kPolicyCategory);
  e.metadata = {{"cause", cause}, {std::string(chain::kPolicyMetadataKey), text}};
  return e;
}

}  // namespace

absl::Status RetentionPolicyRecorder::Start(const RetentionConfig& config) {
  auto rows = storage_->ScanMeta(kPolicyRecordPrefix);
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::string, std::less<>> recorded;
  const size_t n = std::string_view(kPolicyRecordPrefix).size();
  for (auto& [key, value] : *rows) recorded[key.substr(n)] = std::move(value);
  state_->EnableGate(std::move(recorded));
  state_->SetPolicyRecorder(
      [this](const RetentionState::PolicyChange& c) { return RecordAndApply(c); });
  if (auto s = state_->RecordAndApply(
          {.cause = "config.start",
           .apply = [config](RetentionState::Snapshot* s) { s->config = config; },
           .scope = RetentionState::PolicyChange::Scope::kRecorded,
           .tenant = ""});
      !s.ok()) {
    spdlog::error("event=retention_policy_not_recorded cause=config.start status=\"{}\" "
                  "message=\"nothing of the tenants concerned is pruned until it is\"",
                  s.ToString());
  }
  return absl::OkStatus();
}

absl::Status RetentionPolicyRecorder::RecordAndApply(const RetentionState::PolicyChange& c) {
  using Scope = RetentionState::PolicyChange::Scope;
  std::lock_guard<std::mutex> l(state_->policy_mutex());
  RetentionState::Snapshot next = *state_->Get();
  if (c.apply) c.apply(&next);
  std::vector<chain::EventFields> events;
  std::vector<std::pair<std::string, std::string>> texts;  // tenant, policy
  for (const std::string& tenant : recorder_->RecordableTenants("retention.policy")) {
    if (c.scope == Scope::kOneTenant && tenant != c.tenant) continue;
    auto on_record = next.recorded.find(tenant);
    if (c.scope == Scope::kRecorded && on_record == next.recorded.end()) continue;
    std::string text = chain::FormatRetentionPolicy(next.PolicyOf(tenant));
    if (on_record != next.recorded.end() && on_record->second == text) continue;
    events.push_back(PolicyRecord(tenant, c.cause, text));
    texts.emplace_back(tenant, std::move(text));
  }
  absl::Status status;
  if (!events.empty()) {
    Storage* storage = storage_;
    auto receipts = recorder_->Append(std::move(events), [storage, &texts](rocksdb::WriteBatch* b) {
      for (const auto& [tenant, text] : texts) {
        storage->PutMeta(b, absl::StrCat(kPolicyRecordPrefix, tenant), text);
      }
    });
    status = receipts.status();
    if (status.ok()) {
      spdlog::info("event=retention_policy_recorded cause={} tenants={}", c.cause,
                   receipts->size());
    }
  }
  state_->Apply([&](RetentionState::Snapshot* s) {
    if (c.apply) c.apply(s);
    if (status.ok()) {
      for (const auto& [tenant, text] : texts) s->recorded[tenant] = text;
    }
  });
  return status;
}

absl::Status RecordPendingPolicies(RetentionState* state) {
  return state->RecordAndApply({.cause = "retention.compaction",
                                .apply = nullptr,
                                .scope = RetentionState::PolicyChange::Scope::kAll,
                                .tenant = ""});
}

}  // namespace indelible
