// LatencyHistogram: a log-linear histogram of durations in nanoseconds, for
// percentiles of call latencies without keeping every sample.
//
// Values below 128 ns are exact; above, each power of two is split into 128
// buckets, so a reported quantile is within 1% of the true sample (it is the
// midpoint of the bucket holding it). The maximum is exact.
//
// Thread-safe: Record() may be called from many threads at once (relaxed
// atomics); read the results once recording has stopped.
#ifndef INDELIBLE_TOOLS_LOADGEN_HISTOGRAM_H_
#define INDELIBLE_TOOLS_LOADGEN_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace indelible::tools {

class LatencyHistogram {
 public:
  void Record(uint64_t ns);

  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t Max() const { return max_.load(std::memory_order_relaxed); }
  // The q-quantile (0 <= q <= 1) in ns; 0 when empty.
  uint64_t Quantile(double q) const;

 private:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  // Enough for any uint64_t: (64 - kSubBits + 1) groups of kSub buckets.
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

  static int Index(uint64_t v);
  static uint64_t Midpoint(int index);

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_HISTOGRAM_H_
