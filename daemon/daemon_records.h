// DaemonRecorder: appends the daemon's own records (configuration changes,
// backups) to many tenants' chains in one atomic, synced write, and waits
// until they are durable. The caller can add rows to the same WriteBatch, so
// a record and the state it describes are stored together or not at all.
//
// Thread-safe. Must not be called from a Sequencer callback (it waits for
// one). REQUIRES: the sequencer, storage and clock outlive the recorder.
#ifndef INDELIBLE_DAEMON_DAEMON_RECORDS_H_
#define INDELIBLE_DAEMON_DAEMON_RECORDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/auth.h"
#include "daemon/clock.h"
#include "daemon/ingest.h"
#include "daemon/sequencer.h"
#include "indelible/v1/indelible.pb.h"

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
  absl::StatusOr<std::vector<Receipt>> Append(std::vector<v1::Event> events,
                                              Sequencer::Extra extra) const;

 private:
  Sequencer* const sequencer_;
  Storage* const storage_;
  Clock* const clock_;
  const IngestLimits limits_;
};

// Records in every recordable tenant's chain, before a backup named `name`
// is taken, that `who` read the whole store for `reason`: category
// indelible.access, action "store.backup". `actor_type` is "principal" for a
// caller, "daemon" for a scheduled backup.
absl::Status RecordBackup(const DaemonRecorder& recorder, const Principal& who,
                          const std::string& actor_type, const std::string& reason,
                          const std::string& name);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_DAEMON_RECORDS_H_
