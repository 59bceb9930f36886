#include "daemon/sequencer.h"

#include <algorithm>
#include <chrono>

#include "daemon/metrics.h"

#include "spdlog/spdlog.h"

namespace indelible {

Sequencer::Sequencer(Storage* storage, Clock* clock, Options options)
    : storage_(storage), clock_(clock), options_(options) {}

Sequencer::~Sequencer() { Stop(); }

absl::Status Sequencer::Start() {
  if (auto s = ReloadHeads(); !s.ok()) return s;
  if (auto s = CheckHeads(); !s.ok()) return s;
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
                       Extra extra) {
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
  std::vector<Request> group;
  for (;;) {
    size_t events = 0;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything is sequenced
      // A purge commits alone, in its place between appends.
      while (!queue_.empty() &&
             (group.empty() || (queue_.front().purge_tenant.empty() &&
                                group.front().purge_tenant.empty() &&
                                events + queue_.front().events.size() <=
                                    options_.max_group_events))) {
        events += queue_.front().events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_events_ -= events;
      if (options_.metrics) options_.metrics->SetQueueDepth(queued_events_);
    }
    bool failed;
    {
      std::lock_guard<std::mutex> l(commit_mu_);
      failed = !write_failed_.ok();
    }
    const bool purge = !group.front().purge_tenant.empty();
    if (failed || purge) {
      Drain();
      if (!RecoverIfFailed()) {
        const absl::Status s = absl::UnavailableError("storage unavailable");
        for (Request& r : group) {
          if (r.purge_done) r.purge_done(s);
          if (r.done) r.done(s);
        }
        group.clear();
        continue;
      }
    }
    if (purge) {
      CommitPurge(&group.front());
    } else if (auto c = Sequence(&group)) {
      c->events = events;
      Hand(std::move(c));
    }
    group.clear();
  }
  Drain();
  {
    std::lock_guard<std::mutex> l(commit_mu_);
    stop_committer_ = true;
    commit_cv_.notify_all();
  }
  committer_.join();
}

void Sequencer::Hand(std::unique_ptr<Commit> c) {
  std::unique_lock<std::mutex> l(commit_mu_);
  commit_cv_.wait(l, [this] { return handed_ == nullptr && !committing_; });
  handed_ = std::move(c);
  commit_cv_.notify_all();
}

void Sequencer::Drain() {
  std::unique_lock<std::mutex> l(commit_mu_);
  commit_cv_.wait(l, [this] { return handed_ == nullptr && !committing_; });
}

void Sequencer::RunCommitter() {
  for (;;) {
    std::unique_ptr<Commit> c;
    {
      std::unique_lock<std::mutex> l(commit_mu_);
      commit_cv_.wait(l, [this] { return stop_committer_ || handed_ != nullptr; });
      if (handed_ == nullptr) return;
      c = std::move(handed_);
      committing_ = true;
    }
    WriteCommit(c.get());
    c.reset();  // frees the batch before the next group is handed
    std::lock_guard<std::mutex> l(commit_mu_);
    committing_ = false;
    commit_cv_.notify_all();
  }
}

void Sequencer::WriteCommit(Commit* c) {
  absl::Status s;
  {
    std::lock_guard<std::mutex> l(commit_mu_);
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
      std::lock_guard<std::mutex> l(commit_mu_);
      write_failed_ = s;
    }
  }
  if (!s.ok()) {
    // This group was linked onto the failed one (or is the failed one):
    // none of it may be stored, and each request is told so.
    for (Request& r : c->group) {
      if (r.done) r.done(s);
    }
    return;
  }
  {
    std::lock_guard<std::mutex> l(heads_mu_);
    for (auto& [tenant, head] : c->new_heads) heads_[tenant] = head;
  }
  durable_commit_.store(c->number, std::memory_order_release);
  if (options_.metrics) {
    options_.metrics->ObserveCommit(
        c->events, std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - c->start)
                       .count());
  }
  for (size_t ri = 0; ri < c->group.size(); ++ri) {
    Request& r = c->group[ri];
    if (r.done) r.done(std::move(c->receipts[ri]));
  }
}

