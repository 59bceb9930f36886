#include "verifier/store/tree_nodes.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace indelible::store {

absl::StatusOr<std::vector<chain::Digest>> ResolveNodes(const std::vector<chain::NodeId>& nodes,
                                                        const StoredNodeReader& stored,
                                                        const LeafRangeReader& leaves) {
  std::vector<chain::Digest> out(nodes.size());
  std::vector<chain::NodeId> rows;
  // Leaf runs [begin, end) covering the unstored nodes, merged when they
  // touch, so an inclusion proof reads its block of leaves once.
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  for (const chain::NodeId& n : nodes) {
    if (IsStoredNode(n)) {
      rows.push_back(n);
    } else {
      runs.emplace_back(n.begin(), n.end());
    }
  }
  std::sort(runs.begin(), runs.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& r : runs) {
    if (!merged.empty() && r.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  std::vector<std::vector<chain::Digest>> leaf_hashes;
  for (const auto& [begin, end] : merged) {
    auto hashes = leaves(begin, end);
    if (!hashes.ok()) return hashes.status();
    leaf_hashes.push_back(*std::move(hashes));
  }
  absl::StatusOr<std::vector<chain::Digest>> row_hashes;
  if (!rows.empty()) {
    row_hashes = stored(rows);
    if (!row_hashes.ok()) return row_hashes.status();
  }
  size_t next_row = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const chain::NodeId& n = nodes[i];
    if (IsStoredNode(n)) {
      out[i] = (*row_hashes)[next_row++];
      continue;
    }
    // The run that holds the node's leaves.
    size_t run = 0;
    while (merged[run].second < n.end()) ++run;
    out[i] = chain::MerkleRoot(leaf_hashes[run].data() + (n.begin() - merged[run].first),
                               n.end() - n.begin());
  }
  return out;
}

TreeLayout TreeLayoutOf(const Reader& reader) {
  auto marker = reader.Get("default", kTreeMarkerKey);
  if (!marker.ok() || !marker->has_value()) return TreeLayout::kNone;
  if (**marker == kTreeMarkerValue) return TreeLayout::kCurrent;
  if (**marker == kTreeMarkerV1) return TreeLayout::kV1;
  return TreeLayout::kNone;
}

namespace {

absl::StatusOr<chain::Digest> ReadTreeRow(const Reader& reader, std::string_view tenant,
                                          const chain::NodeId& n, std::string* category) {
  auto v = reader.Get(kTreeCf, TreeKey(tenant, n.level, n.index));
  if (!v.ok()) return v.status();
  chain::Digest hash;
  std::string_view kept;
  if (!v->has_value() || !DecodeTreeRow(n.level, **v, &hash, &kept)) {
    return absl::DataLossError(
        absl::StrCat("no tree row at level ", n.level, " index ", n.index));
  }
  if (category != nullptr) category->assign(kept);
  return hash;
}

absl::StatusOr<Skeleton> ReadSkeleton(const Reader& reader, std::string_view tenant,
                                      uint64_t seq) {
  auto v = reader.GetSkeleton(tenant, seq);
  if (!v.ok()) return v.status();
  Skeleton sk;
  if (!v->has_value() || !DecodeSkeleton(**v, &sk)) {
    return absl::DataLossError(absl::StrCat("no skeleton for seq ", seq));
  }
  return sk;
}

}  // namespace

absl::StatusOr<std::vector<chain::Digest>> ReadTreeNodes(const Reader& reader, TreeLayout layout,
                                                         std::string_view tenant,
                                                         const std::vector<chain::NodeId>& nodes) {
  auto stored = [&](const std::vector<chain::NodeId>& rows)
      -> absl::StatusOr<std::vector<chain::Digest>> {
    std::vector<chain::Digest> out;
    for (const chain::NodeId& n : rows) {
      auto h = ReadTreeRow(reader, tenant, n, nullptr);
      if (!h.ok()) return h.status();
      out.push_back(*h);
    }
    return out;
  };
  auto leaves = [&](uint64_t begin, uint64_t end) -> absl::StatusOr<std::vector<chain::Digest>> {
    std::vector<chain::Digest> out;
    for (uint64_t i = begin; i < end; ++i) {
      if (layout == TreeLayout::kV1) {
        auto h = ReadTreeRow(reader, tenant, chain::NodeId{0, i}, nullptr);
        if (!h.ok()) return h.status();
        out.push_back(*h);
      } else {
        auto sk = ReadSkeleton(reader, tenant, i + 1);
        if (!sk.ok()) return sk.status();
        out.push_back(LeafOf(*sk));
      }
    }
    return out;
  };
  return ResolveNodes(nodes, stored, leaves);
}

absl::StatusOr<std::string> ReadLeafCategory(const Reader& reader, TreeLayout layout,
                                             std::string_view tenant, uint64_t seq) {
  if (layout == TreeLayout::kV1) {
    std::string category;
    auto h = ReadTreeRow(reader, tenant, chain::NodeId{0, seq - 1}, &category);
    if (!h.ok()) return h.status();
    return category;
  }
  auto sk = ReadSkeleton(reader, tenant, seq);
  if (!sk.ok()) return sk.status();
  return sk->category;
}

}  // namespace indelible::store
