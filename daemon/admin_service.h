// AdminService: indelible.v1.Admin — retention policies, legal holds, tenant
// purge and on-demand retention compaction (docs/RETENTION.md), and backups
// (docs/OPERATIONS.md).
//
// Every change is appended to the tenant's chain as an "indelible.admin"
// event (who, why, what changed) in the same synced WriteBatch as the change,
// so the log records its own administration. Admin calls are rare and may
// wait for compactions, so this is a synchronous gRPC service.
//
// Thread-safe. REQUIRES: every pointer outlives the service.
#ifndef INDELIBLE_DAEMON_ADMIN_SERVICE_H_
#define INDELIBLE_DAEMON_ADMIN_SERVICE_H_

#include "daemon/backup.h"
#include "daemon/clock.h"
#include "daemon/ingest.h"
#include "daemon/retention.h"
#include "daemon/retention_filter.h"
#include "daemon/sequencer.h"
#include "daemon/storage.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "verifier/chain/note.h"

namespace indelible {

inline constexpr char kAdminCategory[] = "indelible.admin";

struct AdminDeps {
  Sequencer* sequencer = nullptr;
  Storage* storage = nullptr;
  Clock* clock = nullptr;
  ManualClock* test_clock = nullptr;  // null unless --testing-manual-clock
  RetentionState* retention = nullptr;
  RetentionCounters* counters = nullptr;
  const chain::NoteSigner* signer = nullptr;
  Backuper* backuper = nullptr;  // null: Backup answers FAILED_PRECONDITION
  IngestLimits limits;
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(AdminDeps deps);

  grpc::Status SetRetention(grpc::ServerContext* ctx, const v1::SetRetentionRequest* req,
                            v1::SetRetentionResponse* resp) override;
  grpc::Status GetRetention(grpc::ServerContext* ctx, const v1::GetRetentionRequest* req,
                            v1::GetRetentionResponse* resp) override;
  grpc::Status SetLegalHold(grpc::ServerContext* ctx, const v1::SetLegalHoldRequest* req,
                            v1::SetLegalHoldResponse* resp) override;
  grpc::Status PurgeTenant(grpc::ServerContext* ctx, const v1::PurgeTenantRequest* req,
                           v1::PurgeTenantResponse* resp) override;
  grpc::Status Compact(grpc::ServerContext* ctx, const v1::CompactRequest* req,
                       v1::CompactResponse* resp) override;
  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                      v1::BackupResponse* resp) override;
  grpc::Status AdvanceTestClock(grpc::ServerContext* ctx,
                                const v1::AdvanceTestClockRequest* req,
                                v1::AdvanceTestClockResponse* resp) override;

 private:
  // Appends an admin event to `tenant`'s chain, with `extra` in its batch.
  absl::StatusOr<Receipt> Record(const std::string& tenant, const v1::AdminContext& who,
                                 const std::string& action, const std::string& resource_type,
                                 const std::string& resource_id,
                                 std::vector<std::pair<std::string, std::string>> metadata,
                                 Sequencer::Extra extra);

  const AdminDeps d_;
};

// Loads persisted overrides, holds and purges into `state`.
absl::Status LoadRetentionState(Storage* storage, RetentionState* state);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_ADMIN_SERVICE_H_
