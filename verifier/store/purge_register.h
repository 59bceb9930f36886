// The purge register: beside the backups, "<backup.dir>/purged/<tenant>.cert"
// holds the deletion certificate of every tenant purged while backups were
// configured. The daemon writes it at each purge (before answering), so a
// backup taken earlier, which still holds the tenant's content, never brings
// the tenant back: restoring any backup of that directory applies the
// register to the restored copy (the register wins over the backup).
//
// Thread-safe: functions on paths the caller owns; ApplyPurgeRegister needs
// the restored store closed (it opens it read-write).
#ifndef INDELIBLE_VERIFIER_STORE_PURGE_REGISTER_H_
#define INDELIBLE_VERIFIER_STORE_PURGE_REGISTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/note.h"

namespace indelible::store {

inline constexpr char kPurgeRegisterDir[] = "purged";
inline constexpr char kPurgeRegisterSuffix[] = ".cert";

// Writes `certificate` to <backup_dir>/purged/<tenant>.cert (a temporary
// file synced, renamed, the directory synced). An existing entry is kept.
absl::Status RegisterPurge(const std::string& backup_dir, const std::string& tenant,
                           const std::string& certificate);

// Applies the register of `backup_dir` to the store at `data_dir` (a copy
// just restored from a backup in it): for each certificate there whose
// tenant the store does not list as purged, deletes the tenant's bodies and
// event ids, stores the certificate as its purge ("purged/<tenant>"), and
// compacts so the content is gone from the files; the event ids of purges
// the store marks as unfinished (store::kPurgingEventIdsPrefix: a backup
// taken while the daemon was deleting them) go too. Each certificate must
// verify under `keys` or a key of the store's own key history, else
// FailedPrecondition naming the file (nothing applied). Returns the tenants
// it purged. No register: nothing to do.
absl::StatusOr<std::vector<std::string>> ApplyPurgeRegister(
    const std::string& backup_dir, const std::string& data_dir,
    const std::vector<chain::NoteVerifierKey>& keys);

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_PURGE_REGISTER_H_
