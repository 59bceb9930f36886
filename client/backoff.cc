#include "client/backoff.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"

namespace indelible::client {

std::chrono::microseconds BackoffDelay(const BackoffPolicy& policy, int retry,
                                       double random_unit) {
  const int64_t max = policy.max_backoff.count();
  int64_t cap = std::min(policy.initial_backoff.count(), max);
  // Doubling stops at the cap, so this cannot overflow however large `retry`.
  for (int i = 0; i < retry && cap < max; ++i) {
    cap = cap > max / 2 ? max : cap * 2;
  }
  if (!policy.jitter) return std::chrono::microseconds(cap);
  auto d = static_cast<int64_t>(random_unit * static_cast<double>(cap + 1));
  return std::chrono::microseconds(std::clamp<int64_t>(d, 0, cap));
}

bool IsRetryableAppendError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         (s.code() == absl::StatusCode::kResourceExhausted &&
          absl::StartsWith(s.message(), "busy:"));
}

}  // namespace indelible::client
