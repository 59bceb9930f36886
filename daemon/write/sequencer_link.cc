// Sequencer::Link and its steps, on the sequencer thread: admission,
// de-duplication, linking (entry hash, rows, tree nodes), and taking a
// chunk out again when a read fails. The queue, the group handover and the
// synced write are in sequencer.cc.
#include <algorithm>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "daemon/write/retry_match.h"
#include "daemon/write/sequencer.h"
#include "verifier/chain/text.h"

namespace indelible {

void Sequencer::Link(std::vector<Request>* chunk, Group* g) {
  // If a read fails, the chunk's rows are taken out of the batch again and
  // only the chunk's requests fail; what earlier chunks linked stays.
  g->batch.SetSavePoint();
  // Ids of durable groups are looked up in storage, where retention may
  // have pruned their first record since.
  ForgetDurableIds();
  ChunkUndo undo{g->new_heads, g->new_frontiers, {}};
  std::vector<std::vector<Receipt>> receipts(chunk->size());
  std::vector<std::vector<Resolved>> resolved(chunk->size());
  // Requests refused for reusing the id of an earlier request's event in
  // this chunk: answered once that event is linked, so the error can name
  // its seq.
  struct Deferred {
    Callback done;
    size_t ri;
    UnlinkedConflict conflict;
  };
  std::vector<Deferred> deferred;
  ChunkIds ids = LookUpIds(*chunk);
  // Every request is admitted and its ids resolved, in order, before
  // anything is linked.
  for (size_t ri = 0; ri < chunk->size(); ++ri) {
    Request& req = (*chunk)[ri];
    if (!Admit(&req)) continue;
    absl::Status refused;
    UnlinkedConflict conflict;
    if (auto failed = Deduplicate(&req, g, &undo, &ids, ri, &resolved[ri], &receipts[ri],
                                  &refused, &conflict)) {
      for (Deferred& d : deferred) (*chunk)[d.ri].done = std::move(d.done);
      return FailChunk(chunk, g, &undo, *failed);
    }
    if (!refused.ok()) {
      if (conflict.first != nullptr) {
        deferred.push_back({std::move(req.done), ri, conflict});
      } else {
        req.done(refused);
      }
      req.done = nullptr;
      continue;
    }
    if (req.extra) req.extra(&g->batch);
  }
  LinkNew(chunk, g, resolved, &receipts);
  for (Deferred& d : deferred) {
    d.done(ConflictError((*chunk)[d.ri].events[d.conflict.ei], *d.conflict.first));
  }
  // A repeat of an event in flight takes its first's receipt, linked
  // earlier in this chunk or in a group before.
  for (size_t ri = 0; ri < chunk->size(); ++ri) {
    if (!(*chunk)[ri].done) continue;
    for (size_t ei = 0; ei < resolved[ri].size(); ++ei) {
      if (resolved[ri][ei].kind != Resolved::Kind::kRepeatsInFlight) continue;
      Receipt& rc = receipts[ri][ei];
      rc = resolved[ri][ei].first->receipt;
      rc.duplicate = true;
    }
  }
  g->batch.PopSavePoint();
  for (size_t ri = 0; ri < chunk->size(); ++ri) {
    Request& req = (*chunk)[ri];
    if (!req.done) continue;
    g->events += req.events.size();
    g->requests.push_back(std::move(req));
    g->receipts.push_back(std::move(receipts[ri]));
  }
}

void Sequencer::LinkNew(std::vector<Request>* chunk, Group* g,
                        const std::vector<std::vector<Resolved>>& resolved,
                        std::vector<std::vector<Receipt>>* receipts) {
  // The chunk's new events, tenant by tenant, each tenant's in the order
  // they came. Requests mix tenants (a client batching for many), and the
  // rows of one tenant are adjacent keys: put into the batch together,
  // each memtable insert lands next to the one before it instead of
  // searching the skip list again for every event.
  struct New {
    uint32_t ri, ei, tenant;  // tenant: its index in per_tenant
  };
  std::vector<New> news;
  std::vector<uint32_t> per_tenant;  // new events per tenant index
  absl::flat_hash_map<std::string_view, uint32_t> index;
  std::string_view last;
  uint32_t last_index = 0;
  for (size_t ri = 0; ri < chunk->size(); ++ri) {
    const Request& req = (*chunk)[ri];
    if (!req.done) continue;
    for (size_t ei = 0; ei < req.events.size(); ++ei) {
      if (resolved[ri][ei].kind != Resolved::Kind::kNew) continue;
      const std::string_view tenant = req.events[ei].tenant;
      if (per_tenant.empty() || tenant != last) {
        auto [it, added] = index.try_emplace(tenant, per_tenant.size());
        if (added) per_tenant.push_back(0);
        last = tenant;
        last_index = it->second;
      }
      ++per_tenant[last_index];
      news.push_back({static_cast<uint32_t>(ri), static_cast<uint32_t>(ei), last_index});
    }
  }
  if (per_tenant.size() > 1) {  // a stable counting sort by tenant
    std::vector<uint32_t> next(per_tenant.size(), 0);  // where each tenant's run starts
    for (size_t t = 1; t < per_tenant.size(); ++t) next[t] = next[t - 1] + per_tenant[t - 1];
    std::vector<New> order(news.size());
    for (const New& n : news) order[next[n.tenant]++] = n;
    news.swap(order);
  }
  TreeWriter tree(storage_, &g->batch);
  Storage::ChunkRows rows;
  rows.ids.reserve(news.size());
  Linking at;
  for (const New& n : news) {
    Receipt& rc = (*receipts)[n.ri][n.ei];
    LinkEvent(&(*chunk)[n.ri].events[n.ei], resolved[n.ri][n.ei].key, g, &tree, &at, &rc,
              &rows);
    resolved[n.ri][n.ei].first->receipt = rc;
  }
  storage_->PutChunkRows(&g->batch, &rows);
}

bool Sequencer::Admit(Request* req) {
  if (req->done && req->stream != nullptr && req->stream->load()) {
    req->done(absl::AbortedError(
        "an earlier request of this stream failed; nothing of this one was stored"));
    req->done = nullptr;
    return false;
  }
  const std::string* admitted = nullptr;  // the tenant last found writable
  for (const PreparedEvent& e : req->events) {
    if (admitted != nullptr && *admitted == e.tenant) continue;
    if (absl::Status s = tenants_.Admit(e.tenant); !s.ok()) {
      req->done(std::move(s));
      req->done = nullptr;
      return false;
    }
    admitted = &e.tenant;
  }
  return static_cast<bool>(req->done);
}

Sequencer::ChunkIds Sequencer::LookUpIds(const std::vector<Request>& chunk) {
  ChunkIds ids;
  ids.first.reserve(chunk.size());
  for (const Request& req : chunk) {
    ids.first.push_back(ids.keys.size());
    for (const PreparedEvent& e : req.events) {
      ids.keys.push_back(store::EventIdKey(e.tenant, e.event_id));
    }
  }
  // Ids of durable groups are in storage (ForgetDurableIds ran), those of
  // groups still in flight are found by InFlight() before storage is asked:
  // what storage held when the chunk began is what it holds for them now.
  ids.stored = storage_->LookupEventIds(ids.keys);
  return ids;
}

std::optional<Sequencer::ReadFailure> Sequencer::Deduplicate(
    Request* req, Group* g, ChunkUndo* undo, ChunkIds* ids, size_t ri,
    std::vector<Resolved>* resolved, std::vector<Receipt>* receipts, absl::Status* refused,
    UnlinkedConflict* conflict) {
  resolved->assign(req->events.size(), Resolved{});
  receipts->resize(req->events.size());
  const size_t ids_before = undo->ids_added.size();
  for (size_t ei = 0; ei < req->events.size() && refused->ok(); ++ei) {
    const PreparedEvent& e = req->events[ei];
    const size_t at = ids->first[ri] + ei;
    std::string& id_key = ids->keys[at];
    if (FirstRecord* first = InFlight(g, id_key)) {
      if (!SameEvent(*first, e)) {
        *refused = ConflictError(e, *first);
        // Not linked yet (seq 0) and not this request's own: an earlier
        // request's event in this chunk.
        const auto own = std::find(undo->ids_added.begin() + ids_before,
                                   undo->ids_added.end(), id_key);
        if (first->receipt.seq == 0 && own == undo->ids_added.end()) *conflict = {ei, first};
      }
      (*resolved)[ei] = {Resolved::Kind::kRepeatsInFlight, first, {}};
      continue;
    }
    if (!ids->stored[at].ok()) return ReadFailure{e.tenant, ids->stored[at].status()};
    auto stored = StoredFirst(e, *ids->stored[at]);
    if (!stored.ok()) return ReadFailure{e.tenant, stored.status()};
    if (stored->has_value()) {
      if (!SameEvent(**stored, e)) *refused = ConflictError(e, **stored);
      (*receipts)[ei] = std::move((*stored)->receipt);
      (*resolved)[ei] = {Resolved::Kind::kRepeatsStored, nullptr, {}};
      continue;
    }
    auto node = g->new_ids.insert_or_assign(std::move(id_key), FirstRecordOf(e)).first;
    undo->ids_added.push_back(node->first);
    (*resolved)[ei] = {Resolved::Kind::kNew, &node->second, node->first};
  }
  if (!refused->ok()) {
    for (size_t i = ids_before; i < undo->ids_added.size(); ++i) {
      g->new_ids.erase(chain::ToAbsl(undo->ids_added[i]));
    }
    undo->ids_added.resize(ids_before);
  }
  return std::nullopt;
}

FirstRecord* Sequencer::InFlight(Group* g, const std::string& id_key) {
  const size_t hash = g->new_ids.hash_function()(id_key);
  if (auto it = g->new_ids.find(id_key, hash); it != g->new_ids.end()) return &it->second;
  // The latest group that holds the id wins.
  for (auto p = pending_ids_.rbegin(); p != pending_ids_.rend(); ++p) {
    if (auto it = p->second.find(id_key, hash); it != p->second.end()) return &it->second;
  }
  return nullptr;
}

absl::StatusOr<std::optional<FirstRecord>> Sequencer::StoredFirst(
    const PreparedEvent& e, std::optional<uint64_t> stored_seq) {
  if (!stored_seq.has_value()) return std::optional<FirstRecord>();
  const uint64_t seq = *stored_seq;
  // The index names a stored seq: a skeleton that is not there (nor the one
  // before it) is damage, never an answer of "no such record".
  auto missing_is_damage = [&](const absl::Status& s) {
    return absl::IsNotFound(s) ? absl::DataLossError(s.message()) : s;
  };
  auto sk = storage_->GetSkeleton(e.tenant, seq);
  if (!sk.ok()) return missing_is_damage(sk.status());
  auto body = storage_->GetBody(e.tenant, seq);
  if (!body.ok()) return body.status();
  // A pruned body takes its id with it (docs/RETENTION.md): the event is
  // stored as a new record.
  if (!body->has_value()) return std::optional<FirstRecord>();
  FirstRecord stored;
  if (!FirstRecordFromBody(**body, sk->body_digest, &stored)) {
    return absl::DataLossError(absl::StrCat("malformed body of ", e.tenant, " seq ", seq));
  }
  Receipt& rc = stored.receipt;
  rc.tenant = e.tenant;
  rc.seq = seq;
  rc.received_at_ns = sk->received_at_ns;
  rc.entry_hash = sk->entry_hash;
  rc.duplicate = true;
  rc.body_digest = sk->body_digest;
  if (seq == 1) {
    rc.prev_entry_hash = chain::Genesis(e.tenant);
  } else {
    auto prev = storage_->GetSkeleton(e.tenant, seq - 1);
    if (!prev.ok()) return missing_is_damage(prev.status());
    rc.prev_entry_hash = prev->entry_hash;
  }
  return std::optional<FirstRecord>(std::move(stored));
}

// LinkEvent keeps pointers into these maps while other tenants are added.
static_assert(std::is_same_v<HeadMap, std::unordered_map<std::string, store::Head>> &&
                  std::is_same_v<FrontierMap, std::unordered_map<std::string, chain::CompactRange>>,
              "Sequencer::Linking needs maps whose nodes stay put");

void Sequencer::LinkEvent(PreparedEvent* e, std::string_view id_key, Group* g,
                          TreeWriter* tree, Linking* at, Receipt* rc,
                          Storage::ChunkRows* rows) {
  if (at->head == nullptr || at->tenant != e->tenant) {
    // Node-based maps: the pointers stay valid while other tenants are added.
    auto head_it = g->new_heads.find(e->tenant);
    if (head_it == g->new_heads.end()) {
      head_it = g->new_heads.emplace(e->tenant, tenants_.PendingHead(e->tenant)).first;
    }
    auto frontier_it = g->new_frontiers.find(e->tenant);
    if (frontier_it == g->new_frontiers.end()) {
      frontier_it =
          g->new_frontiers.emplace(e->tenant, tenants_.PendingFrontier(e->tenant)).first;
    }
    *at = {head_it->first, &head_it->second, &frontier_it->second};
  }
  store::Head& head = *at->head;
  // The entry hash chains the record onto its tenant's head.
  store::Skeleton sk;
  sk.received_at_ns = std::max(clock_->NowNanos(), head.received_at_ns);
  sk.body_digest = e->body_digest;
  sk.entry_hash = chain::EntryHash(e->tenant, head.seq + 1, sk.received_at_ns,
                                   head.entry_hash, e->body_digest);
  rc->tenant = e->tenant;
  rc->prev_entry_hash = head.entry_hash;
  rc->body_digest = e->body_digest;
  head.seq += 1;
  head.received_at_ns = sk.received_at_ns;
  head.entry_hash = sk.entry_hash;
  // Its rows, then its leaf and the tree nodes it completes.
  store::SetBodyReceivedAt(&e->body, sk.received_at_ns);
  storage_->PutRecord(&g->batch, e->tenant, head.seq, sk, e->body, id_key, e->category,
                      rows);
  tree->Append(e->tenant, sk.entry_hash, e->category, at->frontier);
  rc->seq = head.seq;
  rc->received_at_ns = sk.received_at_ns;
  rc->entry_hash = sk.entry_hash;
}

void Sequencer::FailChunk(std::vector<Request>* chunk, Group* g, ChunkUndo* undo,
                          const ReadFailure& failure) {
  g->batch.RollbackToSavePoint();
  g->new_heads = std::move(undo->heads_before);
  g->new_frontiers = std::move(undo->frontiers_before);
  for (std::string_view key : undo->ids_added) g->new_ids.erase(chain::ToAbsl(key));
  // A read that finds damaged rows quarantines their tenant: the chunk's
  // requests touching it fail with DataLoss, the others with Unavailable
  // (a retry links them again).
  const absl::Status& s = failure.status;
  absl::Status lost = s;
  if (absl::IsDataLoss(s)) {
    tenants_.Quarantine(failure.tenant, std::string(s.message()));
    lost = TenantTable::QuarantineError(failure.tenant, std::string(s.message()));
  }
  for (Request& r : *chunk) {
    if (!r.done) continue;
    bool touches = false;
    for (const PreparedEvent& e : r.events) touches |= e.tenant == failure.tenant;
    r.done(touches || !absl::IsDataLoss(s)
               ? lost
               : absl::UnavailableError(
                     "storage read failed for another tenant in the same commit "
                     "group; retry"));
  }
}

}  // namespace indelible
