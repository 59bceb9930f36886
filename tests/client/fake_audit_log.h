// An in-process AuditLog server for client tests: a real gRPC server on
// 127.0.0.1 (port chosen by the kernel) with a tiny in-memory store that
// builds real chains through verifier/chain/ and signs a real checkpoint of
// every new head with a fixed test key, plus knobs to inject failures and to
// hold calls; and beside it an Admin service (FakeAdmin) that records what
// it is asked.
//
// Thread-safe: the knobs may be turned while calls are in flight.
#ifndef INDELIBLE_TESTS_CLIENT_FAKE_AUDIT_LOG_H_
#define INDELIBLE_TESTS_CLIENT_FAKE_AUDIT_LOG_H_

#include <grpcpp/server.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "indelible/v1/indelible.grpc.pb.h"
#include "verifier/chain/hash.h"
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
  void FailNext(int n, grpc::StatusCode code, std::string message = "injected failure");
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

  // Format v2: every record is a leaf of its tenant's tree (leaf hash from
  // its entry hash and stored category), and a v2 checkpoint (log name
  // kFakeLogName) is signed beside every v1 one. RewriteLeaf changes the
  // leaf at `index` of the tenant's tree (as a server rewriting history
  // would), then signs a checkpoint of the current size over the changed
  // tree; proofs are served from the changed tree from then on.
  static constexpr const char* kFakeLogName = "fake.test";
  void RewriteLeaf(const std::string& tenant, uint64_t index);
  // Serves record `seq` as retention leaves it: pruned, without salt,
  // canonical event and event, with `leaf_category` if set (the tree keeps
  // its leaf).
  void Prune(const std::string& tenant, uint64_t seq,
             std::optional<std::string> leaf_category);
  // While set, GetInclusionProof answers with these hashes.
  void ServeInclusionProof(std::optional<std::vector<std::string>> hashes);

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
  // Like the daemon: tree_size / new_size 0 is the newest v2 checkpoint's
  // size; INVALID_ARGUMENT for sizes out of range; with_checkpoint adds the
  // newest v2 checkpoint of exactly that size (NOT_FOUND if none).
  grpc::Status GetInclusionProof(grpc::ServerContext*,
                                 const v1::GetInclusionProofRequest*,
                                 v1::GetInclusionProofResponse*) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext*,
                                   const v1::GetConsistencyProofRequest*,
                                   v1::GetConsistencyProofResponse*) override;
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
  std::string fail_message_ = "injected failure";
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
  // Signs a v2 checkpoint of the tenant's whole tree. REQUIRES: mu_ held.
  void SignV2(const std::string& tenant);
  // The v2 checkpoint of exactly `size` (newest signed), or null.
  const v1::Checkpoint* V2At(const std::string& tenant, uint64_t size) const;
  // `size`, or the newest v2 checkpoint's size when it is 0 (a proof
  // request's "the newest"); false if there is none. REQUIRES: mu_ held.
  bool ResolveSize(const std::string& tenant, uint64_t* size) const;
  std::map<std::string, std::vector<chain::Digest>> leaves_;
  std::map<std::string, std::vector<v1::Checkpoint>> checkpoints_v2_;
  std::optional<std::vector<std::string>> served_inclusion_;
  std::optional<v1::Checkpoint> served_checkpoint_;
  std::optional<v1::GetPublicKeyResponse> served_key_;
};

// The Admin service beside a FakeAuditLog. Checks requests like the daemon
// (context.actor and context.reason required, tenant syntax, hold required,
// retention "<n>d" or "<n>h" within [24h, 3650d], no purge under legal hold
// or of a purged tenant), records each request, and answers as the daemon
// would: a change is appended to the tenant's chain in the FakeAuditLog as an
// "indelible.admin" event, so its receipt is real, and a purge returns a
// deletion certificate of the tenant's head signed with
// FakeAuditLog::TestSigner(). Default retentions: access 365d, trace 90d,
// anything else 365d.
//
// Thread-safe.
class FakeAdmin final : public v1::Admin::Service {
 public:
  explicit FakeAdmin(FakeAuditLog* log);

  // The next admin call fails with `code` and `message` before its checks.
  void FailNext(grpc::StatusCode code, std::string message);
  // While set, a PurgeTenant that passes its checks answers with this as it
  // is (and purges nothing); nullopt restores the real answers.
  void ServePurge(std::optional<v1::PurgeTenantResponse> response);
  // What Compact answers.
  void SetCompactCounters(uint64_t bodies_dropped, uint64_t event_ids_dropped);

  // Observations: every request received, in order, whatever the outcome.
  std::vector<v1::SetRetentionRequest> set_retention_requests() const;
  std::vector<v1::GetRetentionRequest> get_retention_requests() const;
  std::vector<v1::SetLegalHoldRequest> hold_requests() const;
  std::vector<v1::PurgeTenantRequest> purge_requests() const;
  int compact_calls() const;
  // Time left to the deadline of the last admin call when it arrived.
  std::chrono::milliseconds last_deadline_left() const;

  grpc::Status SetRetention(grpc::ServerContext*,
                            const v1::SetRetentionRequest*,
                            v1::SetRetentionResponse*) override;
  grpc::Status GetRetention(grpc::ServerContext*,
                            const v1::GetRetentionRequest*,
                            v1::GetRetentionResponse*) override;
  grpc::Status SetLegalHold(grpc::ServerContext*,
                            const v1::SetLegalHoldRequest*,
                            v1::SetLegalHoldResponse*) override;
  grpc::Status PurgeTenant(grpc::ServerContext*, const v1::PurgeTenantRequest*,
                           v1::PurgeTenantResponse*) override;
  grpc::Status Compact(grpc::ServerContext*, const v1::CompactRequest*,
                       v1::CompactResponse*) override;

 private:
  // Called first by every handler, with mu_ held: notes the deadline and
  // consumes FailNext.
  grpc::Status Arrive(grpc::ServerContext* ctx);
  // Appends the record of a change to the tenant's chain.
  grpc::Status Record(const v1::AdminContext& who, const std::string& tenant,
                      const std::string& action, const std::string& resource,
                      std::vector<std::pair<std::string, std::string>> meta,
                      v1::Receipt* receipt);
  uint64_t RetentionSeconds(const std::string& tenant,
                            const std::string& category) const;

  FakeAuditLog* const log_;
  const chain::NoteSigner signer_;
  mutable std::mutex mu_;
  std::optional<std::pair<grpc::StatusCode, std::string>> fail_next_;
  std::optional<v1::PurgeTenantResponse> served_purge_;
  uint64_t bodies_dropped_ = 0, event_ids_dropped_ = 0;
  std::vector<v1::SetRetentionRequest> set_retention_;
  std::vector<v1::GetRetentionRequest> get_retention_;
  std::vector<v1::SetLegalHoldRequest> holds_;
  std::vector<v1::PurgeTenantRequest> purges_;
  int compact_calls_ = 0;
  std::chrono::milliseconds last_deadline_left_{0};
  std::map<std::pair<std::string, std::string>, uint64_t> overrides_;
  std::set<std::string> held_, purged_;
  uint64_t next_admin_id_ = 1;
};

// FakeAuditLog and FakeAdmin served on 127.0.0.1:<kernel-chosen port>.
class FakeServer {
 public:
  FakeServer();
  ~FakeServer();  // unblocks held calls, then shuts down

  FakeAuditLog& service() { return service_; }
  FakeAdmin& admin() { return admin_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  FakeAuditLog service_;
  FakeAdmin admin_{&service_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace indelible::testing

#endif  // INDELIBLE_TESTS_CLIENT_FAKE_AUDIT_LOG_H_
