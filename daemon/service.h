// AuditLogService: the gRPC callback service of indelible.v1.AuditLog.
//
// No thread blocks per call: appends are prepared on the RPC thread, handed
// to the Sequencer, and finished from its callback once durable.
//
// Thread-safe. REQUIRES: sequencer, storage and clock outlive the service
// (and the grpc::Server it is registered with).
#ifndef INDELIBLE_DAEMON_SERVICE_H_
#define INDELIBLE_DAEMON_SERVICE_H_

#include "daemon/clock.h"
#include "daemon/ingest.h"
#include "daemon/sequencer.h"
#include "daemon/storage.h"
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
  // Applied to every appended event; null: none. REQUIRES: outlives the
  // service.
  const IngestRules* ingest_rules = nullptr;
};

class AuditLogService final : public v1::AuditLog::CallbackService {
 public:
  AuditLogService(Sequencer* sequencer, Storage* storage, Clock* clock,
                  const chain::NoteSigner* signer, ServiceOptions options);

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
  grpc::ServerUnaryReactor* GetPublicKey(
      grpc::CallbackServerContext* ctx, const v1::GetPublicKeyRequest* request,
      v1::GetPublicKeyResponse* response) override;

  // Validates and prepares a batch; the error names events[i].field.
  absl::Status PrepareBatch(const v1::AppendBatchRequest& request,
                            std::vector<PreparedEvent>* out);

  Sequencer* sequencer() { return sequencer_; }

 private:
  Sequencer* const sequencer_;
  Storage* const storage_;
  Clock* const clock_;
  const chain::NoteSigner* const signer_;
  const ServiceOptions options_;
};

void ToProto(const Receipt& r, v1::Receipt* out);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SERVICE_H_
