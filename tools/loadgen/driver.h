// The load drivers of indelible-loadgen. Each runs one mode to completion:
// it sends until a bound is reached (time or event count), then waits for
// every call in flight (each has a deadline), recording into RunStats and
// ReceiptLog.
//
//   unary/batch, closed loop: `inflight` slots, each sending its next call
//     as soon as the previous one completes (asynchronous completion-queue
//     API, `client_threads` pollers, no thread per call);
//   unary/batch, open loop (--rate): a pacer thread sends at the offered
//     rate whatever the answers, at most `inflight` at once; a call's
//     latency counts from its intended send time;
//   stream: `streams` AppendStream calls (callback API), each with at most
//     `stream_window` unanswered messages of `batch` events; a message's
//     latency counts from the start of its write, which waits until the
//     daemon's flow control takes the previous one. Messages are encoded by
//     EventFactory::AppendEncoded (the fixed part of an event once, not a
//     protobuf serialization per event): the load generator shares the
//     machine's cores with the daemon, as pgbench, which has the peer
//     generate its rows, does with PostgreSQL.
//
// A unary or batch call refused by the daemon's flow control
// (RESOURCE_EXHAUSTED with grpc-retry-pushback-ms) is sent again with the
// same events after the hinted wait, counted as a retry, not an error.
#ifndef INDELIBLE_TOOLS_LOADGEN_DRIVER_H_
#define INDELIBLE_TOOLS_LOADGEN_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "indelible/v1/indelible.grpc.pb.h"
#include "tools/loadgen/run_stats.h"
#include "tools/loadgen/workload.h"

namespace indelible::tools {

// Decides whether another call may be sent: false once the deadline has
// passed or `max_events` would be exceeded, and from then on.
class IssueGate {
 public:
  IssueGate(int64_t deadline_ns, uint64_t max_events)
      : deadline_ns_(deadline_ns), max_events_(max_events) {}

  bool Acquire(int events) {
    if (closed_.load(std::memory_order_relaxed)) return false;
    if (SteadyNanos() >= deadline_ns_) return Close();
    if (max_events_ != 0) {
      const uint64_t before =
          issued_.fetch_add(events, std::memory_order_relaxed);
      if (before + events > max_events_) return Close();
    }
    return true;
  }
  bool closed() const { return closed_.load(std::memory_order_relaxed); }
  int64_t deadline_ns() const { return deadline_ns_; }

 private:
  bool Close() {
    closed_.store(true, std::memory_order_relaxed);
    return false;
  }

  const int64_t deadline_ns_;
  const uint64_t max_events_;
  std::atomic<uint64_t> issued_{0};
  std::atomic<bool> closed_{false};
};

struct RunContext {
  const LoadOptions* options;
  EventFactory* factory;
  RunStats* stats;
  ReceiptLog* receipts;
  IssueGate* gate;
  // One stub per channel; calls are spread over them round robin.
  std::vector<std::unique_ptr<v1::AuditLog::Stub>> stubs;
  std::vector<std::shared_ptr<grpc::Channel>> channels;  // stubs[i]'s is channels[i]
};

// Each returns once every call has completed (or, if gRPC does not deliver
// a completion well after every deadline, false).
bool RunUnary(RunContext* rc);
bool RunStream(RunContext* rc);

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_DRIVER_H_
