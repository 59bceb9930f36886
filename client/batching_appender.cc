#include "client/batching_appender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/event_id.h"

namespace indelible::client {
namespace {

// Errors that a single bad event makes the server return for its whole batch.
bool IsRejection(absl::StatusCode code) {
  return code == absl::StatusCode::kInvalidArgument ||
         code == absl::StatusCode::kPermissionDenied ||
         code == absl::StatusCode::kUnauthenticated ||
         code == absl::StatusCode::kFailedPrecondition ||
         code == absl::StatusCode::kAlreadyExists;
}

BatchingAppenderOptions Sanitize(BatchingAppenderOptions o) {
  o.max_queue = std::max<size_t>(o.max_queue, 1);
  o.max_batch_events = std::max<size_t>(o.max_batch_events, 1);
  o.max_batch_bytes = std::min(o.max_batch_bytes, kMaxRequestBytes);
  o.max_retries = std::max(o.max_retries, 0);
  o.initial_backoff = std::max(o.initial_backoff, std::chrono::microseconds(0));
  o.max_backoff = std::max(o.max_backoff, o.initial_backoff);
  return o;
}

}  // namespace

BatchingAppender::BatchingAppender(Client* client,
                                   BatchingAppenderOptions options)
    : client_(client),
      options_(Sanitize(std::move(options))),
      backoff_{options_.initial_backoff, options_.max_backoff, options_.jitter},
      rng_(std::random_device{}()),
      thread_([this] { Run(); }) {}

BatchingAppender::~BatchingAppender() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

absl::Status BatchingAppender::Enqueue(v1::Event event, Done done) {
  if (event.event_id().empty()) {
    absl::StatusOr<std::string> id = NewEventId();
    if (!id.ok()) return id.status();
    event.set_event_id(*std::move(id));
  }
  const size_t bytes = EventRequestBytes(event);
  bool wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) {
      return absl::FailedPreconditionError("appender is shutting down");
    }
    if (held_ >= options_.max_queue) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "audit appender queue is full (", options_.max_queue, " events)"));
    }
    queue_.push_back(Pending{std::move(event), std::move(done),
                             std::chrono::steady_clock::now(), bytes});
    queued_bytes_ += bytes;
    ++held_;
    ++enqueued_;
    // The first event starts the age timer; a full batch goes at once.
    wake = queue_.size() == 1 || queue_.size() >= options_.max_batch_events ||
           queued_bytes_ >= options_.max_batch_bytes;
  }
  if (wake) work_cv_.notify_one();
  return absl::OkStatus();
}

void BatchingAppender::Flush() {
  std::unique_lock<std::mutex> l(mu_);
  const uint64_t target = enqueued_;
  if (answered_ >= target) return;
  ++flushers_;
  work_cv_.notify_one();
  done_cv_.wait(l, [&] { return answered_ >= target; });
  --flushers_;
}

void BatchingAppender::Run() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    // Wait for a reason to send: a full batch, an old enough event, a
    // Flush() or the destructor.
    for (;;) {
      if (queue_.empty()) {
        if (stopping_) return;
        work_cv_.wait(l);
        continue;
      }
      if (queue_.size() >= options_.max_batch_events ||
          queued_bytes_ >= options_.max_batch_bytes || flushers_ > 0 || stopping_) {
        break;
      }
      const auto due = queue_.front().enqueued_at + options_.max_batch_age;
      if (std::chrono::steady_clock::now() >= due) break;
      work_cv_.wait_until(l, due);
    }
    // Up to max_batch_events events and max_batch_bytes bytes, and at
    // least one event (alone, one too large gets its error from the client).
    std::vector<Pending> batch;
    size_t batch_bytes = 0;
    while (!queue_.empty() && batch.size() < options_.max_batch_events &&
           (batch.empty() || batch_bytes + queue_.front().bytes <= options_.max_batch_bytes)) {
      batch_bytes += queue_.front().bytes;
      queued_bytes_ -= queue_.front().bytes;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    const size_t n = batch.size();
    l.unlock();
    Send(&batch);
    l.lock();
    held_ -= n;
    answered_ += n;
    done_cv_.notify_all();
  }
}

void BatchingAppender::Send(std::vector<Pending>* batch) {
  std::vector<v1::Event> events;
  events.reserve(batch->size());
  for (Pending& p : *batch) events.push_back(std::move(p.event));

  absl::StatusOr<std::vector<v1::Receipt>> result = SendWithRetry(events);
  if (result.ok()) {
    for (size_t i = 0; i < batch->size(); ++i) {
      if ((*batch)[i].done) (*batch)[i].done(std::move((*result)[i]));
    }
    return;
  }
  if (options_.isolate_rejected && batch->size() > 1 &&
      IsRejection(result.status().code())) {
    for (size_t i = 0; i < batch->size(); ++i) {
      absl::StatusOr<std::vector<v1::Receipt>> one =
          SendWithRetry({std::move(events[i])});
      if (!(*batch)[i].done) continue;
      if (one.ok()) {
        (*batch)[i].done(std::move(one->front()));
      } else {
        (*batch)[i].done(one.status());
      }
    }
    return;
  }
  for (Pending& p : *batch) {
    if (p.done) p.done(result.status());
  }
}

absl::StatusOr<std::vector<v1::Receipt>> BatchingAppender::SendWithRetry(
    const std::vector<v1::Event>& events) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int retry = 0;; ++retry) {
    absl::StatusOr<std::vector<v1::Receipt>> r = client_->AppendBatch(events);
    if (r.ok() || !IsRetryableAppendError(r.status()) ||
        retry >= options_.max_retries) {
      return r;
    }
    Sleep(BackoffDelay(backoff_, retry, unit(rng_)));
  }
}

void BatchingAppender::Sleep(std::chrono::microseconds d) {
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

}  // namespace indelible::client
