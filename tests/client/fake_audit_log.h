// An in-process AuditLog server for client tests: a real gRPC server on
// 127.0.0.1 (port chosen by the kernel) with a tiny in-memory store that
// builds real chains through verifier/chain/ and signs a real checkpoint of
// every new head with a fixed test key, plus knobs to inject failures and to
// hold calls.
//
// Thread-safe: the knobs may be turned while calls are in flight.
#ifndef INDELIBLE_TESTS_CLIENT_FAKE_AUDIT_LOG_H_
#define INDELIBLE_TESTS_CLIENT_FAKE_AUDIT_LOG_H_

#include <grpcpp/server.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "indelible/v1/indelible.grpc.pb.h"
#include "verifier/chain/note.h"

namespace indelible::testing {

namespace v1 = ::indelible::v1;

class FakeAuditLog final : public v1::AuditLog::Service {
 public:
  // Signs with TestSigner().
  FakeAuditLog();

  // The fixed checkpoint key of every FakeAuditLog ("fake-log", from a
  // constant seed).
  static chain::NoteSigner TestSigner();

  // The next `n` Append/AppendBatch calls fail with `code` before touching
  // the store.
  void FailNext(int n, grpc::StatusCode code);
  // The next `n` Append/AppendBatch calls store their events, then answer
  // with `code` as if the response had been lost on the way.
  void LoseResponses(int n, grpc::StatusCode code);
  // While blocked, Append/AppendBatch calls wait inside the handler.
  void Block();
  void Unblock();
  // Waits (up to 10 s) until `n` calls are waiting in Block(). True if so.
  bool WaitForBlockedCalls(int n);
  // Most records one ReadRecords call returns when the request has no limit.
  void SetMaxReadRecords(uint64_t n);
  // While set, GetCheckpoint (after the tenant check) and GetPublicKey answer
  // with these as they are; nullopt restores the real answers.
  void ServeCheckpoint(std::optional<v1::Checkpoint> checkpoint);
  void ServePublicKey(std::optional<v1::GetPublicKeyResponse> key);

  // Observations.
  int append_calls() const;  // Append + AppendBatch, all outcomes
  std::vector<size_t> batch_sizes() const;  // events per call, in call order
  std::vector<v1::Event> stored_events(const std::string& tenant) const;

  grpc::Status Append(grpc::ServerContext*, const v1::AppendRequest*,
                      v1::AppendResponse*) override;
  grpc::Status AppendBatch(grpc::ServerContext*, const v1::AppendBatchRequest*,
                           v1::AppendBatchResponse*) override;
  grpc::Status GetHead(grpc::ServerContext*, const v1::GetHeadRequest*,
                       v1::GetHeadResponse*) override;
  grpc::Status ReadRecords(grpc::ServerContext*, const v1::ReadRecordsRequest*,
                           grpc::ServerWriter<v1::Record>*) override;
  // Like the daemon: min_seq 0 is the newest checkpoint, otherwise the oldest
  // at or after min_seq; NOT_FOUND if none. One is signed after every
  // Append/AppendBatch call that stored a record of the tenant.
  grpc::Status GetCheckpoint(grpc::ServerContext*,
                             const v1::GetCheckpointRequest*,
                             v1::Checkpoint*) override;
  grpc::Status GetPublicKey(grpc::ServerContext*,
                            const v1::GetPublicKeyRequest*,
                            v1::GetPublicKeyResponse*) override;

 private:
  // Validates like the daemon (required fields, tenant syntax) and stores
  // atomically. Errors name the field as "events[i].x" (batch) or "event.x".
  grpc::Status Store(const std::vector<const v1::Event*>& events, bool batch,
                     std::vector<v1::Receipt>* receipts);
  void WaitWhileBlocked(std::unique_lock<std::mutex>& l);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int fail_next_ = 0;
  grpc::StatusCode fail_code_ = grpc::StatusCode::UNAVAILABLE;
  int lose_next_ = 0;
  grpc::StatusCode lose_code_ = grpc::StatusCode::UNAVAILABLE;
  bool blocked_ = false;
  int blocked_calls_ = 0;
  uint64_t max_read_ = 1000;
  int append_calls_ = 0;
  std::vector<size_t> batch_sizes_;
  std::map<std::string, std::vector<v1::Record>> chains_;
  std::map<std::pair<std::string, std::string>, v1::Receipt> by_event_id_;
  uint64_t last_received_at_ = 0;
  const chain::NoteSigner signer_;
  std::map<std::string, std::vector<v1::Checkpoint>> checkpoints_;
  std::optional<v1::Checkpoint> served_checkpoint_;
  std::optional<v1::GetPublicKeyResponse> served_key_;
};

// FakeAuditLog served on 127.0.0.1:<kernel-chosen port>.
class FakeServer {
 public:
  FakeServer();
  ~FakeServer();  // unblocks held calls, then shuts down

  FakeAuditLog& service() { return service_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  FakeAuditLog service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace indelible::testing

#endif  // INDELIBLE_TESTS_CLIENT_FAKE_AUDIT_LOG_H_
