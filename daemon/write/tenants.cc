#include "daemon/write/tenants.h"

#include <string_view>

#include "spdlog/spdlog.h"

namespace indelible {

absl::Status TenantTable::LoadHeads() {
  auto heads = storage_->LoadHeads();
  if (!heads.ok()) return heads.status();
  auto purged = storage_->ScanMeta(store::kPurgedPrefix);
  if (!purged.ok()) return purged.status();
  std::lock_guard<std::mutex> l(mu_);
  heads_.clear();
  for (auto& [tenant, head] : *heads) heads_.emplace(tenant, head);
  purged_.clear();
  const size_t n = std::string_view(store::kPurgedPrefix).size();
  for (auto& [key, cert] : *purged) purged_.emplace(key.substr(n), cert);
  return absl::OkStatus();
}

absl::Status TenantTable::CheckHeads() {
  for (const auto& [tenant, head] : AllHeads()) {
    std::string reason;
    for (uint64_t seq : {uint64_t{1}, head.seq}) {
      auto sk = storage_->GetSkeleton(tenant, seq);
      if (sk.ok()) {
        if (seq == head.seq && sk->entry_hash != head.entry_hash) {
          reason = "head does not match the skeleton of seq " + std::to_string(seq);
        }
      } else if (absl::IsDataLoss(sk.status()) || absl::IsNotFound(sk.status())) {
        reason = std::string(sk.status().message());
      } else {
        return sk.status();
      }
      if (!reason.empty()) break;
    }
    if (!reason.empty()) Quarantine(tenant, reason);
  }
  return absl::OkStatus();
}

absl::Status TenantTable::LoadFrontiers() {
  frontiers_.clear();
  for (const auto& [tenant, head] : AllHeads()) {
    if (Quarantined(tenant)) continue;
    auto range = storage_->LoadCompactRange(tenant, head.seq);
    if (range.ok()) {
      frontiers_.emplace(tenant, std::move(*range));
    } else if (absl::IsDataLoss(range.status()) || absl::IsInvalidArgument(range.status())) {
      Quarantine(tenant, std::string(range.status().message()));
    } else {
      return range.status();
    }
  }
  return absl::OkStatus();
}

store::Head TenantTable::GetHead(const std::string& tenant) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = heads_.find(tenant);
  if (it != heads_.end()) return it->second;
  store::Head h;
  h.entry_hash = chain::Genesis(tenant);
  return h;
}

std::vector<std::pair<std::string, store::Head>> TenantTable::AllHeads() {
  std::lock_guard<std::mutex> l(mu_);
  return {heads_.begin(), heads_.end()};
}

std::optional<std::string> TenantTable::PurgeCertificate(const std::string& tenant) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = purged_.find(tenant);
  if (it == purged_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> TenantTable::Quarantined(const std::string& tenant) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = quarantined_.find(tenant);
  if (it == quarantined_.end()) return std::nullopt;
  return it->second;
}

void TenantTable::Quarantine(const std::string& tenant, const std::string& reason) {
  spdlog::critical("event=tenant_quarantined tenant={} reason=\"{}\"", tenant, reason);
  std::lock_guard<std::mutex> l(mu_);
  quarantined_.emplace(tenant, reason);
}

absl::Status TenantTable::QuarantineError(const std::string& tenant,
                                          const std::string& reason) {
  return absl::DataLossError(
      "tenant " + tenant + " is quarantined: its stored chain is damaged (" +
      reason + "); run indelible-verify check (docs/ARCHITECTURE.md, Faults)");
}

absl::Status TenantTable::Admit(const std::string& tenant) {
  std::lock_guard<std::mutex> l(mu_);
  if (purged_.count(tenant) != 0) {
    return absl::FailedPreconditionError(
        "tenant " + tenant + " was purged; its id cannot be reused (docs/RETENTION.md)");
  }
  if (auto it = quarantined_.find(tenant); it != quarantined_.end()) {
    return QuarantineError(tenant, it->second);
  }
  return absl::OkStatus();
}

void TenantTable::SetDurable(const HeadMap& heads) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [tenant, head] : heads) heads_[tenant] = head;
}

store::Head TenantTable::PendingHead(const std::string& tenant) {
  auto it = pending_heads_.find(tenant);
  return it != pending_heads_.end() ? it->second : GetHead(tenant);
}

chain::CompactRange TenantTable::PendingFrontier(const std::string& tenant) const {
  auto it = frontiers_.find(tenant);
  return it != frontiers_.end() ? it->second : chain::CompactRange();
}

void TenantTable::Publish(const HeadMap& heads, FrontierMap* frontiers) {
  for (const auto& [tenant, head] : heads) pending_heads_[tenant] = head;
  for (auto& [tenant, frontier] : *frontiers) frontiers_[tenant] = std::move(frontier);
  frontiers->clear();
}

void TenantTable::Purged(const std::string& tenant, const std::string& certificate) {
  {
    std::lock_guard<std::mutex> l(mu_);
    purged_[tenant] = certificate;
  }
  pending_heads_.erase(tenant);
  frontiers_.erase(tenant);
}

}  // namespace indelible
