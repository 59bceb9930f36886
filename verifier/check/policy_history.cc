#include "verifier/check/policy_history.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/text.h"

namespace indelible::check {
namespace {

constexpr uint64_t kNanosPerSecond = 1000000000ull;

// t + seconds, saturating.
uint64_t After(uint64_t t_ns, uint64_t seconds) {
  if (seconds > (UINT64_MAX - t_ns) / kNanosPerSecond) return UINT64_MAX;
  return t_ns + seconds * kNanosPerSecond;
}

}  // namespace

std::string PolicyHistory::AddRecord(uint64_t seq, uint64_t received_at_ns,
                                     std::string_view ce) {
  auto category = chain::CanonicalEventCategory(ce);
  if (!category.ok() || *category != chain::kPolicyCategory) return "";
  auto event = chain::DecodeCanonicalEvent(ce);
  if (!event.ok()) return "";
  const std::string* text = nullptr;
  for (const auto& [k, v] : event->metadata) {
    if (k == chain::kPolicyMetadataKey) text = &v;
  }
  if (text == nullptr) {
    return "an indelible.policy record without a policy: no policy is in force from here";
  }
  auto p = chain::ParseRetentionPolicy(*text);
  if (!p.ok()) return absl::StrCat(p.status().message(), ": not taken as a policy");
  if (p->tenant != tenant_) {
    return absl::StrCat("a retention policy of tenant \"", chain::ToAbsl(p->tenant),
                        "\": not taken as a policy");
  }
  // The policy before this one has ended: what it allowed is settled.
  if (!policies_.empty()) {
    const Policy& prev = policies_.back();
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const Pruned& r) {
                                    return Allows(prev, received_at_ns, r);
                                  }),
                   pending_.end());
  }
  policies_.push_back({seq, received_at_ns, *std::move(p)});
  return "";
}

void PolicyHistory::AddPruned(uint64_t seq, uint64_t received_at_ns,
                              std::string_view category) {
  auto it = std::find(categories_.begin(), categories_.end(), category);
  if (it == categories_.end()) it = categories_.insert(it, std::string(category));
  pending_.push_back(
      {seq, received_at_ns, static_cast<uint32_t>(it - categories_.begin())});
}

bool PolicyHistory::Allows(const Policy& policy, uint64_t end_ns, const Pruned& r) const {
  const std::string& category = categories_[r.category];
  if (policy.p.legal_hold || chain::IsNeverPruned(category)) return false;
  const uint64_t seconds =
      category.empty() ? policy.p.ShortestSeconds() : policy.p.Seconds(category);
  return After(r.received_at_ns, seconds) <= end_ns;
}

std::string PolicyHistory::Why(const Pruned& r, uint64_t now_ns) const {
  const std::string& category = categories_[r.category];
  const std::string what = absl::StrCat(
      "the body of this record (category \"", chain::ToAbsl(category), "\", received at ",
      r.received_at_ns, ") is gone");
  if (chain::IsNeverPruned(category)) {
    return absl::StrCat(what, ", but indelible.* records are never pruned");
  }
  if (policies_.empty()) {
    return absl::StrCat(what, ", but the chain records no retention policy that allowed it");
  }
  const Policy& last = policies_.back();
  return absl::StrCat(
      what, ", but no retention policy recorded in the chain allowed it by ", now_ns,
      " (the latest, at seq ", last.seq, ", keeps it ",
      last.p.legal_hold ? "under legal hold"
                        : absl::StrCat(category.empty() ? last.p.ShortestSeconds()
                                                        : last.p.Seconds(category),
                                       " s"),
      ")");
}

std::vector<PolicyHistory::Early> PolicyHistory::Finish(uint64_t now_ns) {
  std::vector<Early> out;
  for (const Pruned& r : pending_) {
    bool allowed = false;
    for (size_t i = 0; i < policies_.size() && !allowed; ++i) {
      const uint64_t end = i + 1 < policies_.size() ? policies_[i + 1].from_ns : now_ns;
      allowed = Allows(policies_[i], end, r);
    }
    if (!allowed) out.push_back({r.seq, Why(r, now_ns)});
  }
  pending_.clear();
  return out;
}

}  // namespace indelible::check
