// AppendStreamReactor: one AppendStream call. Each request (a batch) is
// prepared and submitted to the sequencer as it arrives; responses are
// written strictly in request order, each only after its batch is durable.
// At most `max_in_flight` batches are outstanding, and the next request is
// read only while the sequencer holds fewer than max_queued_events events
// (Sequencer::RoomOrWait): otherwise reading pauses, which pushes back on
// the client through gRPC flow control. Nothing is refused for being busy.
//
// A bad request (invalid or not authorised) is queued behind the batches
// before it like a failed commit: they are answered first, then the stream
// ends with its status, whose message names it ("requests[1].events[0].
// actor.id: required"; "requests[1]: ..." where no field is to blame).
// Nothing is read after a bad request, so nothing at or after it is stored.
// A batch whose commit fails ends the stream the same way; batches after it
// that were already submitted may have been committed without an answer
// (retrying them with the same event ids returns their receipts).
#ifndef INDELIBLE_DAEMON_API_APPEND_STREAM_H_
#define INDELIBLE_DAEMON_API_APPEND_STREAM_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/api/response_pool.h"
#include "daemon/security/auth.h"
#include "daemon/write/sequencer.h"
#include "indelible/v1/indelible.grpc.pb.h"

namespace indelible {

// Authorises `who` for one request of the stream, validates and prepares
// its events; errors name `path` ("requests[3]"). The service passes its
// own (AuditLogService::PrepareBatch), so this file does not know it.
using PrepareBatchFn =
    std::function<absl::Status(const Principal& who, const v1::AppendBatchRequest& request,
                               std::string_view path, std::vector<PreparedEvent>* out)>;

class AppendStreamReactor final
    : public grpc::ServerBidiReactor<v1::AppendBatchRequest,
                                     v1::AppendBatchResponse> {
 public:
  // Ends the call at once with `who`'s error if the caller is not
  // authenticated; each batch is authorised for `who`.
  // Prepared batches go to `sequencer`, which must outlive the call.
  AppendStreamReactor(PrepareBatchFn prepare, Sequencer* sequencer,
                      absl::StatusOr<Principal> who, size_t max_in_flight);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  struct Slot {
    uint64_t index = 0;  // the request's position in the stream, from 0
    bool ready = false;
    absl::Status status;
    // Filled in by OnCommitted before `ready`; once written it goes back
    // to spare_. No response for a bad request.
    ResponsePool::Lease answer;
  };
  // At most this many receipts in the responses spare_ keeps (up to about
  // 440 bytes each): an idle stream keeps at most 1.8 MB.
  static constexpr size_t kSpareReceipts = 4096;
  // What to do once mu_ is released.
  struct Actions {
    bool read = false;
    v1::AppendBatchResponse* write = nullptr;
    bool finish = false;
    grpc::Status finish_status;
  };

  // The sequencer has room again (after RoomOrWait said no).
  void OnRoom();
  void OnCommitted(Slot* slot, absl::StatusOr<std::vector<Receipt>> result);
  // `s` with a message that names request `index` of the stream.
  static absl::Status NameRequest(uint64_t index, const absl::Status& s);
  // REQUIRES: mu_ held.
  void Plan(Actions* a);
  void Run(const Actions& a);

  const PrepareBatchFn prepare_;
  Sequencer* const sequencer_;
  // Set by the sequencer when a request fails: the ones after it that are
  // already submitted are then refused, not stored unanswered.
  const Sequencer::StreamFailed failed_ = std::make_shared<std::atomic<bool>>(false);
  const Principal who_;
  const size_t max_in_flight_;
  v1::AppendBatchRequest request_;
  uint64_t next_index_ = 0;     // index of the request read next

  std::mutex mu_;
  std::deque<Slot> slots_;      // in request order; front may be writing
  ResponsePool spare_{kSpareReceipts};
  bool writing_ = false;
  bool reading_ = true;         // a StartRead is outstanding
  bool waiting_ = false;        // waiting for room in the sequencer
  bool read_closed_ = false;    // no more reads: half-close, error or cancel
  bool finished_ = false;
  absl::Status error_;          // first error; ends the stream
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_APPEND_STREAM_H_
