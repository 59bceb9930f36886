#include "daemon/sequencer.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/metrics.h"
#include "daemon/retry_match.h"

#include "spdlog/spdlog.h"

namespace indelible {

Sequencer::Sequencer(Storage* storage, Clock* clock, Options options)
    : storage_(storage), clock_(clock), options_(options) {}

Sequencer::~Sequencer() { Stop(); }

absl::Status Sequencer::Start() {
  if (auto s = storage_->BuildMissingTrees(); !s.ok()) return s;
  if (auto s = ReloadHeads(); !s.ok()) return s;
  if (auto s = CheckHeads(); !s.ok()) return s;
  if (auto s = ReloadRanges(); !s.ok()) return s;
  committer_ = std::thread([this] { RunCommitter(); });
  writer_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

absl::Status Sequencer::ReloadHeads() {
  auto heads = storage_->LoadHeads();
  if (!heads.ok()) return heads.status();
  auto purged = storage_->ScanMeta(store::kPurgedPrefix);
  if (!purged.ok()) return purged.status();
  std::lock_guard<std::mutex> l(heads_mu_);
  heads_.clear();
  for (auto& [tenant, head] : *heads) heads_.emplace(tenant, head);
  purged_.clear();
  const size_t n = std::string_view(store::kPurgedPrefix).size();
  for (auto& [key, cert] : *purged) purged_.emplace(key.substr(n), cert);
  return absl::OkStatus();
}

absl::Status Sequencer::ReloadRanges() {
  ranges_.clear();
  for (const auto& [tenant, head] : AllHeads()) {
    if (Quarantined(tenant)) continue;
    auto range = storage_->LoadCompactRange(tenant, head.seq);
    if (range.ok()) {
      ranges_.emplace(tenant, std::move(*range));
    } else if (absl::IsDataLoss(range.status()) || absl::IsInvalidArgument(range.status())) {
      Quarantine(tenant, std::string(range.status().message()));
    } else {
      return range.status();
    }
  }
  return absl::OkStatus();
}

absl::Status Sequencer::CheckHeads() {
  for (const auto& [tenant, head] : AllHeads()) {
    std::string reason;
    for (uint64_t seq : {uint64_t{1}, head.seq}) {
      auto sk = storage_->GetSkeleton(tenant, seq);
      if (sk.ok()) {
        if (seq == head.seq && sk->entry_hash != head.entry_hash) {
          reason = "head does not match the skeleton of seq " + std::to_string(seq);
        }
      } else if (absl::IsDataLoss(sk.status()) || absl::IsNotFound(sk.status())) {
        reason = std::string(sk.status().message());
      } else {
        return sk.status();
      }
      if (!reason.empty()) break;
    }
    if (!reason.empty()) Quarantine(tenant, reason);
  }
  return absl::OkStatus();
}

void Sequencer::Quarantine(const std::string& tenant, const std::string& reason) {
  spdlog::critical("event=tenant_quarantined tenant={} reason=\"{}\"", tenant,
                   reason);
  std::lock_guard<std::mutex> l(heads_mu_);
  quarantined_.emplace(tenant, reason);
}

std::optional<std::string> Sequencer::Quarantined(const std::string& tenant) {
  std::lock_guard<std::mutex> l(heads_mu_);
  auto it = quarantined_.find(tenant);
  if (it == quarantined_.end()) return std::nullopt;
  return it->second;
}

absl::Status Sequencer::QuarantineError(const std::string& tenant,
                                        const std::string& reason) {
  return absl::DataLossError(
      "tenant " + tenant + " is quarantined: its stored chain is damaged (" +
      reason + "); run indelible-verify check (docs/ARCHITECTURE.md, Faults)");
}

std::optional<std::string> Sequencer::PurgeCertificate(const std::string& tenant) {
  std::lock_guard<std::mutex> l(heads_mu_);
  auto it = purged_.find(tenant);
  if (it == purged_.end()) return std::nullopt;
  return it->second;
}

void Sequencer::Submit(std::vector<PreparedEvent> events, Callback done,
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
      cv_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("daemon is shutting down"));
}

void Sequencer::SubmitPurge(std::string tenant, Certify certify,
                            std::function<void(absl::StatusOr<std::string>)> done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      Request r;
      r.purge_tenant = std::move(tenant);
      r.certify = std::move(certify);
      r.purge_done = std::move(done);
      queue_.push_back(std::move(r));
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

store::Head Sequencer::GetHead(const std::string& tenant) {
  std::lock_guard<std::mutex> l(heads_mu_);
  auto it = heads_.find(tenant);
  if (it != heads_.end()) return it->second;
  store::Head h;
  h.entry_hash = chain::Genesis(tenant);
  return h;
}

std::vector<std::pair<std::string, store::Head>> Sequencer::AllHeads() {
  std::lock_guard<std::mutex> l(heads_mu_);
  return {heads_.begin(), heads_.end()};
}

void Sequencer::Run() {
  // The group being linked while the committer writes the previous one.
  // Requests keep joining it until the committer is idle, so a group holds
  // everything that arrived during the previous write and sync.
  std::unique_ptr<Commit> next;
  for (;;) {
    std::vector<Request> chunk;
    size_t events = 0;
    bool failed = false;
    {
      std::unique_lock<std::mutex> l(mu_);
      auto idle = [this] { return handed_ == nullptr && !committing_; };
      // Whether the front request may join `next` now. A purge commits
      // alone, in its place between appends; after a failed write nothing
      // is linked onto the groups built before it.
      auto can_link = [&] {
        if (queue_.empty()) return false;
        if (next == nullptr) return true;
        const Request& front = queue_.front();
        return write_failed_.ok() && front.purge_tenant.empty() &&
               next->events + front.events.size() <= options_.max_group_events;
      };
      cv_.wait(l, [&] {
        return (next != nullptr && idle()) || can_link() ||
               (stopping_ && next == nullptr && queue_.empty());
      });
      // An idle committer gets the group at once, unless requests are
      // queued that can still join it: those are linked first (clients
      // answered by the last group resubmit just as it finishes).
      if (next != nullptr && idle() && !can_link()) {
        l.unlock();
        Hand(&next);
        continue;
      }
      if (!can_link()) break;  // stopping, and everything is committed
      if (!queue_.front().purge_tenant.empty()) {
        chunk.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } else {
        const size_t room =
            options_.max_group_events - (next ? next->events : 0);
        while (!queue_.empty() && queue_.front().purge_tenant.empty() &&
               (chunk.empty() || events + queue_.front().events.size() <= room)) {
          events += queue_.front().events.size();
          chunk.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      queued_events_ -= events;
      if (options_.metrics) options_.metrics->SetQueueDepth(queued_events_);
      failed = !write_failed_.ok();
    }
    const bool purge = !chunk.front().purge_tenant.empty();
    if (next == nullptr && (failed || purge)) {
      Drain();
      if (!RecoverIfFailed()) {
        const absl::Status s = absl::UnavailableError("storage unavailable");
        for (Request& r : chunk) {
          if (r.purge_done) r.purge_done(s);
          if (r.done) r.done(s);
        }
        continue;
      }
    }
    if (purge) {
      CommitPurge(&chunk.front());
      continue;
    }
    if (next == nullptr) {
      next = std::make_unique<Commit>();
      next->start = std::chrono::steady_clock::now();
    }
    Link(&chunk, next.get());
    if (next->group.empty()) {
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

void Sequencer::Hand(std::unique_ptr<Commit>* next) {
  // Only this thread hands work over, so the committer is still idle.
  Publish(next->get());
  std::lock_guard<std::mutex> l(mu_);
  handed_ = std::move(*next);
  commit_cv_.notify_all();
}

void Sequencer::Publish(Commit* c) {
  // From here on the committer owns the group; its heads and new ids are
  // what later groups link onto until it is durable.
  ForgetDurableIds();
  c->number = ++last_commit_;
  for (const auto& [tenant, head] : c->new_heads) pending_heads_[tenant] = head;
  for (auto& [tenant, range] : c->new_ranges) ranges_[tenant] = std::move(range);
  c->new_ranges.clear();
  if (!c->new_ids.empty()) {
    pending_ids_.emplace_back(c->number, std::move(c->new_ids));
    c->new_ids.clear();
  }
}

void Sequencer::Drain() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return handed_ == nullptr && !committing_; });
}

void Sequencer::RunCommitter() {
  for (;;) {
    std::unique_ptr<Commit> c;
    {
      std::unique_lock<std::mutex> l(mu_);
      commit_cv_.wait(l, [this] { return stop_committer_ || handed_ != nullptr; });
      if (handed_ == nullptr) return;
      c = std::move(handed_);
      committing_ = true;
    }
    WriteCommit(c.get());
    c.reset();  // frees the batch before the next group is handed
    std::lock_guard<std::mutex> l(mu_);
    committing_ = false;
    cv_.notify_all();
  }
}

void Sequencer::WriteCommit(Commit* c) {
  absl::Status s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s = write_failed_;
  }
  if (s.ok() && c->batch.Count() > 0) {
    for (const auto& [tenant, head] : c->new_heads) {
      storage_->PutHead(&c->batch, tenant, head);
    }
    s = storage_->WriteSynced(&c->batch);
    if (!s.ok()) {
      spdlog::error("event=commit_failed events={} status=\"{}\"",
                    c->batch.Count(), s.ToString());
      std::lock_guard<std::mutex> l(mu_);
      write_failed_ = s;
    }
  }
  if (s.ok()) {
    std::lock_guard<std::mutex> l(heads_mu_);
    for (auto& [tenant, head] : c->new_heads) heads_[tenant] = head;
  }
  if (s.ok()) durable_commit_.store(c->number, std::memory_order_release);
  if (options_.metrics) {
    options_.metrics->ObserveCommit(
        c->events, std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - c->start)
                       .count());
  }
  for (size_t ri = 0; ri < c->group.size(); ++ri) {
    Request& r = c->group[ri];
    if (!r.done) continue;
    // On failure this group was linked onto the failed one (or is the
    // failed one): none of it is stored, and each request is told so.
    if (s.ok()) {
      r.done(std::move(c->receipts[ri]));
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
      pending_heads_.clear();
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
  if (auto s = ReloadHeads(); !s.ok()) {
    spdlog::error("event=reload_heads_failed status=\"{}\"", s.ToString());
    return false;
  }
  if (auto s = ReloadRanges(); !s.ok()) {
    spdlog::error("event=reload_tree_failed status=\"{}\"", s.ToString());
    return false;
  }
  pending_heads_.clear();
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

void Sequencer::Link(std::vector<Request>* chunk, Commit* c) {
  // If a read fails, the chunk's rows are taken out of the batch again and
  // only the chunk's requests fail; what earlier chunks linked stays.
  c->batch.SetSavePoint();
  // Ids of durable groups are looked up in storage, where retention may
  // have pruned their first record since.
  ForgetDurableIds();
  const auto heads_before = c->new_heads;
  const auto ranges_before = c->new_ranges;
  std::vector<std::string> ids_added;
  std::vector<std::vector<Receipt>> receipts(chunk->size());

  // A read that finds damaged rows quarantines their tenant: the chunk's
  // requests touching it fail with DataLoss, the others with Unavailable
  // (a retry links them again).
  auto fail_read = [&](const std::string& tenant, const absl::Status& s) {
    c->batch.RollbackToSavePoint();
    c->new_heads = heads_before;
    c->new_ranges = ranges_before;
    for (const std::string& key : ids_added) c->new_ids.erase(key);
    absl::Status lost = s;
    if (absl::IsDataLoss(s)) {
      Quarantine(tenant, std::string(s.message()));
      lost = QuarantineError(tenant, std::string(s.message()));
    }
    for (Request& r : *chunk) {
      if (!r.done) continue;
      bool touches = false;
      for (const PreparedEvent& e : r.events) touches |= e.tenant == tenant;
      r.done(touches || !absl::IsDataLoss(s)
                 ? lost
                 : absl::UnavailableError(
                       "storage read failed for another tenant in the "
                       "same commit group; retry"));
    }
  };

  // Puts each tree node a leaf completes into the batch (one visitor for
  // the whole chunk: no allocation per record).
  const PreparedEvent* visit_event = nullptr;
  const chain::CompactRange::Visitor visit = [this, c, &visit_event](chain::NodeId n,
                                                                     const chain::Digest& h) {
    storage_->PutTreeNode(&c->batch, visit_event->tenant, n, h, visit_event->category);
  };

  for (size_t ri = 0; ri < chunk->size(); ++ri) {
    Request& req = (*chunk)[ri];
    if (req.done && req.stream != nullptr && req.stream->load()) {
      req.done(absl::AbortedError(
          "an earlier request of this stream failed; nothing of this one was stored"));
      req.done = nullptr;
      continue;
    }
    const std::string* checked = nullptr;  // the tenant last found writable
    for (const PreparedEvent& e : req.events) {
      if (checked != nullptr && *checked == e.tenant) continue;
      if (auto cert = PurgeCertificate(e.tenant)) {
        req.done(absl::FailedPreconditionError(
            "tenant " + e.tenant +
            " was purged; its id cannot be reused (docs/RETENTION.md)"));
        req.done = nullptr;
        break;
      }
      if (auto reason = Quarantined(e.tenant)) {
        req.done(QuarantineError(e.tenant, *reason));
        req.done = nullptr;
        break;
      }
      checked = &e.tenant;
    }
    if (!req.done) continue;
    // First every event id is resolved, before anything of the request is
    // linked: a conflict then refuses the request with nothing to undo but
    // the ids it added.
    enum class Kind { kNew, kRepeatsInFlight, kRepeatsStored };
    struct Resolved {
      Kind kind = Kind::kNew;
      FirstRecord* first = nullptr;  // kNew: its own entry in c->new_ids
    };
    std::vector<Resolved> resolved(req.events.size());
    receipts[ri].resize(req.events.size());
    const size_t ids_before = ids_added.size();
    absl::Status refused;
    for (size_t ei = 0; ei < req.events.size() && refused.ok(); ++ei) {
      const PreparedEvent& e = req.events[ei];
      std::string id_key = store::EventIdKey(e.tenant, e.event_id);
      FirstRecord* first = nullptr;
      if (auto it = c->new_ids.find(id_key); it != c->new_ids.end()) {
        first = &it->second;
      } else {
        for (auto& [number, ids] : pending_ids_) {
          if (auto pit = ids.find(id_key); pit != ids.end()) first = &pit->second;
        }
      }
      if (first != nullptr) {
        if (!SameEvent(*first, e)) refused = ConflictError(e, *first);
        resolved[ei] = {Kind::kRepeatsInFlight, first};
        continue;
      }
      auto existing = storage_->LookupEventId(e.tenant, e.event_id);
      if (!existing.ok()) return fail_read(e.tenant, existing.status());
      if (existing->has_value()) {
        const uint64_t seq = **existing;
        auto sk = storage_->GetSkeleton(e.tenant, seq);
        if (!sk.ok()) return fail_read(e.tenant, sk.status());
        auto body = storage_->GetBody(e.tenant, seq);
        if (!body.ok()) return fail_read(e.tenant, body.status());
        // A pruned body takes its id with it (docs/RETENTION.md): the
        // event is stored as a new record.
        if (body->has_value()) {
          FirstRecord stored;
          if (!FirstRecordFromBody(**body, sk->body_digest, &stored)) {
            return fail_read(e.tenant,
                             absl::DataLossError(absl::StrCat(
                                 "malformed body of ", e.tenant, " seq ", seq)));
          }
          stored.receipt.tenant = e.tenant;
          stored.receipt.seq = seq;
          stored.receipt.received_at_ns = sk->received_at_ns;
          stored.receipt.entry_hash = sk->entry_hash;
          stored.receipt.duplicate = true;
          stored.receipt.body_digest = sk->body_digest;
          if (seq == 1) {
            stored.receipt.prev_entry_hash = chain::Genesis(e.tenant);
          } else {
            auto prev = storage_->GetSkeleton(e.tenant, seq - 1);
            if (!prev.ok()) return fail_read(e.tenant, prev.status());
            stored.receipt.prev_entry_hash = prev->entry_hash;
          }
          if (!SameEvent(stored, e)) refused = ConflictError(e, stored);
          receipts[ri][ei] = std::move(stored.receipt);
          resolved[ei].kind = Kind::kRepeatsStored;
          continue;
        }
      }
      FirstRecord* own = &c->new_ids.insert_or_assign(id_key, FirstRecordOf(e))
                              .first->second;
      ids_added.push_back(std::move(id_key));
      resolved[ei] = {Kind::kNew, own};
    }
    if (!refused.ok()) {
      for (size_t i = ids_before; i < ids_added.size(); ++i) {
        c->new_ids.erase(ids_added[i]);
      }
      ids_added.resize(ids_before);
      req.done(refused);
      req.done = nullptr;
      continue;
    }
    if (req.extra) req.extra(&c->batch);
    for (size_t ei = 0; ei < req.events.size(); ++ei) {
      PreparedEvent& e = req.events[ei];
      Receipt& rc = receipts[ri][ei];
      if (resolved[ei].kind == Kind::kRepeatsStored) continue;
      if (resolved[ei].kind == Kind::kRepeatsInFlight) {
        // Its first came earlier in this or a previous group (or earlier in
        // this request), so its receipt is already filled in.
        rc = resolved[ei].first->receipt;
        rc.duplicate = true;
        continue;
      }
      rc.tenant = e.tenant;
      auto head_it = c->new_heads.find(e.tenant);
      if (head_it == c->new_heads.end()) {
        auto pending = pending_heads_.find(e.tenant);
        head_it = c->new_heads
                      .emplace(e.tenant, pending != pending_heads_.end()
                                             ? pending->second
                                             : GetHead(e.tenant))
                      .first;
      }
      store::Head& head = head_it->second;
      auto range_it = c->new_ranges.find(e.tenant);
      if (range_it == c->new_ranges.end()) {
        auto linked = ranges_.find(e.tenant);
        range_it = c->new_ranges
                       .emplace(e.tenant, linked != ranges_.end() ? linked->second
                                                                  : chain::CompactRange())
                       .first;
      }
      rc.prev_entry_hash = head.entry_hash;
      rc.body_digest = e.body_digest;
      store::Skeleton sk;
      sk.received_at_ns = std::max(clock_->NowNanos(), head.received_at_ns);
      sk.body_digest = e.body_digest;
      sk.entry_hash = chain::EntryHash(e.tenant, head.seq + 1,
                                       sk.received_at_ns, head.entry_hash,
                                       e.body_digest);
      head.seq += 1;
      head.received_at_ns = sk.received_at_ns;
      head.entry_hash = sk.entry_hash;
      store::SetBodyReceivedAt(&e.body, sk.received_at_ns);
      storage_->PutRecord(&c->batch, e.tenant, head.seq, sk, e.body,
                          e.event_id, e.category);
      visit_event = &e;
      range_it->second.Append(chain::LeafHash(sk.entry_hash, e.category), visit);
      rc.seq = head.seq;
      rc.received_at_ns = sk.received_at_ns;
      rc.entry_hash = sk.entry_hash;
      resolved[ei].first->receipt = rc;
    }
  }
  c->batch.PopSavePoint();
  for (size_t ri = 0; ri < chunk->size(); ++ri) {
    Request& req = (*chunk)[ri];
    if (!req.done) continue;
    c->events += req.events.size();
    c->group.push_back(std::move(req));
    c->receipts.push_back(std::move(receipts[ri]));
  }
}

void Sequencer::CommitPurge(Request* r) {
  const std::string& tenant = r->purge_tenant;
  if (PurgeCertificate(tenant)) {
    return r->purge_done(absl::FailedPreconditionError(
        "tenant " + tenant + " was already purged"));
  }
  const store::Head head = GetHead(tenant);
  if (head.seq == 0) {
    return r->purge_done(
        absl::NotFoundError("tenant " + tenant + " has no records"));
  }
  absl::StatusOr<std::string> certified = r->certify(head);
  if (!certified.ok()) return r->purge_done(certified.status());
  const std::string certificate = *std::move(certified);
  rocksdb::WriteBatch batch;
  storage_->DeleteTenantRows(&batch, tenant);
  storage_->PutMeta(&batch, std::string(store::kPurgedPrefix) + tenant,
                    certificate);
  if (auto s = storage_->WriteSynced(&batch); !s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    write_failed_ = s;  // the next group reloads the heads first
    return r->purge_done(s);
  }
  {
    std::lock_guard<std::mutex> l(heads_mu_);
    heads_.erase(tenant);
    purged_[tenant] = certificate;
  }
  ranges_.erase(tenant);
  if (options_.metrics) options_.metrics->CountPurge();
  r->purge_done(certificate);
}

}  // namespace indelible
