// Storage::BuildMissingTrees: brings an older store's trees to the layout of
// layout.h ("tree"): builds them for a store written before the tree
// existed, or moves the leaf rows' categories of the previous layout
// (store::kTreeMarkerV1) into the skeletons.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/write/storage.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/text.h"
#include "verifier/store/tree_nodes.h"

namespace indelible {
namespace {

using chain::ToAbsl;

std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// A skeleton rewritten by the upgrade: a run of one under its own key. Only
// skeletons of stores from before runs are rewritten, and Storage::Open
// made each of those a run of one (MoveLegacySkeletons): the row replaces
// exactly the one it rewrites.
std::string SkeletonRunOfOne(uint64_t seq, const store::Skeleton& sk) {
  std::string run;
  store::AppendToSkeletonRun(&run, seq, store::EncodeSkeleton(sk));
  return run;
}

// OK if the row at key(tenant, seq) is a run of that skeleton alone, which
// SkeletonRunOfOne may replace; DataLoss otherwise (a row of more, in a
// store edited by hand: replaced, it would cut its run).
absl::Status CheckRunOfOne(Storage& storage, rocksdb::ColumnFamilyHandle* skeletons,
                           const std::string& tenant, uint64_t seq) {
  std::string row;
  const auto st =
      storage.db()->Get(rocksdb::ReadOptions(), skeletons, store::SeqKey(tenant, seq), &row);
  if (!st.ok() && !st.IsNotFound()) return FromRocksDb(st, "read skeleton row");
  store::BodyRun run(seq, row);
  uint64_t got = 0, more = 0;
  std::string_view skeleton;
  if (st.ok() && run.Next(&got, &skeleton) && got == seq && !run.Next(&more, &skeleton) &&
      !run.malformed()) {
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat("tree upgrade: the skeleton of ", ToAbsl(tenant), "/",
                                          seq, " is not a row of its own"));
}

// Records read and written per batch by the tree upgrade.
constexpr size_t kUpgradeChunk = 4096;

// seq -> category of a tenant's records whose body is gone.
using PrunedCategories = std::unordered_map<uint64_t, std::string>;

// The column families the upgrade writes.
struct TreeCfs {
  rocksdb::ColumnFamilyHandle* skeletons;
  rocksdb::ColumnFamilyHandle* event_ids;
  rocksdb::ColumnFamilyHandle* tree;
  // event_ids is keyed tenant first (store::kLegacyEventIdsCf), not as
  // store::EventIdKey.
  bool legacy_event_ids;
};

// Deletes the tenant's tree rows on levels [from, to) (all by default): a
// stale partial tree of an interrupted upgrade is replaced.
absl::Status ClearTenantTree(Storage& storage, rocksdb::ColumnFamilyHandle* tree,
                             const std::string& tenant, int from = 0, int to = 256) {
  rocksdb::WriteBatch b;
  std::string begin = store::TenantPrefix(tenant), end = begin;
  begin.push_back(static_cast<char>(from));
  if (to < 256) {
    end.push_back(static_cast<char>(to));
  } else {
    end.back() = '\x01';  // past every level of the tenant
  }
  b.DeleteRange(tree, begin, end);
  return storage.WriteSynced(&b);
}

// Categories of records whose body is gone, from the event-id index.
// The legacy index holds a tenant's rows as one key range; the current one
// is read whole. Stores from before the tree still have the legacy index
// here (it moves after the upgrade): only a store whose tree marker was
// deleted by hand takes the slower path.
absl::StatusOr<PrunedCategories> ReadPrunedCategories(Storage& storage, const TreeCfs& cfs,
                                                      const std::string& tenant) {
  PrunedCategories pruned_categories;
  const std::string prefix = cfs.legacy_event_ids ? store::TenantPrefix(tenant) : std::string();
  std::unique_ptr<rocksdb::Iterator> it(
      storage.db()->NewIterator(rocksdb::ReadOptions(), cfs.event_ids));
  for (it->Seek(prefix);
       it->Valid() && ToView(it->key()).substr(0, prefix.size()) == prefix; it->Next()) {
    std::string_view row_tenant, id;
    if (!cfs.legacy_event_ids &&
        (!store::ParseEventIdKey(ToView(it->key()), &row_tenant, &id) || row_tenant != tenant)) {
      continue;
    }
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

// Appends the leaves of `records`, the tenant's next ones, to `range`: each
// skeleton without a category is rewritten with its leaf's category and the
// stored nodes the leaves complete are written, in one synced batch.
absl::Status AppendLeaves(Storage& storage, const TreeCfs& cfs, const std::string& tenant,
                          std::vector<StoredRecord>* records,
                          const PrunedCategories& pruned_categories,
                          chain::CompactRange* range, uint64_t* unknown) {
  rocksdb::WriteBatch batch;
  for (StoredRecord& r : *records) {
    if (r.seq != range->size() + 1) {
      return absl::DataLossError(absl::StrCat(
          "tree upgrade: tenant ", ToAbsl(tenant), " has no skeleton for seq ",
          range->size() + 1));
    }
    // A skeleton from before the tree has no category (72 bytes); one that
    // has its category (a newer store whose marker is gone) is kept: its
    // row may be a run of many.
    if (r.skeleton.category.empty()) {
      if (auto s = CheckRunOfOne(storage, cfs.skeletons, tenant, r.seq); !s.ok()) return s;
      auto category = LeafCategory(r, pruned_categories, unknown);
      if (!category.ok()) return category.status();
      r.skeleton.category = *std::move(category);
      batch.Put(cfs.skeletons, store::SeqKey(tenant, r.seq),
                SkeletonRunOfOne(r.seq, r.skeleton));
    }
    range->Append(store::LeafOf(r.skeleton), [&](chain::NodeId n, const chain::Digest& h) {
      if (store::IsStoredNode(n)) storage.PutTreeNode(&batch, tenant, n, h);
    });
  }
  return storage.WriteSynced(&batch);
}

// Builds the tenant's tree from its skeletons, in chunks, logging progress;
// DataLoss if its records do not run from 1 to the head's seq.
absl::Status BuildTenantTree(Storage& storage, const TreeCfs& cfs, const std::string& tenant,
                             const store::Head& head) {
  if (auto s = ClearTenantTree(storage, cfs.tree, tenant); !s.ok()) return s;
  auto pruned_categories = ReadPrunedCategories(storage, cfs, tenant);
  if (!pruned_categories.ok()) return pruned_categories.status();
  chain::CompactRange range;
  uint64_t next = 1, unknown = 0;
  while (next <= head.seq) {
    auto records = storage.ReadRecords(tenant, next, kUpgradeChunk);
    if (!records.ok()) return records.status();
    if (records->empty()) break;
    if (auto s = AppendLeaves(storage, cfs, tenant, &*records, *pruned_categories, &range,
                              &unknown);
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

// The previous layout (store::kTreeMarkerV1) to this one for one tenant:
// each leaf row's category goes into its record's skeleton (in chunks, each
// one synced batch), then the rows below store::kLowestStoredLevel go.
// Repeating it after an interruption is harmless: a tenant without leaf rows
// is done. DataLoss if a leaf row has no skeleton or is malformed.
absl::Status MoveLeafCategories(Storage& storage, const TreeCfs& cfs, const std::string& tenant,
                                const store::Head& head) {
  std::string leaves_prefix = store::TenantPrefix(tenant);
  leaves_prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(
      storage.db()->NewIterator(rocksdb::ReadOptions(), cfs.tree));
  rocksdb::WriteBatch batch;
  uint64_t moved = 0;
  for (it->Seek(leaves_prefix);
       it->Valid() && ToView(it->key()).substr(0, leaves_prefix.size()) == leaves_prefix;
       it->Next()) {
    std::string_view t, category;
    int level = 0;
    uint64_t index = 0;
    chain::Digest hash;
    if (!store::ParseTreeKey(ToView(it->key()), &t, &level, &index) ||
        !store::DecodeTreeRow(0, ToView(it->value()), &hash, &category)) {
      return absl::DataLossError(absl::StrCat("tree layout upgrade: tenant ", ToAbsl(tenant),
                                              " has a malformed leaf row"));
    }
    auto sk = storage.GetSkeleton(tenant, index + 1);
    if (!sk.ok()) return sk.status();
    if (auto s = CheckRunOfOne(storage, cfs.skeletons, tenant, index + 1); !s.ok()) return s;
    sk->category.assign(category);
    batch.Put(cfs.skeletons, store::SeqKey(tenant, index + 1), SkeletonRunOfOne(index + 1, *sk));
    if (++moved % kUpgradeChunk == 0) {
      if (auto s = storage.WriteSynced(&batch); !s.ok()) return s;
      batch.Clear();
      spdlog::info("event=tree_layout_upgrade_progress tenant={} leaves={} of={}", tenant,
                   moved, head.seq);
    }
  }
  if (auto s = FromRocksDb(it->status(), "scan leaf rows"); !s.ok()) return s;
  if (auto s = storage.WriteSynced(&batch); !s.ok()) return s;
  spdlog::info("event=tree_layout_upgrade_tenant tenant={} leaves={}", tenant, moved);
  return ClearTenantTree(storage, cfs.tree, tenant, 0, store::kLowestStoredLevel);
}

}  // namespace

absl::Status Storage::BuildMissingTrees() {
  std::string marker;
  auto st = db_->Get(rocksdb::ReadOptions(), store::kTreeMarkerKey, &marker);
  if (st.ok() && marker == store::kTreeMarkerValue) return absl::OkStatus();
  if (!st.ok() && !st.IsNotFound()) return FromRocksDb(st, "read tree marker");
  if (st.ok() && marker != store::kTreeMarkerV1) {
    return absl::DataLossError(absl::StrCat("unknown tree layout \"", ToAbsl(marker), "\""));
  }
  const bool move = st.ok();
  auto heads = LoadHeads();
  if (!heads.ok()) return heads.status();
  // A store this old keeps its event ids in the legacy index, by tenant.
  const TreeCfs cfs{skeletons_,
                    legacy_event_ids_ != nullptr ? legacy_event_ids_ : event_ids_, tree_,
                    legacy_event_ids_ != nullptr};
  const char* what = move ? "tree_layout_upgrade" : "tree_upgrade";
  spdlog::info("event={}_start tenants={}", what, heads->size());
  for (const auto& [tenant, head] : *heads) {
    auto s = move ? MoveLeafCategories(*this, cfs, tenant, head)
                  : BuildTenantTree(*this, cfs, tenant, head);
    if (!s.ok()) return s;
  }
  if (auto s = PutMeta(store::kTreeMarkerKey, store::kTreeMarkerValue); !s.ok()) return s;
  spdlog::info("event={}_done tenants={}", what, heads->size());
  return MoveLegacyEventIds();
}

}  // namespace indelible
