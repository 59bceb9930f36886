#include "daemon/ops/retention.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible {

absl::StatusOr<uint64_t> ParseRetentionDuration(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "retention \"", chain::Av(text), "\": want a number with d, h, m or s"));
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
  // Key rotation statements are what verifiers follow from the key they
  // trust to the one signing now: never pruned (docs/RETENTION.md).
  if (category == "indelible.key") return 36500 * kSecondsPerDay;
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

bool RetentionState::Snapshot::Expired(std::string_view tenant,
                                       std::string_view category,
                                       uint64_t received_at_ns,
                                       uint64_t now_ns) const {
  if (holds.count(std::string(tenant))) return false;
  const uint64_t keep_ns = RetentionSeconds(tenant, category) * 1000000000ull;
  return received_at_ns + keep_ns <= now_ns;
}

bool RetentionState::Snapshot::BodyExpired(std::string_view tenant,
                                           std::string_view category,
                                           uint64_t seq) const {
  if (holds.count(std::string(tenant))) return false;
  auto t = horizons.find(tenant);
  if (t == horizons.end()) return false;
  auto h = t->second.find(RetentionSeconds(tenant, category));
  return h != t->second.end() && seq <= h->second;
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
  snapshot_ = std::move(next);
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