bool Sequencer::RecoverIfFailed() {
  {
    std::lock_guard<std::mutex> l(commit_mu_);
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
  pending_heads_.clear();
  pending_ids_.clear();
  pending_id_keys_.clear();
  std::lock_guard<std::mutex> l(commit_mu_);
  write_failed_ = absl::OkStatus();
  return true;
}

void Sequencer::ForgetDurableIds() {
  const uint64_t durable = durable_commit_.load(std::memory_order_acquire);
  while (!pending_id_keys_.empty() && pending_id_keys_.front().first <= durable) {
    for (const std::string& key : pending_id_keys_.front().second) {
      pending_ids_.erase(key);
    }
    pending_id_keys_.pop_front();
  }
}

std::unique_ptr<Sequencer::Commit> Sequencer::Sequence(
    std::vector<Request>* group) {
  auto c = std::make_unique<Commit>();
  c->start = std::chrono::steady_clock::now();
  c->receipts.resize(group->size());
  ForgetDurableIds();
  // Event ids first seen in this group: their keys and receipts.
  std::vector<std::string> new_id_keys;
  std::unordered_map<std::string, Receipt> new_ids;

  // A read that finds damaged rows quarantines their tenant. The group's
  // batch may already hold rows of the failing request, so the whole group
  // fails: the damaged tenant's requests with DataLoss, the others with
  // Unavailable (a retry commits them in a later group).
  auto fail_read = [this, group](const std::string& tenant,
                                 const absl::Status& s) -> std::unique_ptr<Commit> {
    if (!absl::IsDataLoss(s)) {
      for (Request& r : *group) {
        if (r.done) r.done(s);
      }
      return nullptr;
    }
    Quarantine(tenant, std::string(s.message()));
    const absl::Status lost = QuarantineError(tenant, std::string(s.message()));
    for (Request& r : *group) {
      if (!r.done) continue;
      bool touches = false;
      for (const PreparedEvent& e : r.events) touches |= e.tenant == tenant;
      r.done(touches ? lost
                     : absl::UnavailableError(
                           "storage read failed for another tenant in the "
                           "same commit group; retry"));
    }
    return nullptr;
  };

  bool any = false;
  for (size_t ri = 0; ri < group->size(); ++ri) {
    Request& req = (*group)[ri];
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
    any = true;
    if (req.extra) req.extra(&c->batch);
    for (PreparedEvent& e : req.events) {
      Receipt rc;
      rc.tenant = e.tenant;
      std::string id_key = store::EventIdKey(e.tenant, e.event_id);
      const Receipt* first = nullptr;
      if (auto it = new_ids.find(id_key); it != new_ids.end()) {
        first = &it->second;
      } else if (auto pit = pending_ids_.find(id_key); pit != pending_ids_.end()) {
        first = &pit->second;
      }
      if (first != nullptr) {
        rc = *first;
        rc.duplicate = true;
        c->receipts[ri].push_back(std::move(rc));
        continue;
      }
      auto existing = storage_->LookupEventId(e.tenant, e.event_id);
      if (!existing.ok()) return fail_read(e.tenant, existing.status());
      if (existing->has_value()) {
        auto sk = storage_->GetSkeleton(e.tenant, **existing);
        if (!sk.ok()) return fail_read(e.tenant, sk.status());
        rc.seq = **existing;
        rc.received_at_ns = sk->received_at_ns;
        rc.entry_hash = sk->entry_hash;
        rc.duplicate = true;
        c->receipts[ri].push_back(std::move(rc));
        continue;
      }
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
      rc.seq = head.seq;
      rc.received_at_ns = sk.received_at_ns;
      rc.entry_hash = sk.entry_hash;
      new_ids.emplace(id_key, rc);
      new_id_keys.push_back(std::move(id_key));
      c->receipts[ri].push_back(std::move(rc));
    }
  }
  if (!any) return nullptr;

  c->number = ++last_commit_;
  c->group = std::move(*group);
  for (const auto& [tenant, head] : c->new_heads) pending_heads_[tenant] = head;
  if (!new_id_keys.empty()) {
    for (auto& [key, rc] : new_ids) pending_ids_.emplace(key, rc);
    pending_id_keys_.emplace_back(c->number, std::move(new_id_keys));
  }
  return c;
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
  const std::string certificate = r->certify(head);
  rocksdb::WriteBatch batch;
  storage_->DeleteTenantRows(&batch, tenant);
  storage_->PutMeta(&batch, std::string(store::kPurgedPrefix) + tenant,
                    certificate);
  if (auto s = storage_->WriteSynced(&batch); !s.ok()) {
    std::lock_guard<std::mutex> l(commit_mu_);
    write_failed_ = s;  // the next group reloads the heads first
    return r->purge_done(s);
  }
  {
    std::lock_guard<std::mutex> l(heads_mu_);
    heads_.erase(tenant);
    purged_[tenant] = certificate;
  }
  if (options_.metrics) options_.metrics->CountPurge();
  r->purge_done(certificate);
}

}  // namespace indelible
