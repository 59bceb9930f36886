#include "verifier/chain/tiles.h"

#include <map>

#include "gtest/gtest.h"

namespace indelible::chain {
namespace {

TEST(Tiles, SpanOfNode) {
  // Leaves: level 0 tiles, one entry each.
  TileSpan s = TileSpanOf({0, 300});
  EXPECT_EQ(s.tile, (TileId{0, 1}));
  EXPECT_EQ(s.first, 44u);
  EXPECT_EQ(s.count, 1u);
  // A level 5 node is 32 leaf hashes of one level 0 tile.
  s = TileSpanOf({5, 9});
  EXPECT_EQ(s.tile, (TileId{0, 1}));
  EXPECT_EQ(s.first, 32u);
  EXPECT_EQ(s.count, 32u);
  // Level 8 nodes are stored in level 1 tiles.
  s = TileSpanOf({8, 257});
  EXPECT_EQ(s.tile, (TileId{1, 1}));
  EXPECT_EQ(s.first, 1u);
  EXPECT_EQ(s.count, 1u);
  s = TileSpanOf({15, 1});
  EXPECT_EQ(s.tile, (TileId{1, 0}));
  EXPECT_EQ(s.first, 128u);
  EXPECT_EQ(s.count, 128u);
  EXPECT_TRUE(IsStoredNode({16, 3}));
  EXPECT_FALSE(IsStoredNode({9, 3}));
}

// The example of C2SP tlog-tiles: a tree of 70,000 leaves has 273 full
// level 0 tiles, a partial one of width 112, one full level 1 tile, a
// partial one of width 17 and a level 2 tile of width 1.
TEST(Tiles, WidthsOfSpecExample) {
  const uint64_t size = 70000;
  EXPECT_EQ(TileWidth({0, 0}, size), 256u);
  EXPECT_EQ(TileWidth({0, 272}, size), 256u);
  EXPECT_EQ(TileWidth({0, 273}, size), 112u);
  EXPECT_EQ(TileWidth({0, 274}, size), 0u);
  EXPECT_EQ(TileWidth({1, 0}, size), 256u);
  EXPECT_EQ(TileWidth({1, 1}, size), 17u);
  EXPECT_EQ(TileWidth({2, 0}, size), 1u);
  EXPECT_EQ(TileWidth({3, 0}, size), 0u);
  // "a tree of size 256 ... a full level 0 tile and a partial level 1 tile
  // of width 1".
  EXPECT_EQ(TileWidth({0, 0}, 256), 256u);
  EXPECT_EQ(TileWidth({1, 0}, 256), 1u);
  EXPECT_EQ(TileWidth({0, 1}, 256), 0u);
  EXPECT_EQ(TileWidth({8, 0}, UINT64_MAX), 0u);
  EXPECT_EQ(TileWidth({0, UINT64_MAX}, UINT64_MAX), 0u);
}

TEST(Tiles, Paths) {
  EXPECT_EQ(TilePath({0, 0}, 256), "tile/0/000");
  EXPECT_EQ(TilePath({0, 1234067}, 256), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({1, 1000}, 17), "tile/1/x001/000.p/17");
  EXPECT_EQ(TilePath({2, 5}, 0), "tile/2/005");
}

// Proofs built from tiles (only stored hashes: level 0, 8, 16) equal the
// proofs built from the leaves, and the plan names the tiles they read.
TEST(Tiles, ProofsFromTiles) {
  const uint64_t size = 70000;
  std::map<TileId, std::vector<Digest>> tiles;
  CompactRange range;
  for (uint64_t i = 0; i < size; ++i) {
    range.Append(Sha256("leaf", std::to_string(i)),
                 [&](NodeId id, const Digest& h) {
                   if (!IsStoredNode(id)) return;
                   TileSpan s = TileSpanOf(id);
                   auto& entries = tiles[s.tile];
                   ASSERT_EQ(entries.size(), s.first);  // appended in order
                   entries.push_back(h);
                 });
  }
  for (const auto& [id, entries] : tiles) {
    EXPECT_EQ(entries.size(), TileWidth(id, size));
  }
  std::map<TileId, int> reads;
  TileReader tile_reader =
      [&](TileId id) -> absl::StatusOr<std::vector<Digest>> {
    ++reads[id];
    auto it = tiles.find(id);
    if (it == tiles.end()) return absl::NotFoundError("no tile");
    return it->second;
  };
  NodeHashReader from_tiles = NodesFromTiles(tile_reader);
  auto rebuilt = CompactRange::FromNodes(size, from_tiles);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->Root(), range.Root());

  NodeHashReader from_leaves =
      NodesFromLeaves([](uint64_t i) -> absl::StatusOr<Digest> {
        return Sha256("leaf", std::to_string(i));
      });
  for (uint64_t index : {uint64_t{0}, uint64_t{255}, uint64_t{256},
                         uint64_t{65535}, uint64_t{65536}, uint64_t{69999}}) {
    reads.clear();
    const ProofPlan plan = InclusionPlan(index, size);
    // A fresh reader per proof: each tile the plan names is read once.
    auto proof = ResolvePlan(plan, NodesFromTiles(tile_reader));
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(VerifyInclusion(index, size,
                                Sha256("leaf", std::to_string(index)), *proof,
                                range.Root())
                    .ok())
        << index;
    std::vector<TileId> read;
    for (const auto& [id, n] : reads) {
      EXPECT_EQ(n, 1) << "tile read twice";
      read.push_back(id);
    }
    EXPECT_EQ(read, TilesOfPlan(plan));
  }
  auto consistency = ConsistencyProof(1000, size, from_tiles);
  ASSERT_TRUE(consistency.ok());
  CompactRange old_range;
  for (uint64_t i = 0; i < 1000; ++i)
    old_range.Append(Sha256("leaf", std::to_string(i)));
  EXPECT_TRUE(VerifyConsistency(1000, size, *consistency, old_range.Root(),
                                range.Root())
                  .ok());
  // Node 9/0 spans 512 leaves; from_leaves and tiles agree on it.
  EXPECT_EQ(*from_tiles({9, 3}), *from_leaves({9, 3}));
}

TEST(Tiles, ShortTileIsDataLoss) {
  NodeHashReader reader =
      NodesFromTiles([](TileId) -> absl::StatusOr<std::vector<Digest>> {
        return std::vector<Digest>(3);
      });
  EXPECT_EQ(reader({2, 0}).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(reader({1, 1}).ok());
  EXPECT_TRUE(reader({1, 0}).ok());
}

}  // namespace
}  // namespace indelible::chain
