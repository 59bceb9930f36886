// EchoService: the AuditLog service with nothing behind it, the "bare gRPC"
// baseline. Append, AppendBatch and AppendStream answer at once with
// receipts of the real size (tenant, seq, time, a 32-byte hash) and store
// nothing: no validation, hashing or disk. Driven by indelible-loadgen
// (--verify none), it shows what gRPC itself allows on this machine for
// the same messages and the same call pattern.
//
// AppendStream answers in order and, like the daemon, reads ahead at most
// kMaxStreamInFlight messages. The other methods are UNIMPLEMENTED.
//
// Given a DurableLog (the "durable echo"), every answer waits until the
// request's events are in a synced group commit of that log: what gRPC plus
// the least durable storage allow, with none of the daemon's own work.
//
// Thread-safe.
#ifndef INDELIBLE_TOOLS_BASELINE_ECHO_SERVICE_H_
#define INDELIBLE_TOOLS_BASELINE_ECHO_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "indelible/v1/indelible.grpc.pb.h"
#include "tools/baseline/durable_log.h"

namespace indelible::tools {

class EchoService final : public v1::AuditLog::CallbackService {
 public:
  static constexpr size_t kMaxStreamInFlight = 64;

  // `log` (may be null: answer at once) must outlive the service.
  explicit EchoService(DurableLog* log = nullptr) : log_(log) {}
  DurableLog* log() const { return log_; }

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* ctx,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;
  grpc::ServerUnaryReactor* AppendBatch(
      grpc::CallbackServerContext* ctx, const v1::AppendBatchRequest* request,
      v1::AppendBatchResponse* response) override;
  grpc::ServerBidiReactor<v1::AppendBatchRequest, v1::AppendBatchResponse>*
  AppendStream(grpc::CallbackServerContext* ctx) override;

  // Fills `out` with one receipt per event of `in`.
  void Answer(const v1::AppendBatchRequest& in, v1::AppendBatchResponse* out);

 private:
  void Fill(const v1::Event& e, v1::Receipt* r);

  DurableLog* const log_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_BASELINE_ECHO_SERVICE_H_
