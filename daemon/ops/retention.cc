#include "daemon/ops/retention.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

void LogUnrecorded(const absl::Status& s, const std::string& tenant) {
  if (s.ok()) return;
  spdlog::error("event=retention_policy_not_recorded tenant={} status=\"{}\" message=\"nothing "
                "of the tenant is pruned until it is\"",
                tenant, s.ToString());
}

}  // namespace

absl::StatusOr<uint64_t> ParseRetentionDuration(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "retention \"", chain::ToAbsl(text), "\": want a number with d, h, m or s"));
  };
  if (text.empty()) return bad();
  uint64_t unit = 1;
  std::string_view num = text;
  switch (text.back()) {
    case 'd': unit = kSecondsPerDay; num.remove_suffix(1); break;
    case 'h': unit = 3600; num.remove_suffix(1); break;
    case 'm': unit = 60; num.remove_suffix(1); break;
    case 's': num.remove_suffix(1); break;
    default: break;
  }
  uint64_t n = 0;
  if (!chain::ParseDecimal(num, &n) || n > UINT64_MAX / unit / 1000000000) {
    return bad();
  }
  return n * unit;
}

std::string FormatRetentionDuration(uint64_t s) {
  if (s % kSecondsPerDay == 0) return absl::StrCat(s / kSecondsPerDay, "d");
  if (s % 3600 == 0) return absl::StrCat(s / 3600, "h");
  if (s % 60 == 0) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s, "s");
}

absl::Status ValidateRetentionConfig(const RetentionConfig& c) {
  if (c.min_seconds < kSecondsPerDay) {
    return absl::InvalidArgumentError("config: retention.min: at least 24h");
  }
  if (c.max_seconds < c.min_seconds) {
    return absl::InvalidArgumentError("config: retention.max: below retention.min");
  }
  auto check = [&](const std::string& name, uint64_t v) -> absl::Status {
    if (v < c.min_seconds || v > c.max_seconds) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", name, ": ", FormatRetentionDuration(v), " is outside [",
          FormatRetentionDuration(c.min_seconds), ", ",
          FormatRetentionDuration(c.max_seconds), "]"));
    }
    return absl::OkStatus();
  };
  if (auto s = check("retention.default", c.default_seconds); !s.ok()) return s;
  for (const auto& [cat, v] : c.categories) {
    if (auto s = check("retention.categories." + cat, v); !s.ok()) return s;
  }
  for (const auto& [tenant, cats] : c.tenants) {
    for (const auto& [cat, v] : cats) {
      if (auto s = check("retention.tenants." + tenant + "." + cat, v); !s.ok()) {
        return s;
      }
    }
  }
  if (c.compaction_interval_seconds == 0) {
    return absl::InvalidArgumentError(
        "config: retention.compaction_interval: must be positive");
  }
  return absl::OkStatus();
}

uint64_t RetentionState::Snapshot::RetentionSeconds(
    std::string_view tenant, std::string_view category) const {
  // The daemon's own records (policies, holds, approvals, reads, purges,
  // key rotations) are never pruned (docs/RETENTION.md).
  if (chain::IsNeverPruned(category)) return 36500 * kSecondsPerDay;
  const std::string t(tenant), c(category);
  if (auto it = overrides.find({t, c}); it != overrides.end()) return it->second;
  if (auto it = config.tenants.find(t); it != config.tenants.end()) {
    if (auto ct = it->second.find(c); ct != it->second.end()) return ct->second;
    if (auto star = it->second.find("*"); star != it->second.end()) {
      return star->second;
    }
  }
  if (auto it = config.categories.find(c); it != config.categories.end()) {
    return it->second;
  }
  return config.default_seconds;
}

uint64_t RetentionState::Snapshot::ShortestRetentionSeconds() const {
  // Every value RetentionSeconds can return, but the never-pruned
  // categories' (longer than any policy).
  uint64_t shortest = config.default_seconds;
  for (const auto& [category, seconds] : config.categories) shortest = std::min(shortest, seconds);
  for (const auto& [tenant, categories] : config.tenants) {
    for (const auto& [category, seconds] : categories) shortest = std::min(shortest, seconds);
  }
  for (const auto& [key, seconds] : overrides) shortest = std::min(shortest, seconds);
  return shortest;
}

bool RetentionState::Snapshot::Expired(std::string_view tenant,
                                       std::string_view category,
                                       uint64_t received_at_ns,
                                       uint64_t now_ns) const {
  if (holds.count(tenant)) return false;
  const uint64_t keep_ns = RetentionSeconds(tenant, category) * 1000000000ull;
  return received_at_ns + keep_ns <= now_ns;
}

bool RetentionState::Snapshot::BodyExpired(std::string_view tenant,
                                           std::string_view category,
                                           uint64_t seq) const {
  if (holds.count(tenant)) return false;
  auto t = horizons.find(tenant);
  if (t == horizons.end()) return false;
  auto h = t->second.find(RetentionSeconds(tenant, category));
  return h != t->second.end() && seq <= h->second;
}

bool RetentionState::Snapshot::BodyMayExpire(std::string_view tenant, uint64_t seq) const {
  if (holds.count(tenant)) return false;
  auto t = horizons.find(tenant);
  if (t == horizons.end()) return false;
  for (const auto& [seconds, horizon] : t->second) {
    if (seq <= horizon) return true;
  }
  return false;
}

