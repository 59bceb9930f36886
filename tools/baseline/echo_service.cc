#include "tools/baseline/echo_service.h"

#include <chrono>
#include <deque>
#include <mutex>
#include <string>

namespace indelible::tools {
namespace {

const std::string& FakeHash() {
  static const std::string h(32, '\x5a');
  return h;
}

class EchoStream final
    : public grpc::ServerBidiReactor<v1::AppendBatchRequest,
                                     v1::AppendBatchResponse> {
 public:
  explicit EchoStream(EchoService* service) : service_(service) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    Actions a;
    {
      std::lock_guard<std::mutex> l(mu_);
      reading_ = false;
      if (ok) {
        service_->Answer(request_, &pending_.emplace_back());
      } else {
        read_closed_ = true;
      }
      a = PlanLocked();
    }
    Run(a);
  }

  void OnWriteDone(bool ok) override {
    Actions a;
    {
      std::lock_guard<std::mutex> l(mu_);
      writing_ = false;
      pending_.pop_front();
      if (!ok) {
        read_closed_ = true;
        failed_ = true;
      }
      a = PlanLocked();
    }
    Run(a);
  }

  void OnDone() override { delete this; }

 private:
  struct Actions {
    v1::AppendBatchResponse* write = nullptr;
    bool read = false;
    bool finish = false;
    bool failed = false;
  };

  Actions PlanLocked() {
    Actions a;
    if (finished_) return a;
    if (!writing_ && !failed_ && !pending_.empty()) {
      writing_ = true;
      a.write = &pending_.front();
    }
    if (!read_closed_ && !reading_ &&
        pending_.size() < EchoService::kMaxStreamInFlight) {
      reading_ = true;
      a.read = true;
    }
    if (read_closed_ && !reading_ && !writing_ &&
        (pending_.empty() || failed_)) {
      finished_ = true;
      a.finish = true;
      a.failed = failed_;
    }
    return a;
  }

  void Run(const Actions& a) {
    if (a.write != nullptr) StartWrite(a.write);
    if (a.read) StartRead(&request_);
    if (a.finish) {
      Finish(a.failed ? grpc::Status(grpc::StatusCode::CANCELLED, "write failed")
                     : grpc::Status::OK);
    }
  }

  EchoService* const service_;
  v1::AppendBatchRequest request_;
  std::mutex mu_;
  std::deque<v1::AppendBatchResponse> pending_;  // front may be writing
  bool reading_ = true;
  bool writing_ = false;
  bool read_closed_ = false;
  bool failed_ = false;
  bool finished_ = false;
};

}  // namespace

void EchoService::Fill(const v1::Event& e, v1::Receipt* r) {
  r->set_tenant(e.tenant());
  r->set_seq(seq_.fetch_add(1, std::memory_order_relaxed) + 1);
  r->set_received_at_ns(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count()));
  r->set_entry_hash(FakeHash());
}

void EchoService::Answer(const v1::AppendBatchRequest& in,
                         v1::AppendBatchResponse* out) {
  for (const v1::Event& e : in.events()) Fill(e, out->add_receipts());
}

grpc::ServerUnaryReactor* EchoService::Append(grpc::CallbackServerContext* ctx,
                                              const v1::AppendRequest* request,
                                              v1::AppendResponse* response) {
  Fill(request->event(), response->mutable_receipt());
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* EchoService::AppendBatch(
    grpc::CallbackServerContext* ctx, const v1::AppendBatchRequest* request,
    v1::AppendBatchResponse* response) {
  Answer(*request, response);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerBidiReactor<v1::AppendBatchRequest, v1::AppendBatchResponse>*
EchoService::AppendStream(grpc::CallbackServerContext* ctx) {
  return new EchoStream(this);
}

}  // namespace indelible::tools
