#include "daemon/api/append_stream.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/api/grpc_status.h"
#include "daemon/api/receipt_proto.h"

namespace indelible {

AppendStreamReactor::AppendStreamReactor(PrepareBatchFn prepare, Sequencer* sequencer,
                                         absl::StatusOr<Principal> who,
                                         size_t max_in_flight)
    : prepare_(std::move(prepare)), sequencer_(sequencer),
      who_(who.ok() ? *who : Principal{}),
      max_in_flight_(max_in_flight) {
  if (!who.ok()) {
    reading_ = false;
    read_closed_ = true;
    finished_ = true;
    Finish(ToGrpcStatus(who.status()));
    return;
  }
  Actions a;
  {
    std::lock_guard<std::mutex> l(mu_);
    reading_ = false;
    Plan(&a);
  }
  Run(a);
}

void AppendStreamReactor::OnRoom() {
  Actions a;
  {
    std::lock_guard<std::mutex> l(mu_);
    waiting_ = false;
    Plan(&a);
  }
  Run(a);
}

void AppendStreamReactor::OnReadDone(bool ok) {
  // Only one read is outstanding, so request_ and next_index_ are this
  // callback's until it starts the next read.
  std::vector<PreparedEvent> events;
  absl::Status prepared;
  uint64_t index = 0;
  if (ok) {
    index = next_index_++;
    prepared = prepare_(who_, request_,
                        absl::StrCat("requests[", index, "]"), &events);
  }
  Actions a;
  Slot* slot = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    reading_ = false;
    if (!ok) {
      read_closed_ = true;
    } else if (!prepared.ok()) {
      // Answered in turn, after the batches before it: nothing more is read.
      Slot& bad = slots_.emplace_back();
      bad.index = index;
      bad.ready = true;
      bad.status = NameRequest(index, prepared);
      read_closed_ = true;
    } else {
      slot = &slots_.emplace_back();
      slot->index = index;
      slot->answer = spare_.Take();
    }
    Plan(&a);
  }
  if (slot != nullptr) {
    // Outside mu_: the callback may run at once (a refused request), and it
    // takes mu_. Before Run(a), which may start the next read, so a
    // stream's messages are submitted in order. The callback runs on one of
    // the sequencer's threads; the reactor cannot be deleted before it,
    // since Finish waits for every slot to be ready.
    sequencer_->Submit(
        std::move(events),
        [this, slot](absl::StatusOr<std::vector<Receipt>> r) {
          OnCommitted(slot, std::move(r));
        },
        nullptr, failed_);
  }
  Run(a);
}

absl::Status AppendStreamReactor::NameRequest(uint64_t index, const absl::Status& s) {
  const std::string name = absl::StrCat("requests[", index, "]");
  if (absl::StartsWith(s.message(), name)) return s;
  return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
}

void AppendStreamReactor::OnCommitted(
    Slot* slot, absl::StatusOr<std::vector<Receipt>> result) {
  // The slot is not ready, so nothing else touches its response: filled in
  // outside mu_, which a gRPC thread may be waiting for.
  if (result.ok()) {
    for (const Receipt& r : *result) ToProto(r, slot->answer.response->add_receipts());
  }
  Actions a;
  {
    std::lock_guard<std::mutex> l(mu_);
    slot->ready = true;
    if (!result.ok()) slot->status = NameRequest(slot->index, result.status());
    Plan(&a);
  }
  Run(a);
}

void AppendStreamReactor::OnWriteDone(bool ok) {
  Actions a;
  {
    std::lock_guard<std::mutex> l(mu_);
    writing_ = false;
    spare_.Give(std::move(slots_.front().answer));
    slots_.pop_front();
    if (!ok) {
      read_closed_ = true;
      if (error_.ok()) error_ = absl::CancelledError("client went away");
    }
    Plan(&a);
  }
  Run(a);
}

void AppendStreamReactor::Plan(Actions* a) {
  if (finished_) return;
  // A bad request or failed commit at the front ends the stream, once every
  // batch before it has been answered.
  if (!writing_ && !slots_.empty() && slots_.front().ready &&
      !slots_.front().status.ok() && error_.ok()) {
    error_ = slots_.front().status;
    read_closed_ = true;
  }
  if (error_.ok() && !writing_ && !slots_.empty() && slots_.front().ready) {
    writing_ = true;
    a->write = slots_.front().answer.response.get();
  }
  if (!read_closed_ && !reading_ && !waiting_ && error_.ok() &&
      slots_.size() < max_in_flight_) {
    // Flow control: at max_queued_events the next message stays with gRPC
    // (and the client) until the sequencer answers enough to make room.
    if (sequencer_->RoomOrWait([this] { OnRoom(); })) {
      reading_ = true;
      a->read = true;
    } else {
      waiting_ = true;
    }
  }
  bool all_ready = true;
  for (const Slot& s : slots_) all_ready = all_ready && s.ready;
  const bool drained = error_.ok() ? slots_.empty() : all_ready;
  // A waiting reactor is woken for sure (the held events are answered), so
  // it ends only after that.
  if (read_closed_ && !reading_ && !waiting_ && !writing_ && drained) {
    finished_ = true;
    a->finish = true;
    a->finish_status = ToGrpcStatus(error_);
  }
}

void AppendStreamReactor::Run(const Actions& a) {
  if (a.write != nullptr) StartWrite(a.write);
  if (a.read) StartRead(&request_);
  if (a.finish) Finish(a.finish_status);
}

}  // namespace indelible
