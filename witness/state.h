// The durable state of a party that signs only consistent extensions (the
// witness, for what it cosigned; indelible-signer, for what it signed): for
// each origin, the size and root of the newest checkpoint. One file per
// origin under <dir>/origins, named by the hex SHA-256 of the origin:
//
//   indelible-<kind>-state/v1\n        kind: "witness" or "signer"
//   <origin>\n
//   <size>\n                 decimal
//   <base64(root)>\n
//
// Put writes a temporary file, fsyncs it, renames it over the old one and
// fsyncs the directory before it returns, so after a crash (kill -9, power
// loss) a file holds either the old or the new state, never a mix. A
// flock on <dir>/LOCK keeps a second process out.
//
// Thread-safe. Callers serialize read-check-write of one origin with
// OriginMutex (different origins proceed in parallel).
#ifndef INDELIBLE_WITNESS_STATE_H_
#define INDELIBLE_WITNESS_STATE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/hash.h"

namespace indelible::witness {

struct OriginState {
  uint64_t size = 0;
  chain::Digest root{};

  bool operator==(const OriginState&) const = default;
};

class StateStore {
 public:
  // Creates the directory (mode 0700) if missing, locks it and loads every
  // state file; leftover temporary files of an interrupted Put are removed.
  // FailedPrecondition if another process holds the lock; DataLoss naming
  // the file if a state file is damaged; Internal on I/O errors.
  // `kind` names the owner in the files' first line and in errors.
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& dir,
                                                         const std::string& kind = "witness");
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // The mutex that serializes checks and updates of one origin. The
  // reference stays valid for the store's lifetime.
  std::mutex& OriginMutex(const std::string& origin);

  // The last state Put for `origin`, if any.
  std::optional<OriginState> Get(const std::string& origin) const;

  // Makes `state` the durable state of `origin`, then the one Get returns.
  // FailedPrecondition if it is smaller than the current state (the store
  // never goes backwards); Internal if it cannot be made durable (Get then
  // still returns the old state).
  absl::Status Put(const std::string& origin, const OriginState& state);

  // Every origin and its state, sorted by origin.
  std::vector<std::pair<std::string, OriginState>> Snapshot() const;

  const std::string& dir() const { return dir_; }
  // True while the newest Put could not make its state durable (cleared by
  // the next one that can), and for good once a Put failed after its
  // rename (the disk state is then uncertain; every later Put fails until
  // the process restarts). A Put refused as going backwards is no failure.
  bool failed() const { return failed_.load() || last_failed_.load(); }

 private:
  StateStore(std::string dir, std::string kind, int lock_fd)
      : dir_(std::move(dir)), kind_(std::move(kind)), lock_fd_(lock_fd) {}
  absl::Status Load();

  const std::string dir_;
  const std::string kind_;
  const int lock_fd_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> last_failed_{false};
  mutable std::mutex mu_;  // guards states_ and origin_mutexes_
  std::map<std::string, OriginState> states_;
  std::map<std::string, std::unique_ptr<std::mutex>> origin_mutexes_;
};

// The text of a state file, and its parser (DataLoss if malformed).
std::string StateFileText(const std::string& origin, const OriginState& state,
                          const std::string& kind = "witness");
absl::Status ParseStateFile(std::string_view text, std::string* origin,
                            OriginState* state, const std::string& kind = "witness");

}  // namespace indelible::witness

#endif  // INDELIBLE_WITNESS_STATE_H_
