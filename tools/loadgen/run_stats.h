// What one load run observed: acknowledged events, call latencies, errors by
// status code, and every receipt (for the check against the chain).
//
// Times are steady-clock nanoseconds (SteadyNanos()). Throughput counts the
// events of calls that completed after the warmup, over the time from the
// end of the warmup to the last completion; latency counts calls that
// started after the warmup (in --rate mode, "started" is the intended send
// time, so a client that falls behind shows it).
//
// Thread-safe: RecordCall and AddReceipts may be called from many threads.
#ifndef INDELIBLE_TOOLS_LOADGEN_RUN_STATS_H_
#define INDELIBLE_TOOLS_LOADGEN_RUN_STATS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "indelible/v1/indelible.pb.h"
#include "tools/loadgen/histogram.h"
#include "verifier/chain/hash.h"

namespace indelible::tools {

inline int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The gRPC name of a status code ("UNAVAILABLE").
std::string StatusCodeName(int code);

class RunStats {
 public:
  static constexpr int kCodes = 17;

  explicit RunStats(int64_t measure_start_ns)
      : measure_start_ns_(measure_start_ns) {}

  // One finished call (or stream message) that carried `events` events.
  void RecordCall(int64_t start_ns, int64_t end_ns, const grpc::Status& status,
                  int events);
  // `calls` calls or messages that failed with `status`.
  void RecordErrors(const grpc::Status& status, uint64_t calls);
  // A call refused by the daemon's flow control (RESOURCE_EXHAUSTED with
  // grpc-retry-pushback-ms) and sent again after the hinted wait: back-
  // pressure, not an error.
  void RecordRetry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t retries() const { return retries_.load(); }

  int64_t measure_start_ns() const { return measure_start_ns_; }
  uint64_t measured_events() const { return measured_events_.load(); }
  uint64_t measured_calls() const { return measured_calls_.load(); }
  uint64_t acknowledged_events() const { return acked_events_.load(); }
  // End of the measured window: the last successful completion.
  int64_t last_completion_ns() const { return last_end_ns_.load(); }
  const LatencyHistogram& latency() const { return latency_; }
  // Error counts by code name; empty when there were none.
  std::vector<std::pair<std::string, uint64_t>> Errors() const;
  uint64_t ErrorCount() const;
  // The first error message seen for each code name.
  std::vector<std::pair<std::string, std::string>> FirstMessages() const;

 private:
  const int64_t measure_start_ns_;
  LatencyHistogram latency_;
  std::atomic<uint64_t> measured_events_{0};
  std::atomic<uint64_t> measured_calls_{0};
  std::atomic<uint64_t> acked_events_{0};
  std::atomic<int64_t> last_end_ns_{0};
  std::atomic<uint64_t> retries_{0};
  std::array<std::atomic<uint64_t>, kCodes> errors_{};
  mutable std::mutex mu_;
  std::array<std::string, kCodes> first_message_;  // guarded by mu_
};

// Every receipt of a run, by tenant.
class ReceiptLog {
 public:
  struct Entry {
    uint64_t seq;
    chain::Digest entry_hash;
  };

  explicit ReceiptLog(const std::vector<std::string>& tenants);

  void Add(const v1::Receipt& r) { AddAll(&r, 1); }
  void AddAll(const v1::Receipt* const* rs, int n);
  void AddAll(const v1::Receipt* rs, int n);
  template <typename Repeated>
  void AddRepeated(const Repeated& rs) {
    AddAll(rs.data(), rs.size());
  }

  // Receipts naming a tenant this run did not write to, or with a hash that
  // is not 32 bytes, or flagged duplicate (every event id is new).
  uint64_t malformed() const { return malformed_.load(); }
  uint64_t duplicates() const { return duplicates_.load(); }
  uint64_t size() const { return size_.load(); }

  // REQUIRES: no concurrent Add. Index i belongs to tenants[i].
  std::vector<std::vector<Entry>>& by_tenant() { return by_tenant_; }

 private:
  bool AddLocked(const v1::Receipt& r);

  std::unordered_map<std::string, size_t> index_;
  std::mutex mu_;
  std::vector<std::vector<Entry>> by_tenant_;  // guarded by mu_
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> duplicates_{0};
  std::atomic<uint64_t> size_{0};
};

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_RUN_STATS_H_
