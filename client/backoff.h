// Exponential backoff with "full jitter": the delay before retry n (0-based)
// is drawn uniformly from [0, min(max_backoff, initial_backoff * 2^n)].
// Without jitter it is the cap itself. Full jitter spreads out clients that
// all lost the daemon at the same moment, so they do not return in lockstep.
//
// Thread-safe: a pure function.
#ifndef INDELIBLE_CLIENT_BACKOFF_H_
#define INDELIBLE_CLIENT_BACKOFF_H_

#include <chrono>

#include "absl/status/status.h"

namespace indelible::client {

struct BackoffPolicy {
  std::chrono::microseconds initial_backoff{10000};
  std::chrono::microseconds max_backoff{1000000};
  bool jitter = true;
};

// REQUIRES: retry >= 0, 0 <= random_unit < 1 (ignored without jitter),
// 0 <= initial_backoff <= max_backoff.
std::chrono::microseconds BackoffDelay(const BackoffPolicy& policy, int retry,
                                       double random_unit);

// Whether an Append or AppendBatch that failed with `s` may be sent again
// with the same events (same event ids, so a retry of a call whose answer
// was lost is answered as a duplicate, never stored twice): Unavailable,
// DeadlineExceeded, and ResourceExhausted "busy: ..." (the daemon's flow
// control, which stored nothing). Not "disk full: ..." nor a request over
// the size limit, which fail the same way again.
bool IsRetryableAppendError(const absl::Status& s);

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_BACKOFF_H_
