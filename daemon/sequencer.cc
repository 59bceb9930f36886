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
  if (writer_.joinable()) writer_.join();
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
      if (queue_.empty()) return;  // stopping, and everything is answered
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
    if (!group.front().purge_tenant.empty()) {
      CommitPurge(&group.front());
    } else {
      const auto start = std::chrono::steady_clock::now();
      CommitGroup(&group);
      if (options_.metrics) {
        options_.metrics->ObserveCommit(
            events, std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count());
      }
    }
    group.clear();
  }
}

void Sequencer::CommitGroup(std::vector<Request>* group) {
  auto fail_all = [group](const absl::Status& s) {
    for (Request& r : *group) {
      if (r.done) r.done(s);
    }
  };
  // A read that finds damaged rows quarantines their tenant. The group's
  // batch may already hold rows of the failing request, so the whole group
  // fails: the damaged tenant's requests with DataLoss, the others with
  // Unavailable (a retry commits them in a later group).
  auto fail_read = [this, group](const std::string& tenant,
                                 const absl::Status& s) {
    if (!absl::IsDataLoss(s)) {
      for (Request& r : *group) {
        if (r.done) r.done(s);
      }
      return;
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
  };
  if (heads_stale_) {
    // A failed write may or may not have reached the WAL; the DB, not our
    // memory, says where each chain ends.
    if (auto s = storage_->Resume(); !s.ok()) {
      spdlog::warn("event=storage_resume_failed status=\"{}\"", s.ToString());
    } else {
      spdlog::info("event=storage_resumed");
    }
    if (auto s = ReloadHeads(); !s.ok()) {
      spdlog::error("event=reload_heads_failed status=\"{}\"", s.ToString());
      return fail_all(absl::UnavailableError("storage unavailable"));
    }
    heads_stale_ = false;
  }

  rocksdb::WriteBatch batch;
  // Heads after this group, and receipts of event ids first seen in it.
  std::unordered_map<std::string, store::Head> new_heads;
  std::unordered_map<std::string, Receipt> new_ids;
  std::vector<std::vector<Receipt>> receipts(group->size());

  for (size_t ri = 0; ri < group->size(); ++ri) {
    Request& req = (*group)[ri];
    for (const PreparedEvent& e : req.events) {
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
    }
    if (!req.done) continue;
    if (req.extra) req.extra(&batch);
    for (PreparedEvent& e : req.events) {
      Receipt rc;
      rc.tenant = e.tenant;
      std::string id_key = store::EventIdKey(e.tenant, e.event_id);
      if (auto it = new_ids.find(id_key); it != new_ids.end()) {
        rc = it->second;
        rc.duplicate = true;
        receipts[ri].push_back(std::move(rc));
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
        receipts[ri].push_back(std::move(rc));
        continue;
      }
      auto head_it = new_heads.find(e.tenant);
      if (head_it == new_heads.end()) {
        head_it = new_heads.emplace(e.tenant, GetHead(e.tenant)).first;
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
      storage_->PutRecord(&batch, e.tenant, head.seq, sk, e.body, e.event_id,
                          e.category);
      rc.seq = head.seq;
      rc.received_at_ns = sk.received_at_ns;
      rc.entry_hash = sk.entry_hash;
      new_ids.emplace(std::move(id_key), rc);
      receipts[ri].push_back(std::move(rc));
    }
  }

  if (batch.Count() > 0) {
    for (const auto& [tenant, head] : new_heads) {
      storage_->PutHead(&batch, tenant, head);
    }
    if (auto s = storage_->WriteSynced(&batch); !s.ok()) {
      spdlog::error("event=commit_failed events={} status=\"{}\"",
                    batch.Count(), s.ToString());
      heads_stale_ = true;
      return fail_all(s);
    }
    std::lock_guard<std::mutex> l(heads_mu_);
    for (auto& [tenant, head] : new_heads) heads_[tenant] = head;
  }
  for (size_t ri = 0; ri < group->size(); ++ri) {
    if ((*group)[ri].done) (*group)[ri].done(std::move(receipts[ri]));
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
  const std::string certificate = r->certify(head);
  rocksdb::WriteBatch batch;
  storage_->DeleteTenantRows(&batch, tenant);
  storage_->PutMeta(&batch, std::string(store::kPurgedPrefix) + tenant,
                    certificate);
  if (auto s = storage_->WriteSynced(&batch); !s.ok()) {
    heads_stale_ = true;
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
