// Configuration changes on record (docs/SECURITY.md, "Configuration
// changes"): at start-up and on SIGHUP, the governed settings of the new
// configuration (config_governance.h) are compared with those the store last
// applied. Each difference is appended to the chains it concerns (one
// tenant's, or every tenant's) as an indelible.admin event with the old and
// the new value, in one synced write with the new settings on record, and
// only then applied. A change that cannot be recorded is not applied. A
// change that weakens the two-person rule, read recording or retention is
// refused on SIGHUP, and at start-up unless the operator passes
// --accept-weaker-config (then it is recorded as accepted).
#ifndef INDELIBLE_DAEMON_GOVERNANCE_CONFIG_RELOAD_H_
#define INDELIBLE_DAEMON_GOVERNANCE_CONFIG_RELOAD_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "daemon/security/auth.h"
#include "daemon/governance/config.h"
#include "daemon/governance/config_governance.h"
#include "daemon/governance/daemon_records.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/retention.h"
#include "daemon/write/storage.h"

namespace indelible {

// How a change reached the daemon: recorded as the event's action.
inline constexpr char kConfigStartAction[] = "config.start";
inline constexpr char kConfigReloadAction[] = "config.reload";

// Compares `next` with the settings on record in `storage` and records the
// differences (see above) with `next` as the new settings on record.
// FailedPrecondition listing the weakening changes (nothing is recorded)
// unless `accept_weaker` or no tenant has a chain yet (nothing stored can be
// weakened); other errors if the records cannot be stored.
// *changes (if set) gets how many settings changed.
absl::Status CommitSettings(Storage* storage, const DaemonRecorder& recorder,
                            const GovernedSettings& next, const std::string& action,
                            bool accept_weaker, size_t* changes = nullptr);

// SIGHUP. Thread-compatible: Reload() runs on the daemon's main thread.
class ConfigReloader {
 public:
  struct Deps {
    std::string config_path;  // empty: started without --config
    Authorizer* authorizer = nullptr;
    RetentionState* retention = nullptr;
    Storage* storage = nullptr;
    const DaemonRecorder* recorder = nullptr;
  };
  // `current`: the configuration running now. REQUIRES: Deps outlive this.
  ConfigReloader(Deps deps, DaemonConfig current);

  // Re-reads the file. log_level, auth (but not auth.enabled) and retention
  // apply once their changes are recorded; other keys wait for a restart.
  // Any error leaves the running configuration as it was (and is logged).
  absl::Status Reload();

  // indelible_config_reloads_total{outcome="applied|refused|failed"}.
  void AddMetrics(Metrics* metrics) const;

 private:
  const Deps d_;
  DaemonConfig current_;
  std::atomic<uint64_t> applied_{0}, refused_{0}, failed_{0};
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_GOVERNANCE_CONFIG_RELOAD_H_
