// The rule of a witness and of indelible-signer: a checkpoint is accepted
// only as a consistent extension of the newest one accepted for its origin
// (C2SP tlog-witness add-checkpoint). The caller names the size it believes
// the newest is (old_size) and proves, RFC 9162 section 2.1.4, that the new
// tree extends the tree of that size.
//
// The request of both is the body of tlog-witness add-checkpoint:
//
//   old <size>\n                 decimal, no leading zeros
//   <base64(hash)>\n             0..63 consistency proof lines
//   \n
//   <checkpoint>                 the note (indelible-signer: its text only)
//
// Thread-safe: pure functions. Callers hold the origin's mutex
// (StateStore::OriginMutex) from Check to Put, so two requests cannot both
// advance an origin from the same state.
#ifndef INDELIBLE_WITNESS_EXTENSION_H_
#define INDELIBLE_WITNESS_EXTENSION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "verifier/chain/hash.h"
#include "witness/state.h"

namespace indelible::witness {

inline constexpr size_t kMaxProofLines = 63;

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<chain::Digest> proof;
  std::string checkpoint;  // the note (or note text), as sent
};

// InvalidArgument with the reason if the body is not of the form above.
absl::StatusOr<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body);

// The body of an add-checkpoint request (for clients and tests).
std::string AddCheckpointRequestText(const AddCheckpointRequest& request);

enum class Extension {
  kConsistent = 0,  // accept; Put the new state unless it is the same size
  kBadRequest,      // old_size above the new size
  kStaleOldSize,    // old_size is not the current size (current_size says it)
  kSplitView,       // the same size as the current state, another root
  kInconsistent,    // the proof does not verify
};

struct ExtensionCheck {
  Extension verdict = Extension::kInconsistent;
  uint64_t current_size = 0;  // the size of `current` (0 if none)
  std::string reason;         // for logs and answers; empty if consistent
};

// Judges (size, root) with `proof` from `old_size` against `current` (the
// newest accepted state, nullopt if none: then only old_size 0 is current).
ExtensionCheck CheckExtension(const std::optional<OriginState>& current, uint64_t old_size,
                              uint64_t size, const chain::Digest& root,
                              const std::vector<chain::Digest>& proof);

}  // namespace indelible::witness

#endif  // INDELIBLE_WITNESS_EXTENSION_H_
