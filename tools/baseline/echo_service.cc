#include "tools/baseline/echo_service.h"

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace indelible::tools {
namespace {

std::vector<std::string> Records(const v1::AppendBatchRequest& in) {
  std::vector<std::string> out;
  out.reserve(in.events_size());
  for (const v1::Event& e : in.events()) out.push_back(e.SerializeAsString());
  return out;
}

grpc::Status DurableStatus(bool ok) {
  return ok ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAVAILABLE, "synced write failed");
}

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
        Reply& reply = pending_.emplace_back();
        service_->Answer(request_, &reply.response);
        if (DurableLog* log = service_->log()) {
          reply.durable = false;
          ++syncing_;
          log->Submit(Records(request_),
                      [this, r = &reply](bool synced) { OnDurable(r, synced); });
        }
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
  struct Reply {
    v1::AppendBatchResponse response;
    bool durable = true;
  };

  void OnDurable(Reply* reply, bool ok) {
    Actions act;
    {
      std::lock_guard<std::mutex> l(mu_);
      --syncing_;
      reply->durable = true;
      if (!ok) {
        read_closed_ = true;
        failed_ = true;
      }
      act = PlanLocked();
    }
    Run(act);
  }

  struct Actions {
    v1::AppendBatchResponse* write = nullptr;
    bool read = false;
    bool finish = false;
    bool failed = false;
  };

  Actions PlanLocked() {
    Actions a;
    if (finished_) return a;
    if (!writing_ && !failed_ && !pending_.empty() && pending_.front().durable) {
      writing_ = true;
      a.write = &pending_.front().response;
    }
    if (!read_closed_ && !reading_ &&
        pending_.size() < EchoService::kMaxStreamInFlight) {
      reading_ = true;
      a.read = true;
    }
    if (read_closed_ && !reading_ && !writing_ && syncing_ == 0 &&
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
  // Front may be writing; a deque keeps each element where it is, so the
  // log's callbacks can point at theirs.
  std::deque<Reply> pending_;
  size_t syncing_ = 0;  // answers the log has not called back yet
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
  if (log_ != nullptr) {
    log_->Submit({request->event().SerializeAsString()},
                 [reactor](bool ok) { reactor->Finish(DurableStatus(ok)); });
  } else {
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerUnaryReactor* EchoService::AppendBatch(
    grpc::CallbackServerContext* ctx, const v1::AppendBatchRequest* request,
    v1::AppendBatchResponse* response) {
  Answer(*request, response);
  auto* reactor = ctx->DefaultReactor();
  if (log_ != nullptr) {
    log_->Submit(Records(*request), [reactor](bool ok) { reactor->Finish(DurableStatus(ok)); });
  } else {
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::AppendBatchRequest, v1::AppendBatchResponse>*
EchoService::AppendStream(grpc::CallbackServerContext* ctx) {
  return new EchoStream(this);
}

}  // namespace indelible::tools
