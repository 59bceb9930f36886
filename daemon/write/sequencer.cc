#include "daemon/write/sequencer.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/ops/metrics.h"
#include "daemon/write/retry_match.h"

#include "spdlog/spdlog.h"

namespace indelible {

Sequencer::Sequencer(Storage* storage, Clock* clock, Options options)
    : storage_(storage), clock_(clock), options_(options), tenants_(storage),
      admission_(options.max_queued_events, clock, options.metrics) {}

Sequencer::~Sequencer() { Stop(); }

absl::Status Sequencer::Start() {
  if (auto s = storage_->BuildMissingTrees(); !s.ok()) return s;
  if (auto s = tenants_.LoadHeads(); !s.ok()) return s;
  if (auto s = tenants_.CheckHeads(); !s.ok()) return s;
  if (auto s = tenants_.LoadFrontiers(); !s.ok()) return s;
  committer_ = std::thread([this] { RunCommitter(); });
  writer_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Sequencer::Submit(std::vector<PreparedEvent> events, Callback done,
                       Extra extra, StreamFailed stream) {
  admission_.Take(events.size());
  Enqueue(std::move(events), std::move(done), std::move(extra), std::move(stream));
}

bool Sequencer::TrySubmit(std::vector<PreparedEvent> events, Callback done) {
  // A resend carries the same events: the first one's tenant and id name
  // the request's reserved room (admission.h).
  const std::string key =
      events.empty() ? std::string() : store::EventIdKey(events[0].tenant, events[0].event_id);
  if (!admission_.TryTake(events.size(), key)) return false;
  Enqueue(std::move(events), std::move(done), nullptr, nullptr);
  return true;
}

void Sequencer::Enqueue(std::vector<PreparedEvent> events, Callback done,
                        Extra extra, StreamFailed stream) {
  if (stream != nullptr && done) {
    done = [stream, done = std::move(done)](absl::StatusOr<std::vector<Receipt>> r) {
      if (!r.ok()) stream->store(true);
      done(std::move(r));
    };
  }
  if (Metrics* m = options_.metrics; m != nullptr && done) {
    done = [m, n = events.size(), done = std::move(done)](
               absl::StatusOr<std::vector<Receipt>> r) {
      if (!r.ok()) {
        m->CountAppends(r.status(), n);
      } else {
        uint64_t dup = 0;
        for (const Receipt& rc : *r) dup += rc.duplicate ? 1 : 0;
        m->CountAppendOk(r->size() - dup, dup);
      }
      done(std::move(r));
    };
  }
  done = [this, n = events.size(), done = std::move(done)](
             absl::StatusOr<std::vector<Receipt>> r) {
    admission_.Give(n);
    if (done) done(std::move(r));
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      queued_events_ += events.size();
      if (options_.metrics) options_.metrics->SetQueueDepth(queued_events_);
      Request r;
      r.events = std::move(events);
      r.done = std::move(done);
      r.extra = std::move(extra);
      r.stream = std::move(stream);
      queue_.push_back(std::move(r));
      ++appends_queued_;
      cv_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("daemon is shutting down"));
}

void Sequencer::SubmitPurge(std::string tenant, Certify certify, PurgeDone done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      purges_.push_back(
          PurgeRequest{std::move(tenant), std::move(certify), std::move(done), appends_queued_});
      cv_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("daemon is shutting down"));
}

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();  // it stops the committer
}

