// Restore: a backup (backup_layout.h) copied into a new data directory,
// offline (no daemon involved), for `indelible-verify restore`
// (docs/OPERATIONS.md, "Restore").
//
// `from` must be a finished backup (its manifest present and of a known
// format); `data_dir` must not exist or be an empty directory, else nothing
// is written (FailedPrecondition: a non-empty directory may be a live
// daemon's; NotFound: no such backup). The RocksDB files are copied and
// synced (never the manifest, the public keys or a private key an earlier
// version left in a backup), the copy is opened as every reader opens a
// store (reader.h) and its heads compared with the manifest's; on any
// failure what was copied is removed again (DataLoss: the copy does not
// match the manifest, i.e. the backup is damaged; ResourceExhausted or
// Internal: the copy failed).
#ifndef INDELIBLE_VERIFIER_STORE_RESTORE_H_
#define INDELIBLE_VERIFIER_STORE_RESTORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace indelible::store {

struct RestoreResult {
  std::string backup;        // the manifest's name
  std::string created_at;    // the manifest's created_at (RFC 3339)
  std::string verifier_key;  // the key the backup's checkpoints verify under
  uint64_t tenants = 0;
  uint64_t files = 0;        // copied into the data directory
  // The backup holds a private key (written by an earlier version); it was
  // not copied.
  bool private_key_left_out = false;
  // Tenants the purge register beside the backup (purge_register.h)
  // purged in the copy: the register wins over the backup's content.
  std::vector<std::string> purged_from_register;
};

absl::StatusOr<RestoreResult> RestoreBackup(const std::string& from,
                                            const std::string& data_dir);

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_RESTORE_H_
