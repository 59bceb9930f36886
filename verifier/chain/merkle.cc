#include "verifier/chain/merkle.h"

#include <bit>
#include <cstring>
#include <utility>

#include "verifier/chain/coding.h"

namespace indelible::chain {
namespace {

// A range of leaves [begin, end) whose Merkle tree hash is a proof element.
struct Range {
  uint64_t begin;
  uint64_t end;
};

// The largest power of two smaller than n. REQUIRES: n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// RFC 9162 2.1.3.1, PATH(m, D[begin : begin + n]), deepest element first.
void InclusionRanges(uint64_t m, uint64_t begin, uint64_t n,
                     std::vector<Range>* out) {
  if (n <= 1) return;
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    InclusionRanges(m, begin, k, out);
    out->push_back({begin + k, begin + n});
  } else {
    InclusionRanges(m - k, begin + k, n - k, out);
    out->push_back({begin, begin + k});
  }
}

// RFC 9162 2.1.4.1, SUBPROOF(m, D[begin : begin + n], b).
void ConsistencyRanges(uint64_t m, uint64_t begin, uint64_t n, bool b,
                       std::vector<Range>* out) {
  if (m == n) {
    if (!b) out->push_back({begin, begin + n});
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    ConsistencyRanges(m, begin, k, b, out);
    out->push_back({begin + k, begin + n});
  } else {
    ConsistencyRanges(m - k, begin + k, n - k, false, out);
    out->push_back({begin, begin + k});
  }
}

ProofPlan PlanOf(const std::vector<Range>& ranges) {
  ProofPlan plan;
  plan.elements.reserve(ranges.size());
  for (const Range& r : ranges)
    plan.elements.push_back(RangeNodes(r.begin, r.end));
  return plan;
}

void ShiftBoth(uint64_t* a, uint64_t* b) {
  *a >>= 1;
  *b >>= 1;
}

}  // namespace

std::string LeafData(const Digest& entry_hash, std::string_view category) {
  std::string buf;
  buf.reserve(kLeafTag.size() + kDigestSize + 4 + category.size());
  buf.append(kLeafTag);
  buf.append(AsBytes(entry_hash));
  PutStr(&buf, category);
  return buf;
}

Digest HashLeafData(std::string_view leaf_data) {
  return Sha256(std::string_view("\0", 1), leaf_data);
}

Digest LeafHash(const Digest& entry_hash, std::string_view category) {
  // 0x00 || tag || entry_hash || u32(len): a fixed 55-byte prefix.
  constexpr size_t kPrefix = 1 + kLeafTag.size() + kDigestSize + 4;
  char prefix[kPrefix];
  prefix[0] = 0x00;
  std::memcpy(prefix + 1, kLeafTag.data(), kLeafTag.size());
  std::memcpy(prefix + 1 + kLeafTag.size(), entry_hash.data(), kDigestSize);
  const auto len = static_cast<uint32_t>(category.size());
  char* p = prefix + 1 + kLeafTag.size() + kDigestSize;
  p[0] = static_cast<char>(len >> 24);
  p[1] = static_cast<char>(len >> 16);
  p[2] = static_cast<char>(len >> 8);
  p[3] = static_cast<char>(len);
  return Sha256(std::string_view(prefix, kPrefix), category);
}

Digest HashChildren(const Digest& left, const Digest& right) {
  char buf[1 + 2 * kDigestSize];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), kDigestSize);
  std::memcpy(buf + 1 + kDigestSize, right.data(), kDigestSize);
  return Sha256(std::string_view(buf, sizeof(buf)));
}

Digest EmptyRoot() { return Sha256(""); }

Digest MerkleRoot(const Digest* leaf_hashes, size_t n) {
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaf_hashes[0];
  const uint64_t k = SplitPoint(n);
  return HashChildren(MerkleRoot(leaf_hashes, k),
                      MerkleRoot(leaf_hashes + k, n - k));
}

NodeHashReader NodesFromLeaves(LeafHashReader leaves) {
  return [leaves = std::move(leaves)](NodeId node) -> absl::StatusOr<Digest> {
    std::vector<Digest> hashes;
    hashes.reserve(node.end() - node.begin());
    for (uint64_t i = node.begin(); i < node.end(); ++i) {
      absl::StatusOr<Digest> h = leaves(i);
      if (!h.ok()) return h.status();
      hashes.push_back(*h);
    }
    return MerkleRoot(hashes);
  };
}

std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end) {
  std::vector<NodeId> nodes;
  while (begin < end) {
    const uint64_t width = std::bit_floor(end - begin);
    const int level = std::countr_zero(width);
    nodes.push_back({level, begin >> level});
    begin += width;
  }
  return nodes;
}

Digest FoldRange(const std::vector<Digest>& hashes) {
  Digest h = hashes.back();
  for (size_t i = hashes.size() - 1; i-- > 0;) h = HashChildren(hashes[i], h);
  return h;
}

ProofPlan InclusionPlan(uint64_t index, uint64_t size) {
  std::vector<Range> ranges;
  InclusionRanges(index, 0, size, &ranges);
  return PlanOf(ranges);
}

ProofPlan ConsistencyPlan(uint64_t old_size, uint64_t new_size) {
  std::vector<Range> ranges;
  if (old_size > 0 && old_size < new_size) {
    ConsistencyRanges(old_size, 0, new_size, true, &ranges);
  }
  return PlanOf(ranges);
}

