// Storage's Merkle tree rows (layout.h, "tree"), the v2 checkpoints that
// sign its roots, and the upgrade that builds the trees of an older store.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/write/storage.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using chain::ToAbsl;

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Records read and written per batch by the tree upgrade.
constexpr size_t kUpgradeChunk = 4096;

// seq -> category of a tenant's records whose body is gone.
using PrunedCategories = std::unordered_map<uint64_t, std::string>;

// Deletes the tenant's tree rows: a stale partial tree of an interrupted
// upgrade is replaced.
absl::Status ClearTenantTree(Storage& storage, rocksdb::ColumnFamilyHandle* tree,
                             const std::string& tenant) {
  rocksdb::WriteBatch b;
  std::string end(tenant);
  end.push_back('\x01');
  b.DeleteRange(tree, store::TenantPrefix(tenant), end);
  return storage.WriteSynced(&b);
}

// Categories of records whose body is gone, from the event-id index.
absl::StatusOr<PrunedCategories> ReadPrunedCategories(
    Storage& storage, rocksdb::ColumnFamilyHandle* event_ids, const std::string& tenant) {
  PrunedCategories pruned_categories;
  const std::string prefix = store::TenantPrefix(tenant);
  std::unique_ptr<rocksdb::Iterator> it(
      storage.db()->NewIterator(rocksdb::ReadOptions(), event_ids));
  for (it->Seek(prefix);
       it->Valid() && ToView(it->key()).substr(0, prefix.size()) == prefix; it->Next()) {
    uint64_t seq = 0, at = 0;
    std::string_view category;
    if (store::DecodeEventIdValue(ToView(it->value()), &seq, &at, &category)) {
      auto body = storage.GetBody(tenant, seq);
      if (!body.ok()) return body.status();
      if (!body->has_value()) pruned_categories.emplace(seq, std::string(category));
    }
  }
  if (auto s = FromRocksDb(it->status(), "scan event ids"); !s.ok()) return s;
  return pruned_categories;
}

// The category a record's leaf commits to: from its body, else the event-id
// index, else kUnknownCategory (counted in `unknown`).
absl::StatusOr<std::string> LeafCategory(const StoredRecord& r,
                                         const PrunedCategories& pruned_categories,
                                         uint64_t* unknown) {
  if (!r.pruned) {
    auto c = chain::CanonicalEventCategory(r.ce);
    if (!c.ok()) return c.status();
    return std::string(*c);
  }
  if (auto it = pruned_categories.find(r.seq); it != pruned_categories.end()) {
    return it->second;
  }
  ++*unknown;
  return std::string(kUnknownCategory);
}

// Appends the leaves of `records`, the tenant's next ones, to `range` and
// writes the nodes they complete in one synced batch.
absl::Status AppendLeaves(Storage& storage, const std::string& tenant,
                          const std::vector<StoredRecord>& records,
                          const PrunedCategories& pruned_categories,
                          chain::CompactRange* range, uint64_t* unknown) {
  rocksdb::WriteBatch batch;
  for (const StoredRecord& r : records) {
    if (r.seq != range->size() + 1) {
      return absl::DataLossError(absl::StrCat(
          "tree upgrade: tenant ", ToAbsl(tenant), " has no skeleton for seq ",
          range->size() + 1));
    }
    auto category = LeafCategory(r, pruned_categories, unknown);
    if (!category.ok()) return category.status();
    range->Append(chain::LeafHash(r.skeleton.entry_hash, *category),
                  [&](chain::NodeId n, const chain::Digest& h) {
                    storage.PutTreeNode(&batch, tenant, n, h, *category);
                  });
  }
  return storage.WriteSynced(&batch);
}

// Builds the tenant's tree from its skeletons, in chunks, logging progress;
// DataLoss if its records do not run from 1 to the head's seq.
absl::Status BuildTenantTree(Storage& storage, const std::string& tenant,
                             const store::Head& head,
                             const PrunedCategories& pruned_categories) {
  chain::CompactRange range;
  uint64_t next = 1, unknown = 0;
  while (next <= head.seq) {
    auto records = storage.ReadRecords(tenant, next, kUpgradeChunk);
    if (!records.ok()) return records.status();
    if (records->empty()) break;
    if (auto s = AppendLeaves(storage, tenant, *records, pruned_categories, &range, &unknown);
        !s.ok()) {
      return s;
    }
    next = records->back().seq + 1;
    spdlog::info("event=tree_upgrade_progress tenant={} leaves={} of={}", tenant,
                 range.size(), head.seq);
  }
  if (range.size() != head.seq) {
    return absl::DataLossError(absl::StrCat("tree upgrade: tenant ", ToAbsl(tenant),
                                            " has ", range.size(),
                                            " records, its head says ", head.seq));
  }
  spdlog::info("event=tree_upgrade_tenant tenant={} leaves={} unknown_categories={}",
               tenant, range.size(), unknown);
  return absl::OkStatus();
}

}  // namespace