void Sequencer::Run() {
  // The group being linked while the committer writes the previous one.
  // Requests keep joining it until the committer is idle, so a group holds
  // everything that arrived during the previous write and sync.
  std::unique_ptr<Group> next;
  for (;;) {
    Work work;
    if (!Take(next.get(), &work)) break;
    if (work.hand) {
      Hand(&next);
      continue;
    }
    if (next == nullptr && (work.failed || work.purge)) {
      Drain();
      if (!RecoverIfFailed()) {
        const absl::Status s = absl::UnavailableError("storage unavailable");
        if (work.purge) work.purge->done(s);
        for (Request& r : work.chunk) {
          if (r.done) r.done(s);
        }
        continue;
      }
    }
    if (work.purge) {
      CommitPurge(&*work.purge);
      continue;
    }
    if (next == nullptr) {
      {
        std::lock_guard<std::mutex> l(mu_);
        next = std::move(spare_);
      }
      if (next == nullptr) next = std::make_unique<Group>();
      next->start = std::chrono::steady_clock::now();
    }
    Link(&work.chunk, next.get());
    if (next->requests.empty()) {
      next.reset();  // every request was refused
      continue;
    }
    bool idle;
    {
      std::lock_guard<std::mutex> l(mu_);
      idle = handed_ == nullptr && !committing_;
    }
    if (idle) Hand(&next);
  }
  Drain();
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_committer_ = true;
    commit_cv_.notify_all();
  }
  committer_.join();
}

bool Sequencer::PurgeDue() const {
  return !purges_.empty() && purges_.front().after == appends_taken_;
}

bool Sequencer::CanLink(const Group* next) const {
  // A purge commits alone, in its place between appends; after a failed
  // write nothing is linked onto the groups built before it.
  if (PurgeDue()) return next == nullptr;
  if (queue_.empty()) return false;
  if (next == nullptr) return true;
  return write_failed_.ok() &&
         next->events + queue_.front().events.size() <= options_.max_group_events;
}

bool Sequencer::Take(const Group* next, Work* work) {
  std::unique_lock<std::mutex> l(mu_);
  auto idle = [this] { return handed_ == nullptr && !committing_; };
  cv_.wait(l, [&] {
    return (next != nullptr && idle()) || CanLink(next) ||
           (stopping_ && next == nullptr && queue_.empty() && purges_.empty());
  });
  // An idle committer gets the group at once, unless requests are queued
  // that can still join it: those are linked first (clients answered by the
  // last group resubmit just as it finishes).
  if (next != nullptr && idle() && !CanLink(next)) {
    work->hand = true;
    return true;
  }
  if (!CanLink(next)) return false;  // stopping, and everything is committed
  work->failed = !write_failed_.ok();
  if (PurgeDue()) {
    work->purge = std::move(purges_.front());
    purges_.pop_front();
    return true;
  }
  const size_t room = options_.max_group_events - (next ? next->events : 0);
  size_t events = 0;
  while (!queue_.empty() && !PurgeDue() &&
         (work->chunk.empty() || events + queue_.front().events.size() <= room)) {
    events += queue_.front().events.size();
    work->chunk.push_back(std::move(queue_.front()));
    queue_.pop_front();
    ++appends_taken_;
  }
  queued_events_ -= events;
  if (options_.metrics) options_.metrics->SetQueueDepth(queued_events_);
  return true;
}

void Sequencer::Hand(std::unique_ptr<Group>* next) {
  // Only this thread hands work over, so the committer is still idle.
  Publish(next->get());
  std::lock_guard<std::mutex> l(mu_);
  handed_ = std::move(*next);
  commit_cv_.notify_all();
}

void Sequencer::Publish(Group* g) {
  // From here on the committer owns the group; its heads, frontiers and new
  // ids are what later groups link onto until it is durable.
  ForgetDurableIds();
  g->number = ++last_commit_;
  tenants_.Publish(g->new_heads, &g->new_frontiers);
  if (!g->new_ids.empty()) {
    pending_ids_.emplace_back(g->number, std::move(g->new_ids));
    g->new_ids.clear();
  }
}

void Sequencer::Drain() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return handed_ == nullptr && !committing_; });
}

void Sequencer::RunCommitter() {
  for (;;) {
    std::unique_ptr<Group> g;
    {
      std::unique_lock<std::mutex> l(mu_);
      commit_cv_.wait(l, [this] { return stop_committer_ || handed_ != nullptr; });
      if (handed_ == nullptr) return;
      g = std::move(handed_);
      committing_ = true;
    }
    WriteGroup(g.get());
    Empty(g.get());
    std::lock_guard<std::mutex> l(mu_);
    committing_ = false;
    if (spare_ == nullptr) spare_ = std::move(g);
    cv_.notify_all();
  }
}