std::set<uint64_t> RetentionState::Snapshot::RetentionsOf(
    std::string_view tenant) const {
  std::set<uint64_t> out = {config.default_seconds};
  for (const auto& [category, seconds] : config.categories) out.insert(seconds);
  if (auto it = config.tenants.find(std::string(tenant)); it != config.tenants.end()) {
    for (const auto& [category, seconds] : it->second) out.insert(seconds);
  }
  for (const auto& [key, seconds] : overrides) {
    if (key.first == tenant) out.insert(seconds);
  }
  return out;
}

chain::RetentionPolicy RetentionState::Snapshot::PolicyOf(std::string_view tenant) const {
  chain::RetentionPolicy p;
  p.tenant = std::string(tenant);
  p.default_seconds = config.default_seconds;
  p.min_seconds = config.min_seconds;
  p.max_seconds = config.max_seconds;
  p.legal_hold = holds.count(p.tenant) > 0;
  std::set<std::string> names;
  for (const auto& [category, seconds] : config.categories) names.insert(category);
  if (auto it = config.tenants.find(p.tenant); it != config.tenants.end()) {
    for (const auto& [category, seconds] : it->second) {
      if (category == "*") {
        p.default_seconds = seconds;
      } else {
        names.insert(category);
      }
    }
  }
  for (const auto& [key, seconds] : overrides) {
    if (key.first == tenant) names.insert(key.second);
  }
  for (const std::string& category : names) {
    if (!chain::IsNeverPruned(category)) {
      p.categories[category] = RetentionSeconds(tenant, category);
    }
  }
  return p;
}

bool RetentionState::Snapshot::PolicyRecorded(std::string_view tenant) const {
  auto it = recorded.find(tenant);
  return it != recorded.end() && it->second == chain::FormatRetentionPolicy(PolicyOf(tenant));
}

RetentionState::RetentionState(RetentionConfig config) {
  auto s = std::make_shared<Snapshot>();
  s->config = std::move(config);
  snapshot_ = std::move(s);
}

std::shared_ptr<const RetentionState::Snapshot> RetentionState::Get() const {
  std::lock_guard<std::mutex> l(mu_);
  return snapshot_;
}

template <typename F>
void RetentionState::Update(F f) {
  std::lock_guard<std::mutex> l(mu_);
  auto next = std::make_shared<Snapshot>(*snapshot_);
  f(next.get());
  if (next->gated) {
    for (auto it = next->horizons.begin(); it != next->horizons.end();) {
      it = next->PolicyRecorded(it->first) ? std::next(it) : next->horizons.erase(it);
    }
  }
  snapshot_ = std::move(next);
}

void RetentionState::EnableGate(std::map<std::string, std::string, std::less<>> recorded) {
  Update([&](Snapshot* s) {
    s->gated = true;
    s->recorded = std::move(recorded);
  });
}

void RetentionState::Apply(const std::function<void(Snapshot*)>& f) { Update(f); }

void RetentionState::SetPolicyRecorder(PolicyRecorderFn recorder) {
  recorder_ = std::move(recorder);
}

absl::Status RetentionState::RecordAndApply(const PolicyChange& change) {
  if (recorder_) return recorder_(change);
  if (change.apply) Update(change.apply);
  return absl::OkStatus();
}

void RetentionState::SetOverride(const std::string& tenant,
                                 const std::string& category, uint64_t seconds) {
  Update([&](Snapshot* s) { s->overrides[{tenant, category}] = seconds; });
}

void RetentionState::SetHold(const std::string& tenant, bool held) {
  Update([&](Snapshot* s) {
    if (held) {
      s->holds.insert(tenant);
    } else {
      s->holds.erase(tenant);
    }
  });
}

void RetentionState::RecordOverride(const std::string& tenant, const std::string& category,
                                    uint64_t seconds) {
  LogUnrecorded(RecordAndApply({.cause = "retention.set",
                                .apply = [&](Snapshot* s) {
                                  s->overrides[{tenant, category}] = seconds;
                                },
                                .scope = PolicyChange::Scope::kOneTenant,
                                .tenant = tenant}),
                tenant);
}

void RetentionState::RecordHold(const std::string& tenant, bool held) {
  LogUnrecorded(RecordAndApply({.cause = held ? "legal_hold.place" : "legal_hold.lift",
                                .apply =
                                    [&](Snapshot* s) {
                                      if (held) {
                                        s->holds.insert(tenant);
                                      } else {
                                        s->holds.erase(tenant);
                                      }
                                    },
                                .scope = PolicyChange::Scope::kOneTenant,
                                .tenant = tenant}),
                tenant);
}

void RetentionState::SetConfig(RetentionConfig config) {
  Update([&](Snapshot* s) { s->config = std::move(config); });
}

void RetentionState::AddPurged(const std::string& tenant) {
  Update([&](Snapshot* s) { s->purged.insert(tenant); });
}

void RetentionState::SetHorizons(Horizons horizons) {
  Update([&](Snapshot* s) { s->horizons = std::move(horizons); });
}

}  // namespace indelible
