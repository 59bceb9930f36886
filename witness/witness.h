// The witness proper: C2SP tlog-witness `add-checkpoint` on top of the chain
// library (signed notes, checkpoints, consistency proofs, cosignatures),
// without HTTP. A request body is
//
//   old <size>\n                 decimal, no leading zeros
//   <base64(hash)>\n             0..63 consistency proof lines
//   \n
//   <checkpoint note>            the log's signed note
//
// and the answer is one of (tlog-witness):
//   200  the witness's cosignature line (text/plain)
//   400  malformed body, or old size above the checkpoint size
//   403  no signature by a trusted key of the origin's log verifies
//   404  the origin is not one the witness is configured for
//   409  old size is not the latest cosigned size: the body is that size and
//        a newline, Content-Type text/x.tlog.size; or the same size with
//        another root (a split view)
//   422  the consistency proof does not verify
//   500  the new state could not be made durable (nothing cosigned)
//
// The state of an origin is updated durably before a cosignature is made,
// under that origin's mutex, so two requests cannot both advance it from
// the same old size.
//
// Thread-safe: AddCheckpoint may run on many threads at once.
#ifndef INDELIBLE_WITNESS_WITNESS_H_
#define INDELIBLE_WITNESS_WITNESS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/hash.h"
#include "witness/config.h"
#include "witness/extension.h"
#include "witness/state.h"

namespace indelible::witness {

// Largest request body accepted: 63 proof lines and a generous note.
inline constexpr size_t kMaxRequestBytes = 64 * 1024;
inline constexpr char kSizeContentType[] = "text/x.tlog.size";

// What a request came to, for metrics.
enum class Result {
  kCosigned = 0,
  kBadRequest,
  kUnknownLog,
  kForbidden,
  kConflict,
  kBadProof,
  kInternal,
};
inline constexpr size_t kNumResults = 7;
const char* ResultName(Result r);

struct Response {
  int status = 500;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  Result result = Result::kInternal;
};

// Seconds since the epoch, for cosignature timestamps.
using Clock = std::function<uint64_t()>;
uint64_t SystemClockSeconds();

class Witness {
 public:
  // REQUIRES: store outlives the witness; logs validated (ValidateConfig).
  Witness(std::vector<LogConfig> logs, chain::Cosigner cosigner,
          StateStore* store, Clock clock = SystemClockSeconds);

  Response AddCheckpoint(std::string_view body);

  // The configured log an origin belongs to: an exact origin first, else
  // the longest matching prefix; nullptr if none.
  const LogConfig* FindLog(std::string_view origin) const;

  const chain::CosignerKey& key() const { return cosigner_.key(); }
  uint64_t Count(Result r) const { return counts_[static_cast<size_t>(r)].load(); }

 private:
  Response Handle(std::string_view body);

  const std::vector<LogConfig> logs_;
  const chain::Cosigner cosigner_;
  StateStore* const store_;
  const Clock clock_;
  std::array<std::atomic<uint64_t>, kNumResults> counts_{};
};

}  // namespace indelible::witness

#endif  // INDELIBLE_WITNESS_WITNESS_H_
