// The daemon's own records (reads, admin actions, configuration changes, key
// rotations, backups) are built here as chain fields, never as wire events,
// and checked and encoded by PrepareFields (ingest.h) like any event.
//
// DaemonRecorder: appends such records to many tenants' chains in one
// atomic, synced write, and waits until they are durable. The caller can add rows to the same WriteBatch, so
// a record and the state it describes are stored together or not at all.
//
// Thread-safe. Must not be called from a Sequencer callback (it waits for
// one). REQUIRES: the sequencer, storage and clock outlive the recorder.
#ifndef INDELIBLE_DAEMON_GOVERNANCE_DAEMON_RECORDS_H_
#define INDELIBLE_DAEMON_GOVERNANCE_DAEMON_RECORDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/security/auth.h"
#include "daemon/clock.h"
#include "daemon/write/ingest.h"
#include "daemon/write/sequencer.h"
#include "verifier/chain/event.h"

namespace indelible {

class DaemonRecorder {
 public:
  DaemonRecorder(Sequencer* sequencer, Storage* storage, Clock* clock, IngestLimits limits)
      : sequencer_(sequencer), storage_(storage), clock_(clock), limits_(limits) {}

  // Tenants whose chains can take a record now: those with records, less
  // purged and quarantined ones (those are logged, since they miss it).
  std::vector<std::string> RecordableTenants(const char* what) const;

  // Validates and appends `events` (event ids are drawn here) together with
  // `extra`, all or nothing. An empty `events` still writes `extra`.
  absl::StatusOr<std::vector<Receipt>> Append(std::vector<chain::EventFields> events,
                                              Sequencer::Extra extra) const;

 private:
  Sequencer* const sequencer_;
  Storage* const storage_;
  Clock* const clock_;
  const IngestLimits limits_;
};

// The common fields of a record about what `who` did: event id
// `event_id_prefix` + 32 random hex digits, actor `who.name` of type
// "principal", `action`, source "indelibled", `category`, and metadata
// auth_method and peer. occurred_at is left 0 (the time it is prepared).
absl::StatusOr<chain::EventFields> DaemonRecordFields(const std::string& tenant,
                                                      const std::string& event_id_prefix,
                                                      const Principal& who,
                                                      const std::string& action,
                                                      const std::string& category);

// Records in every recordable tenant's chain, before a backup named `name`
// is taken, that `who` read the whole store for `reason`: category
// indelible.access, action "store.backup". `actor_type` is "principal" for a
// caller, "daemon" for a scheduled backup.
absl::Status RecordBackup(const DaemonRecorder& recorder, const Principal& who,
                          const std::string& actor_type, const std::string& reason,
                          const std::string& name);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_GOVERNANCE_DAEMON_RECORDS_H_
