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
#ifndef INDELIBLE_DAEMON_API_ADMIN_SERVICE_H_
#define INDELIBLE_DAEMON_API_ADMIN_SERVICE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/security/auth.h"
#include "daemon/ops/backup.h"
#include "daemon/trust/checkpointer.h"
#include "daemon/trust/log_signer.h"
#include "daemon/clock.h"
#include "daemon/governance/daemon_records.h"
#include "daemon/write/ingest.h"
#include "daemon/periodic_task.h"
#include "daemon/ops/retention.h"
#include "daemon/ops/retention_filter.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
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
  const LogSigner* signer = nullptr;
  // Signs deletion certificates (with the checkpoint of the final head).
  Checkpointer* checkpointer = nullptr;
  Backuper* backuper = nullptr;  // null: Backup answers FAILED_PRECONDITION
  IngestLimits limits;
  // Null: open mode (no authentication, no two-person rule).
  const Authorizer* authorizer = nullptr;
};

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(AdminDeps deps);
  ~AdminService() override;

  // Records and drops pending approvals whose time is up, every `interval`
  // (and on each Approve and ListPendingApprovals call).
  void StartExpiry(std::chrono::milliseconds interval);
  void StopExpiry();

  // One expiry pass; returns how many requests expired.
  absl::StatusOr<int> ExpirePendingApprovals();

  grpc::Status SetRetention(grpc::ServerContext* ctx, const v1::SetRetentionRequest* req,
                            v1::SetRetentionResponse* resp) override;
  grpc::Status GetRetention(grpc::ServerContext* ctx, const v1::GetRetentionRequest* req,
                            v1::GetRetentionResponse* resp) override;
  grpc::Status SetLegalHold(grpc::ServerContext* ctx, const v1::SetLegalHoldRequest* req,
                            v1::SetLegalHoldResponse* resp) override;
  grpc::Status PurgeTenant(grpc::ServerContext* ctx, const v1::PurgeTenantRequest* req,
                           v1::PurgeTenantResponse* resp) override;
  grpc::Status Approve(grpc::ServerContext* ctx, const v1::ApproveRequest* req,
                       v1::ApproveResponse* resp) override;
  grpc::Status ListPendingApprovals(grpc::ServerContext* ctx,
                                    const v1::ListPendingApprovalsRequest* req,
                                    v1::ListPendingApprovalsResponse* resp) override;
  grpc::Status Compact(grpc::ServerContext* ctx, const v1::CompactRequest* req,
                       v1::CompactResponse* resp) override;
  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                      v1::BackupResponse* resp) override;
  grpc::Status AdvanceTestClock(grpc::ServerContext* ctx,
                                const v1::AdvanceTestClockRequest* req,
                                v1::AdvanceTestClockResponse* resp) override;

 private:
  using Metadata = std::vector<std::pair<std::string, std::string>>;
  // Who a recorded change is attributed to, why, and what else to record
  // with it (approval details); `approval_key` is deleted in the same batch.
  struct Attribution {
    std::string actor;
    std::string reason;
    Metadata metadata;
    std::string approval_key;
  };

  // Authenticates, checks the tenant id and `roles` on it. For changes
  // (`context` set) also checks the context and fills *who.
  absl::StatusOr<Principal> Authorize(grpc::ServerContext* ctx, const std::string& tenant,
                                      RoleSet roles, std::string_view what,
                                      const v1::AdminContext* context,
                                      Attribution* who) const;
  // Appends an admin event to `tenant`'s chain, with `extra` in its batch.
  absl::StatusOr<Receipt> Record(const std::string& tenant, const Attribution& who,
                                 const std::string& action, const std::string& resource_type,
                                 const std::string& resource_id, Metadata metadata,
                                 Sequencer::Extra extra);
  // Records a destructive request for approval and fills *pending.
  grpc::Status RequestApproval(const Principal& requester, const Attribution& who,
                               v1::ApprovalRecord record, const std::string& action,
                               const std::string& summary, v1::PendingApproval* pending);

  grpc::Status ApplyRetention(const std::string& tenant, const std::string& category,
                              uint64_t seconds, const Attribution& who,
                              v1::SetRetentionResponse* resp);
  grpc::Status ApplyHold(const std::string& tenant, bool hold, const Attribution& who,
                         v1::SetLegalHoldResponse* resp);
  grpc::Status ApplyPurge(const std::string& tenant, const Attribution& who,
                          v1::PurgeTenantResponse* resp);

  const AdminDeps deps_;
  Authorizer open_authorizer_{AuthConfig{}};
  const Authorizer* const auth_;
  const DaemonRecorder recorder_;

  std::mutex approvals_mu_;  // serialises Approve and expiry

  std::unique_ptr<PeriodicTask> expiry_;  // from StartExpiry
};

// Loads persisted overrides, holds and purges into `state`.
absl::Status LoadRetentionState(Storage* storage, RetentionState* state);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_ADMIN_SERVICE_H_