void Storage::PutTreeNode(rocksdb::WriteBatch* batch, std::string_view tenant,
                          const chain::NodeId& node, const chain::Digest& hash,
                          std::string_view leaf_category) {
  // As store::EncodeTreeRow, without building the value: the append path.
  const std::string key = store::TreeKey(tenant, node.level, node.index);
  const rocksdb::Slice key_part(key);
  const rocksdb::Slice value[2] = {ToSlice(chain::AsBytes(hash)),
                                   node.level == 0 ? ToSlice(leaf_category) : rocksdb::Slice()};
  batch->Put(tree_, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value, 2));
}

absl::StatusOr<std::vector<chain::Digest>> Storage::GetTreeNodes(
    std::string_view tenant, const std::vector<chain::NodeId>& nodes) {
  std::vector<chain::Digest> out(nodes.size());
  if (nodes.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(nodes.size());
  for (const auto& n : nodes) keys.push_back(store::TreeKey(tenant, n.level, n.index));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(nodes.size());
  std::vector<rocksdb::Status> statuses(nodes.size());
  db_->MultiGet(rocksdb::ReadOptions(), tree_, slices.size(), slices.data(),
                values.data(), statuses.data());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string what = absl::StrCat("tree node of ", ToAbsl(tenant), " level ",
                                          nodes[i].level, " index ", nodes[i].index);
    if (statuses[i].IsNotFound()) return absl::DataLossError(absl::StrCat(what, " is missing"));
    if (auto s = FromRocksDb(statuses[i], absl::StrCat("read ", what)); !s.ok()) return s;
    std::string_view category;
    if (!store::DecodeTreeRow(nodes[i].level, ToView(values[i]), &out[i], &category)) {
      return absl::DataLossError(absl::StrCat(what, " is malformed"));
    }
  }
  return out;
}

absl::StatusOr<std::vector<chain::Digest>> Storage::ProofHashes(std::string_view tenant,
                                                                const chain::ProofPlan& plan) {
  std::vector<chain::NodeId> nodes;
  for (const auto& element : plan.elements) {
    nodes.insert(nodes.end(), element.begin(), element.end());
  }
  auto hashes = GetTreeNodes(tenant, nodes);
  if (!hashes.ok()) return hashes.status();
  std::vector<chain::Digest> out;
  out.reserve(plan.elements.size());
  size_t pos = 0;
  for (const auto& element : plan.elements) {
    std::vector<chain::Digest> part(hashes->begin() + pos,
                                    hashes->begin() + pos + element.size());
    pos += element.size();
    out.push_back(chain::FoldRange(part));
  }
  return out;
}

absl::StatusOr<chain::CompactRange> Storage::LoadCompactRange(std::string_view tenant,
                                                              uint64_t size) {
  auto hashes = GetTreeNodes(tenant, chain::CompactRange::Frontier(size));
  if (!hashes.ok()) return hashes.status();
  return chain::CompactRange::FromHashes(size, std::move(*hashes));
}

absl::Status Storage::BuildMissingTrees() {
  std::string marker;
  auto st = db_->Get(rocksdb::ReadOptions(), store::kTreeMarkerKey, &marker);
  if (st.ok() && marker == store::kTreeMarkerValue) return absl::OkStatus();
  if (!st.ok() && !st.IsNotFound()) return FromRocksDb(st, "read tree marker");
  auto heads = LoadHeads();
  if (!heads.ok()) return heads.status();
  spdlog::info("event=tree_upgrade_start tenants={}", heads->size());
  for (const auto& [tenant, head] : *heads) {
    if (auto s = ClearTenantTree(*this, tree_, tenant); !s.ok()) return s;
    auto pruned_categories = ReadPrunedCategories(*this, event_ids_, tenant);
    if (!pruned_categories.ok()) return pruned_categories.status();
    if (auto s = BuildTenantTree(*this, tenant, head, *pruned_categories); !s.ok()) return s;
  }
  if (auto s = PutMeta(store::kTreeMarkerKey, store::kTreeMarkerValue); !s.ok()) return s;
  spdlog::info("event=tree_upgrade_done tenants={}", heads->size());
  return absl::OkStatus();
}

absl::Status Storage::PutCheckpointV2(std::string_view tenant, uint64_t size,
                                      std::string_view note) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocksDb(db_->Put(wo, checkpoints_v2_, store::SeqKey(tenant, size),
                              ToSlice(note)),
                     "write v2 checkpoint");
}

absl::StatusOr<std::pair<uint64_t, std::string>> Storage::GetCheckpointV2(
    std::string_view tenant, uint64_t min_size) {
  const std::string prefix = store::TenantPrefix(tenant);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), checkpoints_v2_));
  if (min_size == 0) {
    it->SeekForPrev(store::SeqKey(tenant, ~uint64_t{0}));
  } else {
    it->Seek(store::SeqKey(tenant, min_size));
  }
  std::string_view t;
  uint64_t size = 0;
  if (it->Valid() && ToView(it->key()).substr(0, prefix.size()) == prefix &&
      store::ParseSeqKey(ToView(it->key()), &t, &size)) {
    return std::make_pair(size, it->value().ToString());
  }
  if (auto s = FromRocksDb(it->status(), "read v2 checkpoint"); !s.ok()) return s;
  return absl::NotFoundError(
      absl::StrCat("no v2 checkpoint for tenant ", ToAbsl(tenant),
                   min_size ? absl::StrCat(" of size ", min_size, " or more") : ""));
}

}  // namespace indelible
