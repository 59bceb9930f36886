// A synchronous client for the Admin service (proto/indelible/v1): retention
// policies, legal holds, tenant purge and on-demand compaction
// (docs/RETENTION.md). It shares the daemon's port with the AuditLog service.
//
//   auto admin = indelible::client::AdminClient::Connect({.target = "h:7410"});
//   absl::StatusOr<v1::SetRetentionResponse> r = (*admin)->SetRetention(
//       {.actor = "carol@ops", .reason = "ticket OPS-1"}, "acme", "trace",
//       "30d");
//
// Every change (SetRetention, SetLegalHold, PurgeTenant) carries who asks and
// why; the daemon records both in the tenant's chain and answers
// InvalidArgument ("context.actor: required") if either is empty. The client
// sends them as given and leaves the checking to the daemon.
//
// Errors are the server's gRPC status with the same code and message
// (status_convert.h), as for Client. Nothing is retried: a retried SetRetention
// or SetLegalHold records the change twice.
//
// Thread safety: an AdminClient is safe to use from many threads at once.
#ifndef INDELIBLE_CLIENT_ADMIN_CLIENT_H_
#define INDELIBLE_CLIENT_ADMIN_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "indelible/v1/indelible.grpc.pb.h"

namespace indelible::client {

namespace v1 = ::indelible::v1;

// The default deadline of each admin call. Far longer than Client's: a purge
// compacts the whole database before it answers, and so does Compact.
inline constexpr std::chrono::milliseconds kDefaultAdminDeadline =
    std::chrono::minutes(5);

struct AdminClientOptions {
  // gRPC target: "host:port", "dns:///host:port", "unix:/path", ...
  std::string target = "127.0.0.1:7410";

  // Deadline of each call. REQUIRES: > 0.
  std::chrono::milliseconds deadline = kDefaultAdminDeadline;

  // Channel credentials. Null means plaintext (insecure), which is only fit
  // for loopback; pass grpc::SslCredentials(...) for TLS.
  std::shared_ptr<grpc::ChannelCredentials> credentials;

  // Sent as "authorization: Bearer <token>" on every call when not empty.
  std::string bearer_token;
};

// Who asks for a change, and why (v1::AdminContext). Both are recorded in the
// tenant's chain with the change; the daemon requires both.
struct AdminContext {
  std::string actor;
  std::string reason;
};

class AdminClient {
 public:
  // Creates the channel; connects lazily, like Client::Connect.
  // InvalidArgument if the options are unusable (empty target, deadline <= 0).
  static absl::StatusOr<std::unique_ptr<AdminClient>> Connect(
      const AdminClientOptions& options);

  // Uses an existing channel (for instance a Client's target in-process).
  // REQUIRES: channel != nullptr, deadline > 0.
  AdminClient(std::shared_ptr<grpc::Channel> channel,
              std::chrono::milliseconds deadline);

  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Sets the retention of (tenant, category), e.g. "30d", "24h". It applies
  // to data already stored, at the next compaction. The response holds the
  // receipt of the recorded change and the retention it replaced.
  // InvalidArgument for a malformed value or one outside the daemon's
  // [retention.min, retention.max].
  absl::StatusOr<v1::SetRetentionResponse> SetRetention(
      const AdminContext& context, std::string_view tenant,
      std::string_view category, std::string_view retention);

  // The retention in force for each of `categories` of `tenant` (empty: the
  // configured categories and those overridden for the tenant), whether the
  // tenant is under legal hold, and its default retention.
  absl::StatusOr<v1::GetRetentionResponse> GetRetention(
      std::string_view tenant, const std::vector<std::string>& categories);

  // Places (`hold`) or lifts a legal hold on `tenant`; the response holds
  // the receipt of the recorded change, or, when lifting waits for a second
  // admin (two-person rule), the pending request.
  absl::StatusOr<v1::SetLegalHoldResponse> SetLegalHold(const AdminContext& context,
                                                        std::string_view tenant,
                                                        bool hold);

  // Deletes every record of `tenant`, irreversibly, and returns the signed
  // deletion certificate (as sent; not verified here) with its fields.
  // FailedPrecondition while the tenant is under legal hold, or if it was
  // purged before. Blocks until the daemon has compacted the data away.
  absl::StatusOr<v1::PurgeTenantResponse> PurgeTenant(
      const AdminContext& context, std::string_view tenant);

  // Carries out a pending destructive change as its second admin.
  absl::StatusOr<v1::ApproveResponse> Approve(const AdminContext& context,
                                              std::string_view request_id);

  // Pending requests of `tenant` (empty: every tenant the caller may see).
  absl::StatusOr<v1::ListPendingApprovalsResponse> ListPendingApprovals(
      std::string_view tenant);

  void set_bearer_token(std::string token) { bearer_token_ = std::move(token); }

  // Runs the retention compaction now; the counters are since the daemon
  // started.
  absl::StatusOr<v1::CompactResponse> Compact();

  // Has the daemon take a backup into its backup.dir while it keeps serving
  // appends (docs/OPERATIONS.md), then apply its backup retention. `label`
  // ([a-z0-9._-]{0,64}) is appended to the backup's name. The response names
  // the finished backup and the heads it holds. FailedPrecondition if the
  // daemon has no backup.dir. Not retried: each call takes a backup.
  // `reason` is recorded with the backup in every tenant's chain when the
  // daemon records reads (required when it requires read reasons).
  absl::StatusOr<v1::BackupResponse> Backup(std::string_view label,
                                            std::string_view reason = "");

  std::chrono::milliseconds deadline() const { return deadline_; }

 private:
  void PrepareContext(grpc::ClientContext* context) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Admin::Stub> stub_;
  const std::chrono::milliseconds deadline_;
  std::string bearer_token_;
};

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_ADMIN_CLIENT_H_
