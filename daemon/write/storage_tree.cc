// Storage's Merkle tree rows (layout.h, "tree") and the v2 checkpoints that
// sign its roots.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/write/storage.h"
#include "verifier/store/body_records.h"
#include "verifier/chain/text.h"
#include "verifier/store/tree_nodes.h"

namespace indelible {
namespace {

using chain::ToAbsl;

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace

void Storage::PutTreeNode(rocksdb::WriteBatch* batch, std::string_view tenant,
                          const chain::NodeId& node, const chain::Digest& hash) {
  batch->Put(tree_, store::TreeKey(tenant, node.level, node.index),
             ToSlice(chain::AsBytes(hash)));
}

absl::StatusOr<std::vector<chain::Digest>> Storage::LeafHashes(std::string_view tenant,
                                                               uint64_t begin, uint64_t end) {
  std::vector<chain::Digest> out;
  out.reserve(end - begin);
  // No row after the last leaf is read (GetSkeleton).
  const std::string above = store::SeqKeyAbove(tenant, end);
  const rocksdb::Slice above_slice(above);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &above_slice;
  std::unique_ptr<rocksdb::Iterator> runs(db_->NewIterator(ro, skeletons_));
  store::SkeletonRecords it(runs.get(), nullptr);
  it.SeekFrom(store::SkeletonRunFloor(tenant, begin + 1), store::SeqKey(tenant, begin + 1));
  store::Skeleton sk;
  for (uint64_t seq = begin + 1; seq <= end; ++seq, it.Next()) {
    std::string_view t;
    uint64_t got = 0;
    if (!it.Valid() || it.damaged() || !store::ParseSeqKey(it.key(), &t, &got) ||
        t != tenant || got != seq || !store::DecodeSkeleton(it.value(), &sk)) {
      if (auto s = FromRocksDb(it.status(), "read skeletons"); !s.ok()) return s;
      return absl::DataLossError(absl::StrCat("the skeleton of ", ToAbsl(tenant), "/", seq,
                                              " (a leaf of the tree) is missing or malformed"));
    }
    out.push_back(store::LeafOf(sk));
  }
  return out;
}

absl::StatusOr<std::vector<chain::Digest>> Storage::GetTreeNodes(
    std::string_view tenant, const std::vector<chain::NodeId>& nodes) {
  std::vector<chain::Digest> out(nodes.size());
  std::vector<chain::NodeId> missing;
  std::vector<size_t> missing_at;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (auto h = node_cache_.Get(tenant, nodes[i])) {
      out[i] = *h;
    } else {
      missing.push_back(nodes[i]);
      missing_at.push_back(i);
    }
  }
  if (missing.empty()) return out;
  auto read = store::ResolveNodes(
      missing,
      [&](const std::vector<chain::NodeId>& rows) { return GetTreeRows(tenant, rows); },
      [&](uint64_t begin, uint64_t end) { return LeafHashes(tenant, begin, end); });
  if (!read.ok()) return read.status();
  for (size_t k = 0; k < missing.size(); ++k) {
    out[missing_at[k]] = (*read)[k];
    node_cache_.Put(tenant, missing[k], (*read)[k]);
  }
  return out;
}

absl::StatusOr<std::vector<chain::Digest>> Storage::GetTreeRows(
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
