// Unary and batch modes: Append / AppendBatch through the asynchronous
// completion-queue API, one polling thread per queue (the default), or
// through the callback API (--client-api callback), whose completions run
// on gRPC's own threads. docs/PERFORMANCE.md compares the two.
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "grpcpp/alarm.h"
#include "tools/loadgen/driver.h"

namespace indelible::tools {
namespace {

std::chrono::steady_clock::time_point SteadyTime(int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

class UnaryDriver {
 public:
  explicit UnaryDriver(RunContext* rc)
      : rc_(rc),
        opts_(*rc->options),
        batch_(opts_.mode == Mode::kBatch),
        events_per_call_(batch_ ? opts_.batch : 1),
        open_loop_(opts_.rate > 0) {
    const int threads =
        opts_.callback_api
            ? 0
            : std::max(1, std::min(opts_.client_threads, opts_.inflight));
    for (int t = 0; t < threads; ++t) {
      queues_.push_back(std::make_unique<grpc::CompletionQueue>());
    }
    for (int i = 0; i < opts_.inflight; ++i) {
      auto c = std::make_unique<Call>();
      c->stub = rc_->stubs[i % rc_->stubs.size()].get();
      if (!queues_.empty()) c->cq = queues_[i % queues_.size()].get();
      if (batch_) {
        for (int k = 0; k < opts_.batch; ++k) {
          rc_->factory->Fill(c->batch_req.add_events());
        }
      } else {
        rc_->factory->Fill(c->unary_req.mutable_event());
      }
      calls_.push_back(std::move(c));
    }
  }

  // Returns once every call has completed; false if some did not, well
  // after their deadlines (the process should then exit without cleanup).
  bool Run() {
    for (auto& q : queues_) {
      threads_.emplace_back([this, cq = q.get()] { Poll(cq); });
    }
    if (open_loop_) {
      {
        std::lock_guard<std::mutex> l(mu_);
        for (auto& c : calls_) idle_.push_back(c.get());
      }
      Pace();
    } else {
      for (auto& c : calls_) {
        if (rc_->gate->Acquire(events_per_call_)) {
          Send(c.get(), SteadyNanos());
        } else {
          Release(c.get());
        }
      }
    }
    const auto limit =
        SteadyTime(rc_->gate->deadline_ns()) +
        std::chrono::milliseconds(
            static_cast<int64_t>(opts_.call_timeout_s * 1000) + 10000);
    bool finished;
    {
      std::unique_lock<std::mutex> l(mu_);
      finished = cv_.wait_until(
          l, limit, [this] { return idle_.size() == calls_.size(); });
    }
    if (!finished) {
      abandoned_ = true;
      for (auto& t : threads_) t.detach();
      return false;
    }
    for (auto& q : queues_) q->Shutdown();
    for (auto& t : threads_) t.join();
    return true;
  }

  ~UnaryDriver() {
    if (!abandoned_) return;
    // Run() gave up: gRPC and the pollers still use all of it; leak it.
    for (auto& c : calls_) c.release();
    for (auto& q : queues_) q.release();
  }

 private:
  struct Call {
    v1::AuditLog::Stub* stub = nullptr;
    grpc::CompletionQueue* cq = nullptr;  // null: callback API
    std::unique_ptr<grpc::ClientContext> ctx;
    v1::AppendRequest unary_req;
    v1::AppendResponse unary_resp;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::AppendResponse>> unary_rpc;
    v1::AppendBatchRequest batch_req;
    v1::AppendBatchResponse batch_resp;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::AppendBatchResponse>>
        batch_rpc;
    grpc::Status status;
    int64_t start_ns = 0;
    std::unique_ptr<grpc::Alarm> retry;  // the wait before a retry
  };

  // Sends the call's events, new ones unless `renew` is false (a retry).
  void Send(Call* c, int64_t start_ns, bool renew = true) {
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->ctx->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(opts_.call_timeout_s * 1000)));
    c->start_ns = start_ns;
    if (batch_) {
      if (renew) {
        for (auto& e : *c->batch_req.mutable_events()) rc_->factory->Renew(&e);
      }
      c->batch_resp.Clear();
    } else {
      if (renew) rc_->factory->Renew(c->unary_req.mutable_event());
      c->unary_resp.Clear();
    }
    if (c->cq == nullptr) {
      auto done = [this, c](grpc::Status s) {
        c->status = std::move(s);
        OnDone(c);
      };
      if (batch_) {
        c->stub->async()->AppendBatch(c->ctx.get(), &c->batch_req,
                                      &c->batch_resp, std::move(done));
      } else {
        c->stub->async()->Append(c->ctx.get(), &c->unary_req, &c->unary_resp,
                                 std::move(done));
      }
    } else if (batch_) {
      c->batch_rpc = c->stub->AsyncAppendBatch(c->ctx.get(), c->batch_req, c->cq);
      c->batch_rpc->Finish(&c->batch_resp, &c->status, c);
    } else {
      c->unary_rpc = c->stub->AsyncAppend(c->ctx.get(), c->unary_req, c->cq);
      c->unary_rpc->Finish(&c->unary_resp, &c->status, c);
    }
  }