void Sequencer::Empty(Group* g) {
  g->number = 0;
  g->requests.clear();  // the callbacks ran; their captures go now
  g->receipts.clear();
  g->batch.Clear();     // keeps its buffer
  g->new_heads.clear();
  g->new_frontiers.clear();
  g->new_ids.clear();
  g->events = 0;
}

void Sequencer::WriteGroup(Group* g) {
  absl::Status s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s = write_failed_;
  }
  if (s.ok() && g->batch.Count() > 0) {
    for (const auto& [tenant, head] : g->new_heads) {
      storage_->PutHead(&g->batch, tenant, head);
    }
    s = storage_->WriteSynced(&g->batch);
    if (!s.ok()) {
      spdlog::error("event=commit_failed events={} status=\"{}\"",
                    g->batch.Count(), s.ToString());
      std::lock_guard<std::mutex> l(mu_);
      write_failed_ = s;
    }
  }
  if (s.ok()) {
    tenants_.SetDurable(g->new_heads);
    durable_commit_.store(g->number, std::memory_order_release);
  }
  const auto cycle = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - g->start)
                         .count();
  admission_.NoteCycle(cycle);
  if (options_.metrics) options_.metrics->ObserveCommit(g->events, cycle);
  for (size_t ri = 0; ri < g->requests.size(); ++ri) {
    Request& r = g->requests[ri];
    if (!r.done) continue;
    // On failure this group was linked onto the failed one (or is the
    // failed one): none of it is stored, and each request is told so.
    if (s.ok()) {
      r.done(std::move(g->receipts[ri]));
    } else {
      r.done(s);
    }
  }
}

bool Sequencer::RecoverIfFailed() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (write_failed_.ok()) {
      // Everything handed is durable: the pending state is the stored one.
      tenants_.ClearPending();
      ForgetDurableIds();
      return true;
    }
  }
  // A failed write may or may not have reached the WAL; the DB, not our
  // memory, says where each chain ends.
  if (auto s = storage_->Resume(); !s.ok()) {
    spdlog::warn("event=storage_resume_failed status=\"{}\"", s.ToString());
  } else {
    spdlog::info("event=storage_resumed");
  }
  if (auto s = tenants_.LoadHeads(); !s.ok()) {
    spdlog::error("event=reload_heads_failed status=\"{}\"", s.ToString());
    return false;
  }
  if (auto s = tenants_.LoadFrontiers(); !s.ok()) {
    spdlog::error("event=reload_tree_failed status=\"{}\"", s.ToString());
    return false;
  }
  tenants_.ClearPending();
  pending_ids_.clear();
  std::lock_guard<std::mutex> l(mu_);
  write_failed_ = absl::OkStatus();
  return true;
}

void Sequencer::ForgetDurableIds() {
  const uint64_t durable = durable_commit_.load(std::memory_order_acquire);
  while (!pending_ids_.empty() && pending_ids_.front().first <= durable) {
    pending_ids_.pop_front();
  }
}

void Sequencer::CommitPurge(PurgeRequest* r) {
  const std::string& tenant = r->tenant;
  if (tenants_.PurgeCertificate(tenant)) {
    return r->done(absl::FailedPreconditionError("tenant " + tenant + " was already purged"));
  }
  const store::Head head = tenants_.GetHead(tenant);
  if (head.seq == 0) {
    return r->done(absl::NotFoundError("tenant " + tenant + " has no records"));
  }
  absl::StatusOr<std::string> certified = r->certify(head);
  if (!certified.ok()) return r->done(certified.status());
  const std::string certificate = *std::move(certified);
  rocksdb::WriteBatch batch;
  storage_->DeleteTenantContent(&batch, tenant);
  storage_->PutMeta(&batch, std::string(store::kPurgedPrefix) + tenant, certificate);
  if (auto s = storage_->WriteSynced(&batch); !s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    write_failed_ = s;  // the next group reloads the heads first
    return r->done(s);
  }
  tenants_.Purged(tenant, certificate);
  if (options_.metrics) options_.metrics->CountPurge();
  r->done(certificate);
}

}  // namespace indelible
