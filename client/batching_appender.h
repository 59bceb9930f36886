// BatchingAppender: the asynchronous way for a service to log events.
//
//   indelible::client::BatchingAppender appender(client.get());
//   absl::Status s = appender.Enqueue(event, [](absl::StatusOr<v1::Receipt> r)
//   {
//     if (!r.ok()) LOG(ERROR) << "audit event lost: " << r.status();
//   });
//   if (!s.ok()) ...  // queue full: the caller decides (fail the request, ...)
//
// Events are queued and sent by one background thread with
// Client::AppendBatch, a batch at a time, when max_batch_events or
// max_batch_bytes are waiting or the oldest waiting event is max_batch_age
// old, whichever comes first (or at once while someone is in Flush()). A
// batch holds at most max_batch_events events and max_batch_bytes encoded
// bytes (EventRequestBytes in client.h), so valid events never make a request
// larger than the daemon accepts; an event too large to be sent on its own
// goes alone and gets InvalidArgument naming it. Batches go out in Enqueue
// order and one at a time, so events reach the server in the order they
// were enqueued.
//
// Retries: a batch that fails with Unavailable or DeadlineExceeded, or with
// ResourceExhausted "busy: ..." (the daemon's flow control refused it and
// stored nothing), is sent again, up to max_retries times, after an
// exponential backoff with full jitter (backoff.h). This is safe because every event carries an event_id
// (Enqueue assigns a random one if it has none): the server answers a
// repeated (tenant, event_id) with the first receipt, duplicate = true, and
// stores nothing twice. No other error is retried.
//
// Isolation: the server rejects a whole batch if one event in it is bad. When
// a batch of several events is rejected with InvalidArgument,
// PermissionDenied, Unauthenticated, FailedPrecondition or AlreadyExists (an
// event id reused for a different event) and
// isolate_rejected is set, each event is sent again on its own, so only the
// bad ones fail. Nothing of a rejected batch was stored, so this is safe.
//
// Every event accepted by Enqueue gets exactly one call of its `done`, with
// the receipt or the final error. `done` runs on the background thread, must
// not block for long, must not throw, and must not call Flush() or destroy
// the appender; it may call Enqueue.
//
// Thread safety: Enqueue and Flush may be called from any number of threads.
#ifndef INDELIBLE_CLIENT_BATCHING_APPENDER_H_
#define INDELIBLE_CLIENT_BATCHING_APPENDER_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/backoff.h"
#include "client/client.h"

namespace indelible::client {

struct BatchingAppenderOptions {
  // Most events held at once, queued or being sent. When it is reached,
  // Enqueue fails fast with ResourceExhausted instead of blocking: a stalled
  // daemon must not stall the request threads of the service that logs, and
  // what to do with an event that cannot be logged (fail the request, spill
  // to disk) is the caller's decision. Values below 1 are read as 1.
  size_t max_queue = 10000;

  // Most events per AppendBatch call. Values below 1 are read as 1.
  size_t max_batch_events = 256;

  // Most encoded bytes per AppendBatch request (the sum of
  // EventRequestBytes of its events), unless one event alone is larger.
  // Values above kMaxRequestBytes are read as kMaxRequestBytes.
  size_t max_batch_bytes = kMaxRequestBytes;

  // How long the oldest queued event may wait for its batch to fill up.
  std::chrono::microseconds max_batch_age{5000};

  // Retries of a batch after an error IsRetryableAppendError (backoff.h)
  // accepts (so at most max_retries + 1 calls). 0 disables retrying.
  int max_retries = 5;

  // Backoff before retry n: up to min(max_backoff, initial_backoff * 2^n),
  // uniformly drawn from [0, that] when jitter is set.
  std::chrono::microseconds initial_backoff{10000};
  std::chrono::microseconds max_backoff{1000000};
  bool jitter = true;

  // Resend the events of a rejected multi-event batch one by one (see above).
  bool isolate_rejected = true;

  // Waits out a backoff delay on the background thread. Null means
  // std::this_thread::sleep_for. Tests pass a function that records the
  // delays and returns at once.
  std::function<void(std::chrono::microseconds)> sleep;
};

class BatchingAppender {
 public:
  using Done = std::function<void(absl::StatusOr<v1::Receipt>)>;

  // Starts the background thread.
  // REQUIRES: client != nullptr and outlives the appender.
  BatchingAppender(Client* client, BatchingAppenderOptions options = {});

  // Flushes (every accepted event is answered), then stops the thread.
  // With the daemon down this takes as long as the retries of the queued
  // batches: up to (max_retries + 1) client deadlines plus the backoffs each.
  ~BatchingAppender();

  BatchingAppender(const BatchingAppender&) = delete;
  BatchingAppender& operator=(const BatchingAppender&) = delete;

  // Queues `event`; `done` (may be null) is called once with its receipt or
  // final error. Assigns a new event_id (a UUIDv7, event_id.h) if the
  // event has none.
  // Returns, without ever calling `done`:
  //   ResourceExhausted   max_queue events are already held;
  //   FailedPrecondition  the appender is being destroyed;
  //   Internal            no event_id could be made (the CSPRNG failed).
  absl::Status Enqueue(v1::Event event, Done done);

  // Blocks until every event accepted before the call has been answered
  // (its `done` has returned). Sends queued events at once rather than
  // waiting for max_batch_age. Retries in progress still take their backoff.
  void Flush();

 private:
  struct Pending {
    v1::Event event;
    Done done;
    std::chrono::steady_clock::time_point enqueued_at;
    size_t bytes = 0;  // EventRequestBytes(event)
  };

  void Run();
  // Sends a batch and answers every event in it.
  void Send(std::vector<Pending>* batch);
  absl::StatusOr<std::vector<v1::Receipt>> SendWithRetry(
      const std::vector<v1::Event>& events);
  void Sleep(std::chrono::microseconds d);

  Client* const client_;
  const BatchingAppenderOptions options_;
  const BackoffPolicy backoff_;
  std::mt19937_64 rng_;  // jitter; used only by the background thread

  std::mutex mu_;
  std::condition_variable work_cv_;  // the background thread waits here
  std::condition_variable done_cv_;  // Flush() waits here
  std::deque<Pending> queue_;        // guarded by mu_
  size_t queued_bytes_ = 0;          // sum of queue_[i].bytes; mu_
  size_t held_ = 0;                  // queued + in flight; guarded by mu_
  uint64_t enqueued_ = 0;            // events accepted; guarded by mu_
  uint64_t answered_ = 0;            // events whose done returned; mu_
  int flushers_ = 0;                 // threads inside Flush(); mu_
  bool stopping_ = false;            // guarded by mu_

  std::thread thread_;  // last: starts once everything above is built
};

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_BATCHING_APPENDER_H_
