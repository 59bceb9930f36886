// Key rotation at start-up (docs/OPERATIONS.md, "Rotate the signing key").
//
// The store's key history caches the rotation statements (docs/FORMAT.md
// section 14) the daemon accepted, in meta rows "key_rotation/" || u64(n);
// the newest one names the store's current key. A daemon started with
// another key must be given a statement from the current key to its own
// (config key_rotation_statement_file). It verifies the statement, records
// it in every tenant's chain (category indelible.key, action key.rotate),
// and caches it in the same synced write, all before anything is signed
// with the new key. Verifiers never trust the cache: they follow the
// statements in the chains.
//
// A tenant created after a rotation gets the whole cached statement chain
// too, as records of the same kind appended before its first checkpoint
// (KeyHistoryRecorder, run by the Checkpointer), so a verifier trusting any
// earlier key follows it there as in every other chain.
//
// Thread safety: called once, at start, before the checkpointer runs.
#ifndef INDELIBLE_DAEMON_GOVERNANCE_KEY_ROTATION_H_
#define INDELIBLE_DAEMON_GOVERNANCE_KEY_ROTATION_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/clock.h"
#include "daemon/governance/daemon_records.h"
#include "daemon/write/ingest.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "verifier/chain/note.h"

namespace indelible {

inline constexpr char kKeyCategory[] = "indelible.key";
inline constexpr char kKeyRotateAction[] = "key.rotate";
inline constexpr char kKeyRotationPrefix[] = "key_rotation/";

struct KeyRotationInputs {
  Storage* storage = nullptr;
  Sequencer* sequencer = nullptr;  // started
  Clock* clock = nullptr;
  IngestLimits limits;
  chain::NoteVerifierKey key;  // the key the daemon was started with
  std::string log_name;        // EffectiveLogName(config)
  std::string statement_file;  // config key_rotation_statement_file; may be empty
};

// OK when the store has no key yet, the key is its current key, or a valid
// statement from the current key to this one was given and is now recorded.
// FailedPrecondition (a configuration error) when a statement is needed but
// missing, unreadable, invalid, or not from the current key to this one,
// naming what to do. Another error if the store cannot be read or written.
absl::Status ApplyKeyRotation(const KeyRotationInputs& in);

// The statements the store caches, oldest first (the chain from the first
// key to the current one).
absl::StatusOr<std::vector<std::string>> CachedKeyRotations(Storage* storage);

// What the Checkpointer runs before a tenant's first checkpoint: appends
// one key.rotate record per statement of `statements` (oldest first) to the
// tenant's chain and waits until they are durable. Nullptr when
// `statements` is empty (a store that never rotated). REQUIRES: `recorder`
// outlives the function.
std::function<absl::Status(const std::string& tenant)> KeyHistoryRecorder(
    const DaemonRecorder* recorder, std::vector<std::string> statements);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_GOVERNANCE_KEY_ROTATION_H_
