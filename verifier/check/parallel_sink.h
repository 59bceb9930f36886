// ParallelSink: a CheckSink that batches records into chunks and runs their
// content checks (hashing) on a small pool of worker threads, while the
// caller goes on reading. Work that must see the records in order but need
// not hold up the reader (OrderedStep: the store check's Merkle tree) runs
// on one more thread of its own, chunk after chunk. Findings are delivered
// to the Reporter on the caller's thread, in exactly the order an InlineSink
// (and steps run in place) would deliver them.
//
// Memory is bounded: at most `max_in_flight` chunks of at most
// `chunk_records` records / `chunk_bytes` body bytes exist at once; when that
// many are queued, CheckContent() waits for the oldest to finish.
//
// Thread safety: the CheckSink methods, Follow() and Flush() must be called
// from one thread (the reader); the Reporter and the progress callback are
// called on that thread only.
#ifndef INDELIBLE_VERIFIER_CHECK_PARALLEL_SINK_H_
#define INDELIBLE_VERIFIER_CHECK_PARALLEL_SINK_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "verifier/chain/event.h"
#include "verifier/check/sink.h"

namespace indelible::check {

// Turns records into output in the same pass as their check: a report
// export formats its rows here, on the sink's worker threads, instead of
// reading and decoding the store a second time.
class RecordFormatter {
 public:
  virtual ~RecordFormatter() = default;
  // Called on a worker thread (concurrently with other calls) for each
  // record whose content checks found nothing; `event` is its decoded event,
  // or null for a pruned record (the formatter may move from it). Appends
  // the record's output, if any, to *out and returns the number of rows it
  // appended.
  virtual uint64_t Format(std::string_view tenant, const RecordView& r,
                          const chain::Digest& prev, chain::EventFields* event,
                          std::string* out) const = 0;
  // Called on the reader's thread, in record order, with the output of a
  // run of records and its number of rows.
  virtual void Deliver(std::string_view bytes, uint64_t rows) = 0;
};

// Work on a stream of records that must run in the stream's order, one
// record at a time (ParallelSink::Follow).
class OrderedStep {
 public:
  virtual ~OrderedStep() = default;
  // Called on the sink's step thread (on the reader's, without workers), in
  // the order Follow() was called, never concurrently with another Step.
  // `r.body` holds the record's body (empty without one), valid for the
  // call; `flags` are the caller's. Findings go to `out`: they are delivered
  // where the Follow() call stood in the stream.
  virtual void Step(const RecordView& r, uint32_t flags, Reporter* out) = 0;
};

struct ParallelSinkOptions {
  // Worker threads; 0 runs the checks on the caller's thread at chunk
  // boundaries (still in chunks, for the same ordering).
  int threads = 2;
  size_t chunk_records = 64 * 1024;
  // Of bodies; a chunk also holds ~170 B a record. Small enough that the
  // chunks in flight stay in the CPU caches and their memory, reused from
  // chunk to chunk, is faulted in once.
  size_t chunk_bytes = 1 << 20;
  // Chunks queued or running at once; 0 = threads + 2.
  int max_in_flight = 0;
  // Optional; must outlive the sink. Records that a check finds fault with
  // are not formatted (nor is a record without a known predecessor).
  RecordFormatter* formatter = nullptr;
};

class ParallelSink final : public CheckSink {
 public:
  // REQUIRES: reporter outlives the sink.
  ParallelSink(const ParallelSinkOptions& options, Reporter* reporter);
  ~ParallelSink() override;  // Flush()es, then stops the workers.

  ParallelSink(const ParallelSink&) = delete;
  ParallelSink& operator=(const ParallelSink&) = delete;

  void Report(Finding finding) override;
  void CheckContent(std::string_view tenant, const RecordView& r,
                    const chain::Digest* prev) override;

  // Queues step->Step(r, flags) behind everything reported, checked and
  // followed so far. The step object must stay alive until Flush() returns;
  // what the caller writes before Follow() is visible to that Step, and
  // anything else the caller shares with a running step it must guard
  // itself. A record just passed to CheckContent() shares the copy of its
  // body made there.
  void Follow(OrderedStep* step, std::string_view tenant, const RecordView& r,
              uint32_t flags);

  // Submits the current chunk and delivers every outstanding finding.
  void Flush();

  // Called on the caller's thread after each chunk is delivered, with the
  // number of records delivered so far.
  void set_progress(std::function<void(uint64_t)> progress) {
    progress_ = std::move(progress);
  }
  uint64_t records_delivered() const { return delivered_; }

 private:
  struct Chunk;

  void Submit();
  void SubmitIfFull();
  std::unique_ptr<Chunk> NewChunk();
  void DeliverOldest();
  void WorkerLoop();
  void StepLoop();
  static void Run(Chunk* chunk, const RecordFormatter* formatter);
  static void RunSteps(Chunk* chunk);

  ParallelSinkOptions options_;
  Reporter* reporter_;
  std::unique_ptr<Chunk> current_;
  std::deque<std::unique_ptr<Chunk>> in_flight_;  // in submission order
  // Delivered chunks kept for reuse: their buffers are already grown, which
  // spares the allocator and the page-fault handler a chunk's worth each.
  std::vector<std::unique_ptr<Chunk>> spare_;
  uint64_t delivered_ = 0;
  std::function<void(uint64_t)> progress_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // workers: a chunk is queued
  std::condition_variable step_cv_;  // step thread: a chunk with steps is queued
  std::condition_variable done_cv_;  // reader: a chunk is done
  std::deque<Chunk*> queue_;         // guarded by mu_
  std::deque<Chunk*> step_queue_;    // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::vector<std::thread> workers_;
  std::thread stepper_;  // started with the first chunk that has steps
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_PARALLEL_SINK_H_
