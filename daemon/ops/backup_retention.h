// Naming and retention of backups (docs/OPERATIONS.md, "Backup and
// restore"). Pure functions of names and times, so retention is tested with
// a fake clock and no files.
//
// A finished backup is a directory <backup.dir>/<name> where name is
// "<UTC time as YYYYMMDDTHHMMSSZ>" optionally followed by "-<label>" and, if
// that name was taken, "-<n>". The time in the name is the daemon's clock
// when the backup was taken, and is what retention judges: copying or
// touching a backup does not change its age.
#ifndef INDELIBLE_DAEMON_OPS_BACKUP_RETENTION_H_
#define INDELIBLE_DAEMON_OPS_BACKUP_RETENTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace indelible {

// The name of a backup taken at `now_ns` (ns since the Unix epoch, UTC).
std::string BackupName(uint64_t now_ns, std::string_view label);

// The time in a backup's name (whole seconds, as ns), or nullopt if `name`
// does not start with one.
std::optional<uint64_t> ParseBackupTime(std::string_view name);

// Whether `label` may be used in a name: [a-z0-9._-]{0,64}.
bool IsValidBackupLabel(std::string_view label);

struct BackupRetention {
  // Backups older than this many days are removed; 0 keeps them regardless
  // of age.
  uint64_t keep_days = 14;
  // At most this many backups are kept (the newest); 0 = no limit.
  uint64_t keep_count = 0;
};

struct BackupEntry {
  std::string name;
  uint64_t time_ns = 0;  // ParseBackupTime(name)
};

// The names among `backups` that retention removes at `now_ns`: those older
// than keep_days and those beyond the newest keep_count. The newest backup
// (by time, then name) is never selected, whatever the settings, nor is
// `keep` (the backup just taken, in case the clock went backwards).
std::vector<std::string> SelectBackupsToPrune(std::vector<BackupEntry> backups,
                                              uint64_t now_ns,
                                              const BackupRetention& retention,
                                              std::string_view keep = {});

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_BACKUP_RETENTION_H_
