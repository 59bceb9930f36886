// Stream mode: AppendStream calls through the callback API, each keeping at
// most `stream_window` messages unanswered.
#include <chrono>
#include <deque>
#include <mutex>
#include <string>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "tools/loadgen/driver.h"
#include "tools/loadgen/latch.h"

namespace indelible::tools {
namespace {

// An AppendBatchRequest, as its encoded bytes (EventFactory::AppendEncoded).
using Req = grpc::ByteBuffer;
using Resp = v1::AppendBatchResponse;
using Stub = grpc::TemplatedGenericStub<Req, Resp>;

constexpr char kAppendStream[] = "/indelible.v1.AuditLog/AppendStream";

class StreamWorker final : public grpc::ClientBidiReactor<Req, Resp> {
 public:
  StreamWorker(RunContext* rc, Stub* stub, Latch* done)
      : rc_(rc), stub_(stub), done_(done) {
    const LoadOptions& o = *rc_->options;
    for (int i = 0; i < o.stream_window; ++i) {
      auto r = std::make_unique<Req>();
      free_.push_back(r.get());
      pool_.push_back(std::move(r));
    }
    // The stream outlives the sending time by one call timeout at most.
    const int64_t left_ns = rc_->gate->deadline_ns() - SteadyNanos();
    ctx_.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::nanoseconds(left_ns) +
                      std::chrono::milliseconds(
                          static_cast<int64_t>(o.call_timeout_s * 1000)));
  }

  void Begin() {
    stub_->PrepareBidiStreamingCall(&ctx_, kAppendStream, grpc::StubOptions(), this);
    Actions a;
    {
      std::lock_guard<std::mutex> l(mu_);
      a = PumpLocked();
    }
    StartRead(&resp_);
    Run(a);
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    Actions a;
    {
      std::lock_guard<std::mutex> l(mu_);
      writing_ = false;
      free_.push_back(in_write_);
      in_write_ = nullptr;
      if (!ok) broken_ = true;
      a = PumpLocked();
    }
    Run(a);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the server finished; OnDone follows
    const int64_t end = SteadyNanos();
    int64_t start = end;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!unanswered_.empty()) {
        start = unanswered_.front();
        unanswered_.pop_front();
      } else {
        ++unexpected_;
      }
    }
    rc_->receipts->AddRepeated(resp_.receipts());
    rc_->stats->RecordCall(start, end, grpc::Status::OK, resp_.receipts_size());
    Actions a;
    {
      std::lock_guard<std::mutex> l(mu_);
      a = PumpLocked();
    }
    StartRead(&resp_);
    Run(a);
  }

  void OnDone(const grpc::Status& s) override {
    uint64_t lost = 0, unexpected = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      lost = unanswered_.size() + to_write_.size();
      unexpected = unexpected_;
    }
    if (!s.ok()) {
      rc_->stats->RecordErrors(s, lost > 0 ? lost : 1);
    } else if (lost > 0 || unexpected > 0) {
      // An OK stream that left messages unanswered (or answered too many)
      // broke the protocol.
      rc_->stats->RecordErrors(
          grpc::Status(grpc::StatusCode::INTERNAL,
                       "stream ended OK with messages unanswered or answered twice"),
          lost + unexpected);
    }
    done_->CountDown();  // last: the driver may destroy us from here on
  }

 private:
  struct Actions {
    Req* write = nullptr;
    bool writes_done = false;
  };

  // REQUIRES: mu_ held. Fills the window, and picks the next write or the
  // half-close; they are started after mu_ is released.
  Actions PumpLocked() {
    const LoadOptions& o = *rc_->options;
    Actions a;
    if (broken_ || half_closed_) return a;
    while (unanswered_.size() + to_write_.size() < static_cast<size_t>(o.stream_window) &&
           !free_.empty() && rc_->gate->Acquire(o.batch)) {
      Req* r = free_.back();
      free_.pop_back();
      // gRPC owns the bytes until it drops the slice.
      auto* bytes = new std::string();
      bytes->reserve(static_cast<size_t>(o.batch) * (rc_->factory->event_bytes() + 4));
      for (int k = 0; k < o.batch; ++k) rc_->factory->AppendEncoded(bytes);
      grpc::Slice slice(bytes->data(), bytes->size(),
                        [](void* b) { delete static_cast<std::string*>(b); }, bytes);
      *r = grpc::ByteBuffer(&slice, 1);
      to_write_.push_back(r);
    }
    if (writing_) return a;
    if (!to_write_.empty()) {
      writing_ = true;
      in_write_ = to_write_.front();
      to_write_.pop_front();
      // Latency counts from here: the write waits for the previous one,
      // and that for the daemon's flow control to take it.
      unanswered_.push_back(SteadyNanos());
      a.write = in_write_;
    } else if (rc_->gate->closed()) {
      half_closed_ = true;
      a.writes_done = true;
    }
    return a;
  }

  void Run(const Actions& a) {
    if (a.write != nullptr) StartWrite(a.write);
    if (a.writes_done) StartWritesDone();
  }

  RunContext* const rc_;
  Stub* const stub_;
  Latch* const done_;
  grpc::ClientContext ctx_;
  Resp resp_;  // one read outstanding at a time
  std::vector<std::unique_ptr<Req>> pool_;

  std::mutex mu_;
  std::vector<Req*> free_;            // guarded by mu_
  std::deque<Req*> to_write_;         // guarded by mu_
  Req* in_write_ = nullptr;           // guarded by mu_
  std::deque<int64_t> unanswered_;    // guarded by mu_: write start times, in order
  uint64_t unexpected_ = 0;           // guarded by mu_
  bool writing_ = false;              // guarded by mu_
  bool half_closed_ = false;          // guarded by mu_
  bool broken_ = false;               // guarded by mu_
};

}  // namespace

bool RunStream(RunContext* rc) {
  const LoadOptions& o = *rc->options;
  // Both leaked with the workers if gRPC never completes them.
  auto done = std::make_unique<Latch>(o.streams);
  auto stubs = std::make_unique<std::vector<std::unique_ptr<Stub>>>();
  for (const auto& channel : rc->channels) stubs->push_back(std::make_unique<Stub>(channel));
  std::vector<std::unique_ptr<StreamWorker>> workers;
  for (int i = 0; i < o.streams; ++i) {
    workers.push_back(std::make_unique<StreamWorker>(
        rc, (*stubs)[i % stubs->size()].get(), done.get()));
  }
  for (auto& w : workers) w->Begin();
  const auto limit =
      std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(rc->gate->deadline_ns())) +
      std::chrono::milliseconds(static_cast<int64_t>(o.call_timeout_s * 1000) +
                                10000);
  if (!done->WaitUntil(limit)) {
    for (auto& w : workers) w.release();  // gRPC still holds them
    done.release();
    stubs.release();
    return false;
  }
  return true;
}

}  // namespace indelible::tools
