#include "daemon/sequencer.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace indelible {

Sequencer::Sequencer(Storage* storage, Clock* clock, Options options)
    : storage_(storage), clock_(clock), options_(options) {}

Sequencer::~Sequencer() { Stop(); }

absl::Status Sequencer::Start() {
  if (auto s = ReloadHeads(); !s.ok()) return s;
  writer_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

absl::Status Sequencer::ReloadHeads() {
  auto heads = storage_->LoadHeads();
  if (!heads.ok()) return heads.status();
  std::lock_guard<std::mutex> l(heads_mu_);
  heads_.clear();
  for (auto& [tenant, head] : *heads) heads_.emplace(tenant, head);
  return absl::OkStatus();
}

void Sequencer::Submit(std::vector<PreparedEvent> events, Callback done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      queued_events_ += events.size();
      queue_.push_back(Request{std::move(events), std::move(done)});
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
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is answered
      size_t events = 0;
      while (!queue_.empty() &&
             (group.empty() ||
              events + queue_.front().events.size() <=
                  options_.max_group_events)) {
        events += queue_.front().events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_events_ -= events;
    }
    CommitGroup(&group);
    group.clear();
  }
}

void Sequencer::CommitGroup(std::vector<Request>* group) {
  auto fail_all = [group](const absl::Status& s) {
    for (Request& r : *group) r.done(s);
  };
  if (heads_stale_) {
    // A failed write may or may not have reached the WAL; the DB, not our
    // memory, says where each chain ends.
    (void)storage_->Resume();
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
    for (const PreparedEvent& e : (*group)[ri].events) {
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
      if (!existing.ok()) return fail_all(existing.status());
      if (existing->has_value()) {
        auto sk = storage_->GetSkeleton(e.tenant, **existing);
        if (!sk.ok()) return fail_all(sk.status());
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
      storage_->PutRecord(&batch, e.tenant, head.seq, sk, e.body, e.event_id);
      rc.seq = head.seq;
      rc.received_at_ns = sk.received_at_ns;
      rc.entry_hash = sk.entry_hash;
      new_ids.emplace(std::move(id_key), rc);
      receipts[ri].push_back(std::move(rc));
    }
  }

  if (!new_heads.empty()) {
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
    (*group)[ri].done(std::move(receipts[ri]));
  }
}

}  // namespace indelible
