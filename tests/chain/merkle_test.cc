// The Merkle tree beyond the golden vectors: proofs that must fail, and for
// many tree sizes every inclusion and consistency proof verifying and the
// compact range agreeing with the recursive definition.
#include "verifier/chain/merkle.h"

#include <map>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace indelible::chain {
namespace {

std::vector<Digest> MakeLeaves(size_t n) {
  std::vector<Digest> leaves;
  for (size_t i = 0; i < n; ++i) {
    leaves.push_back(LeafHash(Sha256("entry", std::to_string(i)),
                              i % 3 == 0 ? "trace" : "access"));
  }
  return leaves;
}

// Every perfect subtree of the leaves, computed bottom up.
class NodeStore {
 public:
  explicit NodeStore(const std::vector<Digest>& leaves) {
    CompactRange range;
    for (const Digest& leaf : leaves) {
      range.Append(leaf, [this](NodeId id, const Digest& h) {
        EXPECT_TRUE(nodes_.emplace(Key(id), h).second) << "node visited twice";
      });
    }
  }
  NodeHashReader Reader() const {
    return [this](NodeId id) -> absl::StatusOr<Digest> {
      auto it = nodes_.find(Key(id));
      if (it == nodes_.end()) return absl::NotFoundError("no such node");
      return it->second;
    };
  }
  size_t size() const { return nodes_.size(); }

 private:
  static std::pair<int, uint64_t> Key(NodeId id) {
    return {id.level, id.index};
  }
  std::map<std::pair<int, uint64_t>, Digest> nodes_;
};

LeafHashReader LeafReader(const std::vector<Digest>& leaves) {
  return [&leaves](uint64_t i) -> absl::StatusOr<Digest> {
    if (i >= leaves.size()) return absl::OutOfRangeError("leaf");
    return leaves[i];
  };
}

std::vector<Digest> Flip(std::vector<Digest> proof, size_t element,
                         size_t byte) {
  proof[element][byte] ^= 0x01;
  return proof;
}

TEST(Merkle, HashesAreDomainSeparated) {
  const Digest a = Sha256("a"), b = Sha256("b");
  // A node is not the leaf of its children's concatenation.
  std::string ab(AsBytes(a));
  ab.append(AsBytes(b));
  EXPECT_NE(HashChildren(a, b), HashLeafData(ab));
  EXPECT_NE(HashChildren(a, b), HashChildren(b, a));
  EXPECT_EQ(MerkleRoot(nullptr, 0), EmptyRoot());
  // The category is committed: same entry hash, other category, other leaf.
  EXPECT_NE(LeafHash(a, "access"), LeafHash(a, "trace"));
  EXPECT_NE(LeafHash(a, "ab"), LeafHash(a, "a"));
}

TEST(Merkle, RangeNodesAndFrontier) {
  EXPECT_EQ(RangeNodes(8, 13), (std::vector<NodeId>{{2, 2}, {0, 12}}));
  EXPECT_EQ(RangeNodes(0, 1), (std::vector<NodeId>{{0, 0}}));
  EXPECT_EQ(CompactRange::Frontier(13),
            (std::vector<NodeId>{{3, 0}, {2, 2}, {0, 12}}));
  EXPECT_TRUE(CompactRange::Frontier(0).empty());
  EXPECT_EQ(CompactRange::Frontier(256), (std::vector<NodeId>{{8, 0}}));
}

TEST(Merkle, CompactRangeVisitsEveryNodeOnce) {
  const std::vector<Digest> leaves = MakeLeaves(37);
  NodeStore store(leaves);
  // 37 leaves have 37 + 18 + 9 + 4 + 2 + 1 perfect subtrees.
  EXPECT_EQ(store.size(), 37u + 18 + 9 + 4 + 2 + 1);
  auto reader = store.Reader();
  auto from_leaves = NodesFromLeaves(LeafReader(leaves));
  for (int level = 0; level <= 5; ++level) {
    for (uint64_t i = 0; ((i + 1) << level) <= 37; ++i) {
      auto stored = reader({level, i});
      ASSERT_TRUE(stored.ok()) << level << "/" << i;
      EXPECT_EQ(*stored, *from_leaves({level, i}));
    }
  }
}

TEST(Merkle, CompactRangeFromHashesChecksCount) {
  EXPECT_FALSE(CompactRange::FromHashes(13, {Sha256("a")}).ok());
  EXPECT_TRUE(CompactRange::FromHashes(0, {}).ok());
  const std::vector<Digest> leaves = MakeLeaves(13);
  CompactRange full;
  for (const Digest& l : leaves) full.Append(l);
  auto copy = CompactRange::FromHashes(13, full.hashes());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->Root(), MerkleRoot(leaves));
  // Appending to a rebuilt range continues the same tree.
  copy->Append(Sha256("next"));
  full.Append(Sha256("next"));
  EXPECT_EQ(copy->Root(), full.Root());
}

