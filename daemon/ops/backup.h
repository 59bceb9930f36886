// Backuper: consistent point-in-time backups of the running daemon's store
// (docs/OPERATIONS.md, "Backup and restore").
//
// The daemon holds the only read-write handle on its data directory, so
// backups are taken by the daemon itself: a RocksDB Checkpoint (hard links
// to the immutable table files when the backup directory is on the same
// filesystem, copies otherwise, plus the WAL up to one sequence number) into
// <dir>/.tmp-<name>. Every WriteBatch is in the checkpoint entirely or not
// at all, so each chain in it ends at a head its records agree with. The
// copy is then opened as every reader opens a store (store::Reader), its
// heads and newest checkpoints are read back, the public key files and the
// manifest (never a private key) (verifier/store/backup_layout.h) are written and synced, and the
// directory is renamed to <dir>/<name>. A crash leaves only .tmp-
// directories, which the next backup removes. Appends continue throughout.
//
// After each backup, retention (backup_retention.h) removes old backups,
// judged on the daemon's Clock; with an interval, backups are also taken on
// a schedule of that clock, checked every `poll` of real time.
//
// Thread-safe: Create() calls are serialised. REQUIRES: pointers outlive
// the Backuper.
#ifndef INDELIBLE_DAEMON_OPS_BACKUP_H_
#define INDELIBLE_DAEMON_OPS_BACKUP_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/ops/backup_retention.h"
#include "daemon/trust/checkpointer.h"
#include "daemon/clock.h"
#include "daemon/trust/log_signer.h"
#include "daemon/periodic_task.h"
#include "daemon/write/storage.h"
#include "verifier/chain/note.h"
#include "verifier/store/layout.h"

namespace indelible {

struct BackupOptions {
  // Where backups go; empty: backups are off (Admin.Backup answers
  // FAILED_PRECONDITION). Best on the data directory's filesystem (hard
  // links), never inside the data directory.
  std::string dir;
  BackupRetention retention;
  // Take a backup every this many seconds of the daemon's clock; 0: only on
  // request.
  uint64_t interval_seconds = 0;
};

struct BackupHeadInfo {
  std::string tenant;
  store::Head head;
  uint64_t checkpoint_seq = 0;  // newest signed checkpoint; 0: none
};

struct BackupResult {
  std::string path;  // absolute
  std::string name;
  uint64_t created_at_ns = 0;
  std::vector<BackupHeadInfo> heads;
  uint64_t files = 0;
  uint64_t size_bytes = 0;
  std::vector<std::string> pruned;
};

class Backuper {
 public:
  // Records, before anything is copied, that the backup `name` is about to
  // read the whole store (daemon_records.h). A backup whose record fails is
  // not taken.
  using Recorder = std::function<absl::Status(const std::string& name)>;

  struct Deps {
    Storage* storage = nullptr;
    Checkpointer* checkpointer = nullptr;  // may be null (no fresh checkpoint)
    Clock* clock = nullptr;
    // Its public key goes into each backup; no private key ever does.
    const LogSigner* signer = nullptr;
    std::string data_dir;
    // Records the scheduled backups; null: they are not recorded.
    Recorder record_scheduled;
  };

  Backuper(Deps deps, BackupOptions options,
           std::chrono::milliseconds poll = std::chrono::seconds(1));
  ~Backuper();  // Stop()

  bool enabled() const { return !options_.dir.empty(); }
  const std::string& dir() const { return options_.dir; }

  // Takes a backup, then applies retention. FailedPrecondition if backups
  // are off; InvalidArgument for a bad label. `record` (if set) runs first,
  // with the backup's name; its error is returned and no backup is taken.
  // A failed retention is logged, not returned: the backup itself succeeded.
  absl::StatusOr<BackupResult> Create(std::string_view label,
                                      const Recorder& record = nullptr);

  // Removes the backups retention selects (never `keep`, never the newest).
  // Returns their names.
  absl::StatusOr<std::vector<std::string>> Prune(std::string_view keep);

  // For metrics: backups taken and failed since start, and the daemon-clock
  // time of the last one taken (0: none yet).
  uint64_t succeeded() const { return succeeded_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  uint64_t last_success_ns() const { return last_success_ns_.load(std::memory_order_relaxed); }

  // The scheduled backups (a no-op unless enabled and interval_seconds > 0).
  void Start();
  void Stop();

 private:
  // The schedule continues from the newest backup, across restarts.
  void ResumeSchedule();
  absl::StatusOr<BackupResult> CreateLocked(std::string_view label, const Recorder& record);
  absl::StatusOr<std::vector<std::string>> PruneLocked(std::string_view keep);
  // Finished backups in dir, by name.
  std::vector<BackupEntry> ListBackups();

  const Deps deps_;
  const BackupOptions options_;
  const std::chrono::milliseconds poll_;
  std::mutex create_mu_;  // serialises Create and Prune
  std::atomic<uint64_t> succeeded_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> last_success_ns_{0};

  ClockSchedule schedule_;  // used on task_'s thread
  // Wakes every poll; takes a backup when interval_seconds have passed on
  // the clock since the newest one.
  PeriodicTask task_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_BACKUP_H_
