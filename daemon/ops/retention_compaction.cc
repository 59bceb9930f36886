#include "daemon/ops/retention_compaction.h"

#include "daemon/ops/retention_policy.h"
#include "spdlog/spdlog.h"

namespace indelible {
namespace {

constexpr uint64_t kNanosPerSecond = 1000000000ull;

// The highest seq in [0, head_seq] whose received_at <= cutoff_ns (0 if
// none), by binary search over non-decreasing times.
absl::StatusOr<uint64_t> Horizon(Storage* storage, const std::string& tenant,
                                 uint64_t head_seq, uint64_t cutoff_ns) {
  uint64_t lo = 0, hi = head_seq + 1;  // lo has expired (or is 0), hi not
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    auto sk = storage->GetSkeleton(tenant, mid);
    if (!sk.ok()) return sk.status();
    if (sk->received_at_ns <= cutoff_ns) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace

absl::Status UpdateRetentionHorizons(Storage* storage, RetentionState* state,
                                     uint64_t now_ns) {
  // No policy change is recorded and applied while horizons are computed.
  std::lock_guard<std::mutex> policy(state->policy_mutex());
  auto heads = storage->LoadHeads();
  if (!heads.ok()) return heads.status();
  const auto snapshot = state->Get();
  RetentionState::Horizons horizons;
  for (const auto& [tenant, head] : *heads) {
    // A tenant whose policy is not on record in its chain loses nothing.
    if (snapshot->gated && !snapshot->PolicyRecorded(tenant)) continue;
    std::map<uint64_t, uint64_t> mine;
    absl::Status failed;
    for (uint64_t seconds : snapshot->RetentionsOf(tenant)) {
      const uint64_t keep_ns = seconds * kNanosPerSecond;
      if (keep_ns > now_ns) {
        mine[seconds] = 0;
        continue;
      }
      auto h = Horizon(storage, tenant, head.seq, now_ns - keep_ns);
      if (!h.ok()) {
        failed = h.status();
        break;
      }
      mine[seconds] = *h;
    }
    if (!failed.ok()) {
      spdlog::warn("event=retention_horizon_failed tenant={} status=\"{}\"",
                   tenant, failed.ToString());
      auto old = snapshot->horizons.find(tenant);
      if (old != snapshot->horizons.end()) horizons.emplace(tenant, old->second);
      continue;
    }
    horizons.emplace(tenant, std::move(mine));
  }
  state->SetHorizons(std::move(horizons));
  return absl::OkStatus();
}

absl::Status CompactForRetention(Storage* storage, RetentionState* state,
                                 uint64_t now_ns) {
  if (auto s = RecordPendingPolicies(state); !s.ok()) {
    spdlog::error("event=retention_policy_not_recorded cause=retention.compaction "
                  "status=\"{}\" message=\"nothing of the tenants concerned is pruned until "
                  "it is\"",
                  s.ToString());
  }
  if (auto s = UpdateRetentionHorizons(storage, state, now_ns); !s.ok()) return s;
  return storage->CompactForRetention();
}

}  // namespace indelible
