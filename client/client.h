// A synchronous client for the AuditLog service (proto/indelible/v1).
//
//   auto client = indelible::client::Client::Connect({.target = "host:7410"});
//   if (!client.ok()) ...
//   absl::StatusOr<v1::Receipt> r = (*client)->Append(event);
//
// Every call blocks until the server answers or the per-call deadline
// (ClientOptions::deadline) passes. Errors are the server's gRPC status,
// converted with the same code and message (status_convert.h): for example
// InvalidArgument naming the bad field, Unavailable when the daemon cannot be
// reached, DeadlineExceeded when it did not answer in time.
//
// The client does not retry: a retry is only safe with an event_id, and the
// policy belongs to the caller (see BatchingAppender for one).
//
// Thread safety: a Client is safe to use from many threads at once; gRPC
// multiplexes the calls over one channel.
#ifndef INDELIBLE_CLIENT_CLIENT_H_
#define INDELIBLE_CLIENT_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "indelible/v1/indelible.grpc.pb.h"

namespace indelible::client {

namespace v1 = ::indelible::v1;

// The largest request message the daemon accepts: gRPC's receive limit,
// which indelibled sets to 16 MiB (docs/API.md, "Message size"). A larger
// request never reaches the service.
inline constexpr size_t kMaxRequestBytes = size_t{16} << 20;

// Bytes `event` adds to an AppendBatchRequest (or makes of an
// AppendRequest) on the wire: its encoding plus the field's tag and length.
// A batch's request is the sum over its events.
size_t EventRequestBytes(const v1::Event& event);

// InvalidArgument naming `event` by its event_id if it alone makes a request
// larger than kMaxRequestBytes; `bytes` is EventRequestBytes(event).
absl::Status CheckEventFits(const v1::Event& event, size_t bytes);

struct ClientOptions {
  // gRPC target: "host:port", "dns:///host:port", "unix:/path", ...
  std::string target = "127.0.0.1:7410";

  // Deadline of each call. For ReadRecords it bounds the whole stream.
  // REQUIRES: > 0.
  std::chrono::milliseconds deadline{10000};

  // Channel credentials. Null means plaintext (insecure), which is only fit
  // for loopback; pass grpc::SslCredentials(...) for TLS (see
  // client/credentials.h).
  std::shared_ptr<grpc::ChannelCredentials> credentials;

  // Sent as "authorization: Bearer <token>" on every call when not empty.
  std::string bearer_token;

  // Why this client reads: sent with ReadRecords and GetCheckpoint, which a
  // daemon with auth enabled requires and records (docs/SECURITY.md).
  std::string read_reason;
};

class Client {
 public:
  // Creates the channel. Does not wait for the server: gRPC connects lazily,
  // so an unreachable server shows up as Unavailable on the first call.
  // InvalidArgument if the options are unusable (empty target, deadline <= 0).
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options);

  // Uses an existing channel (in-process servers, custom channel arguments).
  // REQUIRES: channel != nullptr, deadline > 0.
  Client(std::shared_ptr<grpc::Channel> channel,
         std::chrono::milliseconds deadline);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Appends one event and returns its receipt once the record is on disk.
  // InvalidArgument, without calling the server, if the request would be
  // larger than kMaxRequestBytes.
  absl::StatusOr<v1::Receipt> Append(const v1::Event& event);

  // Appends `events` atomically: all are stored, or none (one bad event
  // rejects the whole call). Receipts are in the order of `events`.
  // Internal if the server answers with a different number of receipts.
  // InvalidArgument, without calling the server, if the request would be
  // larger than kMaxRequestBytes: the message names an event that is too
  // large on its own ("events[3]: event \"e-9\" is ..."), or else says to
  // split the batch (BatchingAppender and `indelible append --stdin` split
  // by bytes themselves).
  absl::StatusOr<std::vector<v1::Receipt>> AppendBatch(
      const std::vector<v1::Event>& events);

  // The newest record of `tenant` (seq 0 and the genesis hash if empty).
  absl::StatusOr<v1::GetHeadResponse> GetHead(std::string_view tenant);

  // Streams the records of `tenant` in seq order from `from_seq` (0 is read
  // as 1), at most `limit` of them (0: up to the server's maximum per call),
  // calling `on_record` for each. If `on_record` returns false the stream is
  // cancelled and ReadRecords returns OK. `on_record` runs on the calling
  // thread.
  absl::Status ReadRecords(
      std::string_view tenant, uint64_t from_seq, uint64_t limit,
      const std::function<bool(const v1::Record&)>& on_record);

  // A signed checkpoint of `tenant`: with `min_seq` 0 the newest, otherwise
  // the oldest whose seq is at least `min_seq`. NotFound if there is none
  // (yet: the daemon signs checkpoints periodically, so a fresh record is
  // covered a little later). The note is returned as the server sent it and
  // is not verified here: verify it with chain::VerifyCheckpoint against a
  // key obtained out of band. The other fields are the server's parse of the
  // note and may be unset for a note signed by an older key.
  absl::StatusOr<v1::Checkpoint> GetCheckpoint(std::string_view tenant,
                                               uint64_t min_seq);

  // A format v2 checkpoint (docs/FORMAT.md section 13) of `tenant`'s Merkle
  // tree: with `min_size` 0 the newest, otherwise the oldest of at least
  // `min_size` leaves. Not verified here (see proofs.h).
  absl::StatusOr<v1::Checkpoint> GetCheckpointV2(std::string_view tenant,
                                                 uint64_t min_size);

  // An RFC 9162 inclusion proof of record `seq` in the tree of `tree_size`
  // leaves (0: the newest v2 checkpoint's size), and a consistency proof
  // between two tree sizes (new_size 0: the newest checkpoint's). Not
  // verified here (see proofs.h).
  absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(
      std::string_view tenant, uint64_t seq, uint64_t tree_size,
      bool with_checkpoint = false);
  absl::StatusOr<v1::GetConsistencyProofResponse> GetConsistencyProof(
      std::string_view tenant, uint64_t old_size, uint64_t new_size,
      bool with_checkpoint = false);

  // The server's checkpoint signing key, as a verifier-key string and PEM.
  // Trust on first use: compare it with a copy obtained out of band.
  absl::StatusOr<v1::GetPublicKeyResponse> GetPublicKey();

  std::chrono::milliseconds deadline() const { return deadline_; }

  // See ClientOptions. Not thread-safe with calls in flight.
  void set_bearer_token(std::string token) { bearer_token_ = std::move(token); }
  void set_read_reason(std::string reason) { read_reason_ = std::move(reason); }

 private:
  void PrepareContext(grpc::ClientContext* context) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuditLog::Stub> stub_;
  const std::chrono::milliseconds deadline_;
  std::string bearer_token_;
  std::string read_reason_;
};

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_CLIENT_H_