TEST(Merkle, ReaderErrorsPassThrough) {
  auto failing = [](NodeId) -> absl::StatusOr<Digest> {
    return absl::UnavailableError("disk");
  };
  EXPECT_EQ(InclusionProof(3, 13, failing).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ConsistencyProof(3, 13, failing).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CompactRange::FromNodes(13, failing).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(InclusionProof(13, 13, failing).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(14, 13, failing).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Every way of damaging a valid inclusion proof fails.
void ExpectInclusionTamperFails(const std::vector<Digest>& leaves,
                                const NodeHashReader& nodes, uint64_t index,
                                uint64_t size) {
  SCOPED_TRACE(testing::Message() << "inclusion " << index << "/" << size);
  auto root = [&](uint64_t n) { return MerkleRoot(leaves.data(), n); };
  auto proof = InclusionProof(index, size, nodes);
  ASSERT_TRUE(proof.ok());
  const Digest leaf = leaves[index];
  ASSERT_TRUE(VerifyInclusion(index, size, leaf, *proof, root(size)).ok());
  for (size_t e = 0; e < proof->size(); ++e) {
    for (size_t byte : {size_t{0}, size_t{31}}) {
      EXPECT_FALSE(
          VerifyInclusion(index, size, leaf, Flip(*proof, e, byte), root(size))
              .ok())
          << e;
    }
  }
  Digest bad_leaf = leaf;
  bad_leaf[5] ^= 0x80;
  EXPECT_FALSE(VerifyInclusion(index, size, bad_leaf, *proof, root(size)).ok());
  Digest bad_root = root(size);
  bad_root[31] ^= 0x01;
  EXPECT_FALSE(VerifyInclusion(index, size, leaf, *proof, bad_root).ok());
  // Another size, checked against that size's root.
  for (uint64_t other : {size - 1, size + 1}) {
    if (other <= index || other > leaves.size()) continue;
    EXPECT_FALSE(VerifyInclusion(index, other, leaf, *proof, root(other)).ok())
        << "size " << other;
  }
  // Another position, with the leaf that is there or the same leaf.
  for (uint64_t other : {index - 1, index + 1}) {
    if (other >= size) continue;  // also skips index - 1 wrapping around
    EXPECT_FALSE(
        VerifyInclusion(other, size, leaves[other], *proof, root(size)).ok())
        << "index " << other;
    EXPECT_FALSE(VerifyInclusion(other, size, leaf, *proof, root(size)).ok())
        << "index " << other;
  }
  EXPECT_EQ(VerifyInclusion(size, size, leaf, *proof, root(size)).code(),
            absl::StatusCode::kInvalidArgument);
  if (!proof->empty()) {
    std::vector<Digest> truncated(proof->begin(), proof->end() - 1);
    EXPECT_FALSE(
        VerifyInclusion(index, size, leaf, truncated, root(size)).ok());
  }
  std::vector<Digest> extended = *proof;
  extended.push_back(Sha256("extra"));
  EXPECT_FALSE(VerifyInclusion(index, size, leaf, extended, root(size)).ok());
}

void ExpectConsistencyTamperFails(const std::vector<Digest>& leaves,
                                  const NodeHashReader& nodes,
                                  uint64_t old_size, uint64_t new_size) {
  SCOPED_TRACE(testing::Message()
               << "consistency " << old_size << "->" << new_size);
  auto root = [&](uint64_t n) { return MerkleRoot(leaves.data(), n); };
  auto proof = ConsistencyProof(old_size, new_size, nodes);
  ASSERT_TRUE(proof.ok());
  ASSERT_TRUE(VerifyConsistency(old_size, new_size, *proof, root(old_size),
                                root(new_size))
                  .ok());
  for (size_t e = 0; e < proof->size(); ++e) {
    EXPECT_FALSE(VerifyConsistency(old_size, new_size, Flip(*proof, e, 7),
                                   root(old_size), root(new_size))
                     .ok())
        << e;
  }
  Digest bad = root(old_size);
  bad[0] ^= 1;
  EXPECT_FALSE(
      VerifyConsistency(old_size, new_size, *proof, bad, root(new_size)).ok());
  bad = root(new_size);
  bad[0] ^= 1;
  EXPECT_FALSE(
      VerifyConsistency(old_size, new_size, *proof, root(old_size), bad).ok());
  // Other sizes, each checked against its own root.
  for (uint64_t other : {old_size - 1, old_size + 1}) {
    if (other == 0 || other > new_size || other == old_size) continue;
    EXPECT_FALSE(
        VerifyConsistency(other, new_size, *proof, root(other), root(new_size))
            .ok())
        << "old " << other;
  }
  for (uint64_t other : {new_size - 1, new_size + 1}) {
    if (other < old_size || other > leaves.size() || other == new_size)
      continue;
    EXPECT_FALSE(
        VerifyConsistency(old_size, other, *proof, root(old_size), root(other))
            .ok())
        << "new " << other;
  }
  if (!proof->empty()) {
    std::vector<Digest> truncated(proof->begin(), proof->end() - 1);
    EXPECT_FALSE(VerifyConsistency(old_size, new_size, truncated,
                                   root(old_size), root(new_size))
                     .ok());
  }
  std::vector<Digest> extended = *proof;
  extended.push_back(Sha256("extra"));
  EXPECT_FALSE(VerifyConsistency(old_size, new_size, extended, root(old_size),
                                 root(new_size))
                   .ok());
  EXPECT_EQ(VerifyConsistency(new_size + 1, new_size, *proof, root(old_size),
                              root(new_size))
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Merkle, TamperedProofsFail) {
  const std::vector<Digest> leaves = MakeLeaves(40);
  NodeStore store(leaves);
  for (uint64_t size = 1; size <= 33; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      ExpectInclusionTamperFails(leaves, store.Reader(), index, size);
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      ExpectConsistencyTamperFails(leaves, store.Reader(), old_size, size);
    }
  }
}

TEST(Merkle, EmptyOldTree) {
  const std::vector<Digest> leaves = MakeLeaves(5);
  NodeStore store(leaves);
  auto proof = ConsistencyProof(0, 5, store.Reader());
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(proof->empty());
  EXPECT_TRUE(
      VerifyConsistency(0, 5, {}, EmptyRoot(), MerkleRoot(leaves)).ok());
  EXPECT_FALSE(
      VerifyConsistency(0, 5, {}, Sha256("x"), MerkleRoot(leaves)).ok());
  EXPECT_FALSE(
      VerifyConsistency(0, 5, {leaves[0]}, EmptyRoot(), MerkleRoot(leaves))
          .ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, {}, EmptyRoot(), EmptyRoot()).ok());
}

// For random sizes up to 300 (and the tile edges): every inclusion and
// consistency proof generated verifies, from stored nodes and from leaves
// alike, and the compact range root is the recursive root at every size.
TEST(Merkle, PropertyAllProofsVerify) {
  const std::vector<Digest> leaves = MakeLeaves(300);
  NodeStore store(leaves);
  const NodeHashReader nodes = store.Reader();
  const NodeHashReader from_leaves = NodesFromLeaves(LeafReader(leaves));

  CompactRange range;
  std::vector<Digest> roots = {EmptyRoot()};
  for (const Digest& leaf : leaves) {
    range.Append(leaf);
    roots.push_back(range.Root());
    ASSERT_EQ(roots.back(), MerkleRoot(leaves.data(), range.size()));
    auto rebuilt = CompactRange::FromNodes(range.size(), nodes);
    ASSERT_TRUE(rebuilt.ok());
    ASSERT_EQ(*rebuilt, range);
  }

  std::mt19937_64 rng(20261204);
  std::set<uint64_t> sizes = {1, 2, 3, 4, 255, 256, 257, 300};
  while (sizes.size() < 24) sizes.insert(1 + rng() % 300);
  for (uint64_t size : sizes) {
    SCOPED_TRACE(size);
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = InclusionProof(index, size, nodes);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(
          VerifyInclusion(index, size, leaves[index], *proof, roots[size]).ok())
          << index;
      if (index % 17 == 0) {
        auto slow = InclusionProof(index, size, from_leaves);
        ASSERT_TRUE(slow.ok());
        EXPECT_EQ(*slow, *proof);
      }
    }
    for (uint64_t old_size = 0; old_size <= size; ++old_size) {
      auto proof = ConsistencyProof(old_size, size, nodes);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(old_size, size, *proof, roots[old_size],
                                    roots[size])
                      .ok())
          << old_size;
    }
  }
}

}  // namespace
}  // namespace indelible::chain
