// Metrics: a small registry of counters, gauges and histograms for the
// Prometheus text endpoint (metrics_listen). Updates on the append path are
// relaxed atomics only; no lock is taken per event. Values that live
// elsewhere (RocksDB properties, checkpoint ages, retention counters) are
// read at scrape time by collectors registered with AddCollector.
#ifndef INDELIBLE_DAEMON_OPS_METRICS_H_
#define INDELIBLE_DAEMON_OPS_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace indelible {

// A fixed-bucket histogram. Observations are raw integers (events,
// nanoseconds); `scale` divides them for rendering (1e9: seconds).
class Histogram {
 public:
  Histogram(std::vector<double> upper_bounds, double scale);
  void Observe(uint64_t raw);
  // Appends the _bucket, _sum and _count series of `name`.
  void Render(const std::string& name, std::string* out) const;

 private:
  const std::vector<double> bounds_;  // in rendered units, ascending
  const double scale_;
  std::vector<std::atomic<uint64_t>> buckets_;  // non-cumulative, +Inf last
  std::atomic<uint64_t> sum_raw_{0};
  std::atomic<uint64_t> count_{0};
};

class Metrics {
 public:
  Metrics();

  // Appends, counted per event when the sequencer answers.
  void CountAppends(const absl::Status& status, uint64_t events);
  void CountAppendOk(uint64_t ok, uint64_t duplicate);
  // One group commit: its size in events and how long it took.
  void ObserveCommit(uint64_t events, uint64_t nanos);
  void SetQueueDepth(int64_t events) {
    queue_depth_.store(events, std::memory_order_relaxed);
  }
  // Events submitted and not yet taken into a commit group.
  int64_t QueueDepth() const { return queue_depth_.load(std::memory_order_relaxed); }
  // Flow control (admission.h): events admitted and not yet answered, and
  // appends refused (RESOURCE_EXHAUSTED) or stream reads paused at the bound.
  void SetHeldEvents(int64_t events) { held_events_.store(events, std::memory_order_relaxed); }
  // Room held for the resends of refused unary requests.
  void SetReservedEvents(int64_t events) {
    reserved_events_.store(events, std::memory_order_relaxed);
  }
  enum class Backpressure { kRefused, kPaused };
  void CountBackpressure(Backpressure kind) {
    (kind == Backpressure::kRefused ? refused_ : paused_)
        .fetch_add(1, std::memory_order_relaxed);
  }
  // For health: whether the last answered append failed with
  // RESOURCE_EXHAUSTED (disk full), and how many appends succeeded so far.
  bool LastCommitExhausted() const {
    return last_exhausted_.load(std::memory_order_relaxed);
  }
  uint64_t OkAppends() const {
    return ok_.load(std::memory_order_relaxed) + duplicate_.load(std::memory_order_relaxed);
  }
  void CountPurge() { purges_.fetch_add(1, std::memory_order_relaxed); }
  // Inclusion and consistency proof requests, served or refused.
  void CountProof(bool ok) {
    (ok ? proofs_ok_ : proofs_refused_).fetch_add(1, std::memory_order_relaxed);
  }

  // A collector appends complete text-format families (# HELP/# TYPE and
  // samples) at scrape time. REQUIRES: called before the first Render.
  using Collector = std::function<void(std::string* out)>;
  void AddCollector(Collector c);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> duplicate_{0};
  std::array<std::atomic<uint64_t>, 17> rejected_{};  // by absl::StatusCode
  std::atomic<uint64_t> purges_{0};
  std::atomic<uint64_t> proofs_ok_{0};
  std::atomic<uint64_t> proofs_refused_{0};
  std::atomic<bool> last_exhausted_{false};
  std::atomic<int64_t> queue_depth_{0};
  std::atomic<int64_t> held_events_{0};
  std::atomic<int64_t> reserved_events_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> paused_{0};
  Histogram batch_events_;
  Histogram commit_seconds_;
  std::vector<Collector> collectors_;
};

// Escapes a label value for the text format.
std::string EscapeLabelValue(const std::string& v);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_OPS_METRICS_H_
