// Retention: how long each (tenant, category)'s bodies are kept, legal holds,
// and purged tenants — the state the compaction filters (retention_filter.h)
// and the sequencer consult.
//
// A body expires when received_at + retention(tenant, category) <= now,
// where received_at is the skeleton's (hashed) one: the copy stored with the
// body is not trusted. The scheduled compaction turns the skeletons' times
// into a prune horizon per (tenant, retention) (retention_compaction.h) and
// the body filter prunes a body only at or below it.
// Retention is, in order of precedence: a runtime override for (tenant,
// category) (admin RPC, persisted), a configured per-tenant value for the
// category, a configured per-tenant "*" value, the configured value for the
// category (access 365 d, trace 90 d), the configured default (365 d).
// Every value lies in [min, max] (24 h, 10 years by default). A tenant under
// legal hold loses nothing. Changes apply to data already stored: filters
// read the state when a compaction starts.
//
// Thread-safe: readers take an immutable snapshot; writers replace it.
#ifndef INDELIBLE_DAEMON_OPS_RETENTION_H_
#define INDELIBLE_DAEMON_OPS_RETENTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace indelible {

inline constexpr uint64_t kSecondsPerDay = 86400;

struct RetentionConfig {
  // Category -> seconds; categories not listed use default_seconds.
  std::map<std::string, uint64_t> categories = {{"access", 365 * kSecondsPerDay},
                                                {"trace", 90 * kSecondsPerDay}};
  uint64_t default_seconds = 365 * kSecondsPerDay;
  uint64_t min_seconds = kSecondsPerDay;
  uint64_t max_seconds = 3650 * kSecondsPerDay;
  // Tenant -> category (or "*") -> seconds.
  std::map<std::string, std::map<std::string, uint64_t>> tenants;
  // How often the scheduled compaction runs: the most time an expired body
  // can linger on disk (plus the compaction's own duration).
  uint64_t compaction_interval_seconds = kSecondsPerDay;
};

// "365d", "90d", "24h", "30m", "3600s" (or plain seconds). InvalidArgument
// naming the text otherwise.
absl::StatusOr<uint64_t> ParseRetentionDuration(std::string_view text);
std::string FormatRetentionDuration(uint64_t seconds);

// Checks every configured value against [min, max]; the error names it.
absl::Status ValidateRetentionConfig(const RetentionConfig& config);

class RetentionState {
 public:
  struct Snapshot {
    RetentionConfig config;
    std::map<std::pair<std::string, std::string>, uint64_t> overrides;
    std::set<std::string> holds;
    std::set<std::string> purged;

    uint64_t RetentionSeconds(std::string_view tenant,
                              std::string_view category) const;
    // Tenant -> retention seconds -> the highest seq whose skeleton's
    // received_at had expired under that retention when it was computed
    // (0: none). Seqs above it, and tenants or retentions not listed, are
    // kept.
    std::map<std::string, std::map<uint64_t, uint64_t>, std::less<>> horizons;

    // True if an index entry of `tenant` in `category`, received at
    // `received_at_ns`, may be dropped at `now_ns`.
    bool Expired(std::string_view tenant, std::string_view category,
                 uint64_t received_at_ns, uint64_t now_ns) const;
    // True if the body at `seq` of `tenant`, whose CE says `category`, may
    // be dropped: not under hold, and at or below the horizon of its
    // retention.
    bool BodyExpired(std::string_view tenant, std::string_view category,
                     uint64_t seq) const;
    // Every retention, in seconds, that some category of `tenant` has.
    std::set<uint64_t> RetentionsOf(std::string_view tenant) const;
  };

  explicit RetentionState(RetentionConfig config);

  std::shared_ptr<const Snapshot> Get() const;
  // REQUIRES: seconds within [min, max] (the caller validated).
  void SetOverride(const std::string& tenant, const std::string& category,
                   uint64_t seconds);
  void SetHold(const std::string& tenant, bool held);
  void AddPurged(const std::string& tenant);
  // Replaces the prune horizons (Snapshot::horizons).
  using Horizons = std::map<std::string, std::map<uint64_t, uint64_t>, std::less<>>;
  void SetHorizons(Horizons horizons);
  // Replaces the configured policies (SIGHUP); overrides, holds and purges
  // stay. REQUIRES: ValidateRetentionConfig(config) is OK.
  void SetConfig(RetentionConfig config);

 private:
  template <typename F>
  void Update(F f);

  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by mu_
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_RETENTION_H_
