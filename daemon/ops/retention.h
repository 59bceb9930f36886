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
// Each tenant's effective policy is recorded in its own chain
// (retention_policy.h) before anything of the tenant is pruned under it:
// once the gate is in place (EnableGate), a tenant keeps prune horizons only
// while its effective policy is the one last recorded in its chain, so a
// change not yet on record prunes nothing. Records of categories
// indelible.* are never pruned.
//
// Thread-safe: readers take an immutable snapshot; writers replace it.
#ifndef INDELIBLE_DAEMON_OPS_RETENTION_H_
#define INDELIBLE_DAEMON_OPS_RETENTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "verifier/chain/retention_policy.h"

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
    std::set<std::string, std::less<>> holds;
    std::set<std::string, std::less<>> purged;

    uint64_t RetentionSeconds(std::string_view tenant,
                              std::string_view category) const;
    // Tenant -> retention seconds -> the highest seq whose skeleton's
    // received_at had expired under that retention when it was computed
    // (0: none). Seqs above it, and tenants or retentions not listed, are
    // kept.
    std::map<std::string, std::map<uint64_t, uint64_t>, std::less<>> horizons;

    // The shortest retention any (tenant, category) has: an index entry
    // received less than this long ago has not expired, whoever's it is.
    uint64_t ShortestRetentionSeconds() const;
    // True if an index entry of `tenant` in `category`, received at
    // `received_at_ns`, may be dropped at `now_ns`.
    bool Expired(std::string_view tenant, std::string_view category,
                 uint64_t received_at_ns, uint64_t now_ns) const;
    // True if the body at `seq` of `tenant`, whose CE says `category`, may
    // be dropped: not under hold, and at or below the horizon of its
    // retention.
    bool BodyExpired(std::string_view tenant, std::string_view category,
                     uint64_t seq) const;
    // False if no body of `tenant` at `seq` may be dropped whatever its
    // category (above every horizon of the tenant, or under hold): the
    // compaction filter keeps it without reading the body.
    bool BodyMayExpire(std::string_view tenant, uint64_t seq) const;
    // Every retention, in seconds, that some category of `tenant` has.
    std::set<uint64_t> RetentionsOf(std::string_view tenant) const;

    // `tenant`'s effective policy: its default, every category with a
    // value of its own, the bounds and the legal hold.
    chain::RetentionPolicy PolicyOf(std::string_view tenant) const;
    // The policy gate (EnableGate): when on, horizons are kept only for
    // tenants whose PolicyOf text equals recorded[tenant], the text last
    // recorded in their chain.
    bool gated = false;
    std::map<std::string, std::string, std::less<>> recorded;
    bool PolicyRecorded(std::string_view tenant) const;
  };

  // A change of policy, recorded before it applies (retention_policy.h).
  struct PolicyChange {
    // Why, recorded with the policy: config.start, config.reload,
    // retention.set, legal_hold.place, legal_hold.lift, retention.compaction.
    std::string cause;
    // The change itself; may be empty (record what is in force).
    std::function<void(Snapshot*)> apply;
    enum class Scope {
      kRecorded,   // tenants whose policy is on record already
      kOneTenant,  // `tenant` only
      kAll,        // every tenant with a chain
    };
    Scope scope = Scope::kRecorded;
    std::string tenant;
  };
  // Records the policies `change` leads to where they differ from the ones
  // on record (see Scope), then applies it, whether or not they could be
  // recorded: the gate keeps a tenant whose policy is not on record from
  // losing anything. Returns the recording's status. Without a recorder
  // (SetPolicyRecorder), just applies.
  absl::Status RecordAndApply(const PolicyChange& change);
  // SetOverride and SetHold as changes of `tenant`'s policy, recorded first
  // (causes retention.set, legal_hold.place / legal_hold.lift); a policy
  // that cannot be recorded is logged, and the gate holds the tenant.
  void RecordOverride(const std::string& tenant, const std::string& category,
                      uint64_t seconds);
  void RecordHold(const std::string& tenant, bool held);
  using PolicyRecorderFn = std::function<absl::Status(const PolicyChange&)>;
  void SetPolicyRecorder(PolicyRecorderFn recorder);

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

  // Puts the gate in place, with the policy texts last recorded per tenant.
  void EnableGate(std::map<std::string, std::string, std::less<>> recorded);
  // Replaces the snapshot by f(copy of it); the gate applies.
  void Apply(const std::function<void(Snapshot*)>& f);
  // Held while a policy change is recorded and applied, and while horizons
  // are computed and set: horizons never mix a policy not yet applied with
  // a time after it was recorded.
  std::mutex& policy_mutex() const { return policy_mu_; }

 private:
  template <typename F>
  void Update(F f);

  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by mu_
  mutable std::mutex policy_mu_;
  PolicyRecorderFn recorder_;  // set once, before concurrent use
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_RETENTION_H_