  void Poll(grpc::CompletionQueue* cq) {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) OnDone(static_cast<Call*>(tag));
  }

  // The daemon's flow control refused the call (RESOURCE_EXHAUSTED with
  // grpc-retry-pushback-ms): the same events are sent again after the
  // hinted wait, their latency still counted from the first send. False if
  // the call was not so refused, or the wait would run past the run's end
  // plus one call timeout (then it counts as an error).
  bool RetryAfterPushback(Call* c) {
    if (c->status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) return false;
    const auto& md = c->ctx->GetServerTrailingMetadata();
    const auto it = md.find("grpc-retry-pushback-ms");
    if (it == md.end()) return false;
    int64_t ms = 0;
    for (char ch : std::string(it->second.data(), it->second.size())) {
      if (ch < '0' || ch > '9' || ms > 60000) return false;
      ms = ms * 10 + (ch - '0');
    }
    const int64_t wake = SteadyNanos() + ms * 1000000;
    if (wake > rc_->gate->deadline_ns() +
                   static_cast<int64_t>(opts_.call_timeout_s * 1e9)) {
      return false;
    }
    rc_->stats->RecordRetry();
    c->retry = std::make_unique<grpc::Alarm>();
    c->retry->Set(std::chrono::system_clock::now() + std::chrono::milliseconds(ms),
                  [this, c](bool) { Send(c, c->start_ns, /*renew=*/false); });
    return true;
  }

  void OnDone(Call* c) {
    if (RetryAfterPushback(c)) return;
    const int64_t end = SteadyNanos();
    const grpc::Status& s = c->status;
    if (s.ok()) {
      if (batch_) {
        rc_->receipts->AddRepeated(c->batch_resp.receipts());
        rc_->stats->RecordCall(c->start_ns, end, s, c->batch_resp.receipts_size());
      } else {
        rc_->receipts->Add(c->unary_resp.receipt());
        rc_->stats->RecordCall(c->start_ns, end, s, 1);
      }
    } else {
      rc_->stats->RecordCall(c->start_ns, end, s, events_per_call_);
    }
    if (!open_loop_ && rc_->gate->Acquire(events_per_call_)) {
      return Send(c, SteadyNanos());
    }
    Release(c);
  }

  void Release(Call* c) {
    std::lock_guard<std::mutex> l(mu_);
    idle_.push_back(c);
    cv_.notify_all();
  }

  // Open loop: call k is due at t0 + k * interval, whatever came back.
  void Pace() {
    const double interval_ns = 1e9 * events_per_call_ / opts_.rate;
    const int64_t t0 = SteadyNanos();
    const auto deadline = SteadyTime(rc_->gate->deadline_ns());
    for (uint64_t k = 0;; ++k) {
      const int64_t due = t0 + static_cast<int64_t>(std::llround(k * interval_ns));
      const int64_t now = SteadyNanos();
      if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      Call* c = nullptr;
      {
        std::unique_lock<std::mutex> l(mu_);
        // At the in-flight cap the schedule slips; latency still counts
        // from `due`, so the backlog shows.
        if (!cv_.wait_until(l, deadline, [this] { return !idle_.empty(); })) {
          return;
        }
        c = idle_.back();
        idle_.pop_back();
      }
      if (!rc_->gate->Acquire(events_per_call_)) return Release(c);
      Send(c, due);
    }
  }

  RunContext* const rc_;
  const LoadOptions& opts_;
  const bool batch_;
  const int events_per_call_;
  const bool open_loop_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::unique_ptr<Call>> calls_;
  std::vector<std::thread> threads_;
  bool abandoned_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call*> idle_;  // guarded by mu_: slots with no call in flight
};

}  // namespace

bool RunUnary(RunContext* rc) {
  UnaryDriver d(rc);
  return d.Run();
}

}  // namespace indelible::tools
