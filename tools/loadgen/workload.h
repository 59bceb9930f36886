// What indelible-loadgen sends: its options, and the events it generates.
//
// By default every run writes to tenants of its own ("lg-<run id>-<i>"),
// so a run's receipts can be checked against complete chains that hold
// nothing else. With a tenant prefix, runs share tenants ("<prefix>-<i>"),
// as a store's long-lived tenants do, and a run's part of each chain is
// checked from the record before it. Event ids are new for every event, so
// every event is a new record: "<run id>-<n>" by default, whose order is
// not the order sent (n is not padded), or UUIDs of version 4 (random) or
// 7 (growing with time, as the client library makes them).
//
// Thread-safe: EventFactory::Renew may be called from many threads.
#ifndef INDELIBLE_TOOLS_LOADGEN_WORKLOAD_H_
#define INDELIBLE_TOOLS_LOADGEN_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "indelible/v1/indelible.pb.h"

namespace indelible::tools {

enum class Mode { kUnary, kBatch, kStream };
enum class IdFormat { kRunCounter, kUuid4, kUuid7 };

struct LoadOptions {
  std::string target;        // 127.0.0.1:PORT
  Mode mode = Mode::kUnary;
  int inflight = 64;         // unary/batch: calls in flight (cap in --rate mode)
  int batch = 100;           // batch/stream: events per message
  int streams = 4;           // stream: concurrent AppendStream calls
  int stream_window = 8;     // stream: unanswered messages per stream
  int tenants = 1;
  size_t event_bytes = 512;  // approximate serialized size of one Event
  double duration_s = 10;    // measured time after warmup
  uint64_t count = 0;        // events to send, warmup included; 0: no bound
  double warmup_s = 1;
  double rate = 0;           // offered events/s (open loop); 0: closed loop
  double call_timeout_s = 30;
  int channels = 1;          // separate HTTP/2 connections
  int client_threads = 1;    // unary/batch: completion-queue pollers
  // Tenants "<prefix>-<i>", shared with other runs; empty: "lg-<run id>-<i>".
  std::string tenant_prefix;
  IdFormat ids = IdFormat::kRunCounter;
  bool callback_api = false; // unary/batch: callback API instead of pollers
  // Check receipts against the chains after the run (off against a
  // baseline server, which stores nothing).
  bool verify = true;
  bool verify_sample = false;  // check a sample instead of every receipt
  size_t sample_size = 2000;
};

// Hard cap on warmup + duration, whatever the options say.
inline constexpr double kMaxRunSeconds = 600;

class EventFactory {
 public:
  // `run_id`: [a-z0-9]+, distinguishes this run's event ids, and its
  // tenants unless `tenant_prefix` names them.
  EventFactory(std::string run_id, int tenants, size_t event_bytes,
               const std::string& tenant_prefix = "",
               IdFormat ids = IdFormat::kRunCounter);

  const std::vector<std::string>& tenants() const { return tenants_; }
  // Serialized size of a generated event.
  size_t event_bytes() const { return event_bytes_; }

  // Makes *event a complete event (the fixed fields and the filler).
  void Fill(v1::Event* event) const;
  // Gives a filled event the next tenant (round robin) and a fresh id.
  void Renew(v1::Event* event);
  // Appends to `out` the next event (as Renew would make it) encoded as one
  // `events` entry of an AppendBatchRequest: the bytes protobuf's serializer
  // gives for that entry. The event's fixed part is encoded once; only its
  // tenant and id (fields 1 and 2, which protobuf writes first) are encoded
  // per event. AppendBatchRequest has no other field, so `n` entries
  // appended one after another are a whole request of `n` events.
  void AppendEncoded(std::string* out);

 private:
  std::string NewId(uint64_t n) const;

  std::string run_id_;
  IdFormat ids_;
  std::vector<std::string> tenants_;
  std::string reason_;
  // A filled event's fields 3 and up, serialized (AppendEncoded).
  std::string fixed_tail_;
  size_t event_bytes_ = 0;
  std::atomic<uint64_t> next_{0};
};

// A random id for a run, [a-z0-9]{8}.
std::string NewRunId();

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_WORKLOAD_H_
