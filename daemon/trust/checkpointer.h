// Checkpointer: signs a checkpoint (docs/FORMAT.md) for every tenant whose
// chain grew since its last checkpoint, at least once per interval of
// activity, and keeps them all (the history, not only the newest): a v1
// checkpoint of the chain in the checkpoints column family and a v2
// (tlog-checkpoint) checkpoint of the Merkle tree, root read from the
// stored tree, in checkpoints_v2. Both are signed together, from the v2
// checkpoint, by the LogSigner (log_signer.h): with indelible-signer, each
// goes with the consistency proof from the size the signer last signed, and
// a refusal leaves the tenant without a new checkpoint (logged as an error
// naming the tenant and counted), never blocking appends.
//
// Thread-safe: RunOnce() may be called from tests while no thread runs; the
// background thread is started by Start() and ended by Stop(), which signs a
// final round so a clean shutdown leaves every head checkpointed.
#ifndef INDELIBLE_DAEMON_TRUST_CHECKPOINTER_H_
#define INDELIBLE_DAEMON_TRUST_CHECKPOINTER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "daemon/clock.h"
#include "daemon/trust/log_signer.h"
#include "daemon/periodic_task.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "verifier/chain/note.h"

namespace indelible {

class Checkpointer {
 public:
  struct Options {
    std::chrono::milliseconds interval{1000};
    // The origin of v2 checkpoints is "<log_name>/<tenant>".
    // REQUIRES: chain::IsValidLogName(log_name).
    std::string log_name = "indelible.local";
    // Run (once per start) before a tenant's first checkpoint, to append
    // what its chain must carry before anything is signed for it: the key
    // rotation statements (key_rotation.h, KeyHistoryRecorder). A failure
    // is logged and the tenant waits for the next round. Empty: nothing.
    std::function<absl::Status(const std::string& tenant)> before_first;
    // A round stores its signed checkpoints in one synced write per this
    // many tenants, and at once when the signer fails or a round has held
    // them for `interval`.
    size_t tenants_per_write = 1024;
  };

  // REQUIRES: all pointers outlive the checkpointer.
  Checkpointer(Storage* storage, Sequencer* sequencer, Clock* clock,
               LogSigner* signer, Options options);
  ~Checkpointer();  // Calls Stop().

  // Records the signer's key in the store's key history and learns the last
  // checkpointed seq of each tenant. Does not start a thread.
  absl::Status Init();
  // Starts the background thread. REQUIRES: Init() succeeded.
  void Start();
  // Stops the thread after a final round. Idempotent.
  void Stop();

  // Signs and stores a checkpoint for each tenant whose head moved, the
  // round's in one synced write (Options::tenants_per_write). A tenant
  // the signer refuses or cannot sign for is logged, counted and skipped; a
  // storage error ends the round and is returned (tenants after it, and
  // those signed but not stored, are signed again on the next round).
  absl::Status RunOnce();

  // The deletion certificate (version 2) of `tenant` at `head` (its final
  // head) naming `approvers`, signed with the v2 checkpoint of that head as
  // its proof of consistency. That v2 checkpoint (and the v1 one) is stored
  // like any other, so witnessing sends it: the purged tenant's final one.
  absl::StatusOr<std::string> SignDeletion(const std::string& tenant, const store::Head& head,
                                           const std::vector<std::string>& approvers);

  // Checkpoints the signer refused (not a consistent extension) and could
  // not sign (unreachable, failing), since start.
  uint64_t refused() const { return refused_.load(); }
  uint64_t unavailable() const { return unavailable_.load(); }

  // Each tenant's newest checkpoint timestamp (ns, the daemon's clock).
  std::vector<std::pair<std::string, uint64_t>> LastCheckpointTimes();

 private:
  Storage* const storage_;
  Sequencer* const sequencer_;
  Clock* const clock_;
  LogSigner* const signer_;
  const Options options_;

  // Signs the checkpoints of `head`, timed no earlier than the head or the
  // tenant's previous checkpoints. Sets *signer_failed if the error is
  // the signer's (then logged and counted). REQUIRES: run_mu_ held.
  absl::StatusOr<std::pair<chain::CheckpointV2, SignedCheckpoint>> SignHead(
      const std::string& tenant, const store::Head& head,
      const std::vector<std::string>* deletion, bool* signer_failed);
  // Runs options_.before_first for a tenant never checkpointed, once; false
  // (logged) if it failed. Sets *head to the tenant's head after it.
  // REQUIRES: run_mu_ held.
  bool Preface(const std::string& tenant, store::Head* head);
  // A tenant's signed checkpoints waiting to be stored, with their time.
  struct Staged {
    Storage::CheckpointNotes notes;
    uint64_t timestamp_ns = 0;
  };
  // Adds the signed checkpoints of `cp` that are newer than the tenant's
  // last stored ones to *staged. REQUIRES: run_mu_ held.
  void Stage(const std::string& tenant, const chain::CheckpointV2& cp,
             const SignedCheckpoint& notes, std::vector<Staged>* staged);
  // Stores *staged in one synced write, then makes them the tenants' last
  // checkpoints; empties *staged either way. REQUIRES: run_mu_ held.
  absl::Status StoreStaged(std::vector<Staged>* staged);
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> unavailable_{0};

  std::mutex run_mu_;  // serialises RunOnce
  struct Last {
    uint64_t seq = 0;
    uint64_t timestamp_ns = 0;
  };
  // The newest checkpoint of each tenant; guarded by run_mu_.
  std::unordered_map<std::string, Last> last_;
  std::unordered_map<std::string, Last> last_v2_;
  // Tenants options_.before_first ran for; guarded by run_mu_.
  std::unordered_set<std::string> prefaced_;

  // Runs RunOnce every interval, and once more when stopped.
  PeriodicTask task_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_TRUST_CHECKPOINTER_H_
