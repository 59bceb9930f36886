// AuditLogService: the gRPC callback service of indelible.v1.AuditLog.
//
// No thread blocks per call: appends are prepared on the RPC thread, handed
// to the Sequencer, and finished from its callback once durable.
//
// Thread-safe. REQUIRES: sequencer, storage and clock outlive the service
// (and the grpc::Server it is registered with).
#ifndef INDELIBLE_DAEMON_API_SERVICE_H_
#define INDELIBLE_DAEMON_API_SERVICE_H_

#include "daemon/security/auth.h"
#include "daemon/clock.h"
#include "daemon/trust/log_signer.h"
#include "daemon/write/ingest.h"
#include "daemon/api/receipt_proto.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "verifier/chain/note.h"

namespace indelible {

struct ServiceOptions {
  IngestLimits limits;
  // Most records one ReadRecords call returns (and the default limit).
  uint64_t max_read_records = 100000;
  // AppendStream: batches accepted but not yet answered, per stream.
  size_t max_stream_in_flight = 64;
  SaltSource salt_source = chain::RandomSalt;
  // Who may do what (docs/SECURITY.md). Null: open mode, like an Authorizer
  // with auth disabled.
  const Authorizer* authorizer = nullptr;

  // Applied to every appended event; null: none. REQUIRES: outlives the
  // service.
  const IngestRules* ingest_rules = nullptr;

  // Called with the outcome of each proof request; null: not counted.
  std::function<void(const absl::Status&)> proof_counter;
};

// The category of the records the daemon appends when a tenant's records or
// checkpoints are read through it. Categories starting "indelible." are
// reserved for the daemon's own records.
inline constexpr char kAccessCategory[] = "indelible.access";
// The trailing metadata of an append refused by flow control: milliseconds
// to wait before retrying (also what gRPC's own retry policy honours).
inline constexpr char kRetryPushbackKey[] = "grpc-retry-pushback-ms";
inline constexpr char kReservedCategoryPrefix[] = "indelible.";

class AuditLogService final : public v1::AuditLog::CallbackService {
 public:
  AuditLogService(Sequencer* sequencer, Storage* storage, Clock* clock,
                  const LogSigner* signer, ServiceOptions options);

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* ctx,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;
  grpc::ServerUnaryReactor* AppendBatch(
      grpc::CallbackServerContext* ctx, const v1::AppendBatchRequest* request,
      v1::AppendBatchResponse* response) override;
  grpc::ServerBidiReactor<v1::AppendBatchRequest, v1::AppendBatchResponse>*
  AppendStream(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* GetHead(grpc::CallbackServerContext* ctx,
                                    const v1::GetHeadRequest* request,
                                    v1::GetHeadResponse* response) override;
  grpc::ServerWriteReactor<v1::Record>* ReadRecords(
      grpc::CallbackServerContext* ctx,
      const v1::ReadRecordsRequest* request) override;
  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest* request,
      v1::Checkpoint* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* ctx, const v1::GetInclusionProofRequest* request,
      v1::GetInclusionProofResponse* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* ctx, const v1::GetConsistencyProofRequest* request,
      v1::GetConsistencyProofResponse* response) override;
  grpc::ServerUnaryReactor* GetPublicKey(
      grpc::CallbackServerContext* ctx, const v1::GetPublicKeyRequest* request,
      v1::GetPublicKeyResponse* response) override;

  // Authorises `who` as a writer of every event's tenant, then validates and
  // prepares the batch; a validation error names <path>.events[i].field, or
  // events[i].field when `path` is empty ("requests[3]" names the 4th
  // request of a stream).
  absl::Status PrepareBatch(const Principal& who, const v1::AppendBatchRequest& request,
                            std::string_view path, std::vector<PreparedEvent>* out);

  // The caller's principal (UNAUTHENTICATED if it presents none).
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& ctx) const {
    return authorizer_->Authenticate(ctx);
  }

 private:
  void ServeCheckpoint(const v1::GetCheckpointRequest* request, v1::Checkpoint* response,
                       grpc::ServerUnaryReactor* reactor);
  // The stored v2 checkpoint of the smallest size >= min_size (0: newest).
  absl::Status FillCheckpointV2(const std::string& tenant, uint64_t min_size,
                                v1::Checkpoint* out) const;
  // The stored v2 checkpoint of exactly `size`, for a proof asked
  // with_checkpoint; NotFound (naming `size_field`) if none of that size
  // was signed.
  absl::Status FillProofCheckpoint(const std::string& tenant, uint64_t size,
                                   std::string_view size_field, v1::Checkpoint* out) const;
  // Authorises a proof request and resolves the tree size it is about (0:
  // the newest v2 checkpoint's); `field` names the size in errors.
  absl::StatusOr<uint64_t> ProofTreeSize(const grpc::ServerContextBase& ctx,
                                         const std::string& tenant, uint64_t size,
                                         std::string_view field);
  // Reads a plan's nodes in one MultiGet and folds them into proof hashes.
  absl::Status ResolveProof(const std::string& tenant, const chain::ProofPlan& plan,
                            google::protobuf::RepeatedPtrField<std::string>* out) const;
  // Ends a unary append refused by flow control (max_queued_events):
  // RESOURCE_EXHAUSTED "busy: ..." naming the limit, and the retry hint in
  // the trailing metadata kRetryPushbackKey. Nothing was stored.
  void RefuseBusy(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor) const;
  // Checks `who` may write `event` (role on its tenant, no reserved
  // category). `path` names the event in errors.
  absl::Status AuthorizeEvent(const Principal& who, const v1::Event& event,
                              std::string_view path) const;
  // Authenticates, checks the tenant id, authorises `roles` and, for
  // recorded reads, the reason. Returns the principal.
  absl::StatusOr<Principal> AuthorizeRead(const grpc::ServerContextBase& ctx,
                                          const std::string& tenant, RoleSet roles,
                                          std::string_view what,
                                          const std::string* reason) const;
  // Appends the record of a read to `tenant`'s chain (when reads are
  // recorded), then calls `done` with the outcome, on one of the sequencer's
  // threads or the calling one.
  void RecordRead(const Principal& who, const std::string& tenant, std::string action,
                  std::string resource_id, const std::string& reason,
                  std::vector<std::pair<std::string, std::string>> metadata,
                  std::function<void(absl::Status)> done);

  Sequencer* const sequencer_;
  Storage* const storage_;
  Clock* const clock_;
  const LogSigner* const signer_;
  const ServiceOptions options_;
  Authorizer open_authorizer_{AuthConfig{}};
  const Authorizer* const authorizer_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_SERVICE_H_
