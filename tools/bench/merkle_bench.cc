// The format v2 tree on the write and read paths (verifier/chain/merkle.h):
//
//   LeafAppend               one record's share of tree maintenance: its
//                            leaf hash and a compact-range append, with the
//                            visitor that hands completed nodes to storage
//   CompactRangeRoot/N       the root of a tree of N leaves from its frontier
//                            (a checkpoint's cost)
//   InclusionProof/N         an inclusion proof in a tree of N leaves from
//                            stored tile hashes held in memory (the serving
//                            cost without storage reads)
//   VerifyInclusion/N        checking that proof (a client's cost)
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/tiles.h"

namespace indelible {
namespace {

void BM_LeafAppend(benchmark::State& state) {
  chain::CompactRange range;
  chain::Digest entry = chain::Sha256("entry");
  uint64_t stored = 0;
  const chain::CompactRange::Visitor visit = [&stored](chain::NodeId id,
                                                       const chain::Digest&) {
    if (chain::IsStoredNode(id)) ++stored;
  };
  for (auto _ : state) {
    range.Append(chain::LeafHash(entry, "access"), visit);
    entry[0] ^= static_cast<uint8_t>(range.size());
  }
  benchmark::DoNotOptimize(stored);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LeafAppend);

chain::CompactRange RangeOf(uint64_t n) {
  chain::CompactRange range;
  for (uint64_t i = 0; i < n; ++i)
    range.Append(chain::Sha256("leaf", std::to_string(i)));
  return range;
}

void BM_CompactRangeRoot(benchmark::State& state) {
  const chain::CompactRange range =
      RangeOf(static_cast<uint64_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(range.Root());
}
BENCHMARK(BM_CompactRangeRoot)->Arg((1 << 20) - 1);

// A tree's stored hashes in the tile layout, as the daemon keeps them.
struct TiledTree {
  explicit TiledTree(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      range.Append(chain::Sha256("leaf", std::to_string(i)),
                   [this](chain::NodeId id, const chain::Digest& h) {
                     if (chain::IsStoredNode(id))
                       tiles[chain::TileSpanOf(id).tile].push_back(h);
                   });
    }
  }
  chain::NodeHashReader Reader() const {
    return chain::NodesFromTiles(
        [this](chain::TileId id) -> absl::StatusOr<std::vector<chain::Digest>> {
          return tiles.at(id);
        });
  }
  chain::CompactRange range;
  std::map<chain::TileId, std::vector<chain::Digest>> tiles;
};

const TiledTree& Tree(uint64_t n) {
  static std::map<uint64_t, TiledTree*> trees;
  auto& t = trees[n];
  if (t == nullptr) t = new TiledTree(n);
  return *t;
}

void BM_InclusionProof(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const TiledTree& tree = Tree(n);
  uint64_t index = 12345 % n;
  for (auto _ : state) {
    auto proof = chain::InclusionProof(index, n, tree.Reader());
    if (!proof.ok()) state.SkipWithError("proof failed");
    benchmark::DoNotOptimize(proof);
    index = (index + 7919) % n;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProof)->Arg(1000)->Arg(1 << 20);

void BM_VerifyInclusion(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const TiledTree& tree = Tree(n);
  const uint64_t index = n / 3;
  const auto proof = chain::InclusionProof(index, n, tree.Reader());
  const chain::Digest root = tree.range.Root();
  const chain::Digest leaf = chain::Sha256("leaf", std::to_string(index));
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        chain::VerifyInclusion(index, n, leaf, *proof, root));
  }
}
BENCHMARK(BM_VerifyInclusion)->Arg(1 << 20);

}  // namespace
}  // namespace indelible