absl::StatusOr<std::vector<Digest>> ResolvePlan(const ProofPlan& plan,
                                                const NodeHashReader& nodes) {
  std::vector<Digest> proof;
  proof.reserve(plan.elements.size());
  std::vector<Digest> parts;
  for (const std::vector<NodeId>& element : plan.elements) {
    parts.clear();
    for (NodeId id : element) {
      absl::StatusOr<Digest> h = nodes(id);
      if (!h.ok()) return h.status();
      parts.push_back(*h);
    }
    proof.push_back(FoldRange(parts));
  }
  return proof;
}

absl::StatusOr<std::vector<Digest>> InclusionProof(
    uint64_t index, uint64_t size, const NodeHashReader& nodes) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        "inclusion proof: leaf index must be below the tree size");
  }
  return ResolvePlan(InclusionPlan(index, size), nodes);
}

absl::StatusOr<std::vector<Digest>> ConsistencyProof(
    uint64_t old_size, uint64_t new_size, const NodeHashReader& nodes) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        "consistency proof: old size must not exceed new size");
  }
  return ResolvePlan(ConsistencyPlan(old_size, new_size), nodes);
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Digest& leaf_hash,
                             const std::vector<Digest>& proof,
                             const Digest& root) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        "inclusion proof: leaf index must be below the tree size");
  }
  // RFC 9162 2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : proof) {
    if (sn == 0) return absl::DataLossError("inclusion proof: too long");
    if ((fn & 1) != 0 || fn == sn) {
      r = HashChildren(p, r);
      while ((fn & 1) == 0 && fn != 0) ShiftBoth(&fn, &sn);
    } else {
      r = HashChildren(r, p);
    }
    ShiftBoth(&fn, &sn);
  }
  if (sn != 0) return absl::DataLossError("inclusion proof: too short");
  if (r != root) {
    return absl::DataLossError("inclusion proof: root does not match");
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const std::vector<Digest>& proof,
                               const Digest& old_root, const Digest& new_root) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        "consistency proof: old size must not exceed new size");
  }
  if (old_size == new_size || old_size == 0) {
    if (!proof.empty()) {
      return absl::DataLossError("consistency proof: must be empty");
    }
    if (old_size == 0 ? old_root != EmptyRoot() : old_root != new_root) {
      return absl::DataLossError("consistency proof: roots do not match");
    }
    return absl::OkStatus();
  }
  if (proof.empty()) return absl::DataLossError("consistency proof: empty");
  // RFC 9162 2.1.4.2: a power-of-two old tree is itself the first element.
  const bool prepend = std::has_single_bit(old_size);
  auto path_at = [&](size_t i) -> const Digest& {
    if (prepend) return i == 0 ? old_root : proof[i - 1];
    return proof[i];
  };
  const size_t path_size = proof.size() + (prepend ? 1 : 0);
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) ShiftBoth(&fn, &sn);
  Digest fr = path_at(0);
  Digest sr = fr;
  for (size_t i = 1; i < path_size; ++i) {
    const Digest& c = path_at(i);
    if (sn == 0) return absl::DataLossError("consistency proof: too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      while ((fn & 1) == 0 && fn != 0) ShiftBoth(&fn, &sn);
    } else {
      sr = HashChildren(sr, c);
    }
    ShiftBoth(&fn, &sn);
  }
  if (sn != 0) return absl::DataLossError("consistency proof: too short");
  if (fr != old_root) {
    return absl::DataLossError("consistency proof: old root does not match");
  }
  if (sr != new_root) {
    return absl::DataLossError("consistency proof: new root does not match");
  }
  return absl::OkStatus();
}

std::vector<NodeId> CompactRange::Frontier(uint64_t size) {
  std::vector<NodeId> nodes;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    nodes.push_back({level, begin >> level});
    begin += uint64_t{1} << level;
  }
  return nodes;
}

absl::StatusOr<CompactRange> CompactRange::FromHashes(
    uint64_t size, std::vector<Digest> hashes) {
  if (hashes.size() != static_cast<size_t>(std::popcount(size))) {
    return absl::InvalidArgumentError(
        "compact range: want one hash per set bit of the size");
  }
  return CompactRange(size, std::move(hashes));
}

absl::StatusOr<CompactRange> CompactRange::FromNodes(
    uint64_t size, const NodeHashReader& nodes) {
  std::vector<Digest> hashes;
  for (NodeId id : Frontier(size)) {
    absl::StatusOr<Digest> h = nodes(id);
    if (!h.ok()) return h.status();
    hashes.push_back(*h);
  }
  return CompactRange(size, std::move(hashes));
}

void CompactRange::Append(const Digest& leaf_hash) {
  hashes_.push_back(leaf_hash);
  // Each trailing one bit of the old size is a subtree the new leaf closes.
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    Digest h = HashChildren(hashes_[hashes_.size() - 2], hashes_.back());
    hashes_.pop_back();
    hashes_.back() = h;
  }
  ++size_;
}

void CompactRange::Append(const Digest& leaf_hash, const Visitor& visit) {
  visit(NodeId{0, size_}, leaf_hash);
  hashes_.push_back(leaf_hash);
  int level = 0;
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    Digest h = HashChildren(hashes_[hashes_.size() - 2], hashes_.back());
    hashes_.pop_back();
    hashes_.back() = h;
    ++level;
    visit(NodeId{level, size_ >> level}, h);
  }
  ++size_;
}

Digest CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  return FoldRange(hashes_);
}

}  // namespace indelible::chain
