#include "tools/loadgen/histogram.h"

#include <bit>
#include <cmath>

namespace indelible::tools {

int LatencyHistogram::Index(uint64_t v) {
  if (v < kSub) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);
  const int shift = msb - kSubBits;
  return ((shift + 1) << kSubBits) +
         static_cast<int>((v >> shift) & (kSub - 1));
}

uint64_t LatencyHistogram::Midpoint(int index) {
  if (index < kSub) return static_cast<uint64_t>(index);
  const int shift = (index >> kSubBits) - 1;
  const uint64_t mantissa = static_cast<uint64_t>(index & (kSub - 1)) | kSub;
  return (mantissa << shift) + ((uint64_t{1} << shift) >> 1);
}

void LatencyHistogram::Record(uint64_t ns) {
  buckets_[Index(ns)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t m = max_.load(std::memory_order_relaxed);
  while (ns > m &&
         !max_.compare_exchange_weak(m, ns, std::memory_order_relaxed)) {
  }
}

uint64_t LatencyHistogram::Quantile(double q) const {
  const uint64_t n = Count();
  if (n == 0) return 0;
  // The rank of the sample at quantile q, 1-based ("nearest rank").
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const uint64_t mid = Midpoint(i);
      return mid < Max() ? mid : Max();
    }
  }
  return Max();
}

}  // namespace indelible::tools
