#include "verifier/chain/tiles.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace indelible::chain {

TileSpan TileSpanOf(NodeId node) {
  const int tile_level = node.level / kTileHeight;
  const int below = node.level % kTileHeight;  // levels inside the tile
  // The node covers 2^below entries of tree level kTileHeight * tile_level.
  const uint64_t first_entry = node.index << below;
  TileSpan span;
  span.tile = TileId{tile_level, first_entry / kTileWidth};
  span.first = static_cast<uint32_t>(first_entry % kTileWidth);
  span.count = uint32_t{1} << below;
  return span;
}

uint32_t TileWidth(TileId tile, uint64_t tree_size) {
  if (tile.level * kTileHeight >= 64) return 0;
  // Complete nodes of tree level kTileHeight * tile.level.
  const uint64_t nodes = tree_size >> (kTileHeight * tile.level);
  const uint64_t first = tile.index * kTileWidth;
  if (tile.index > UINT64_MAX / kTileWidth || nodes <= first) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(kTileWidth, nodes - first));
}

std::string TilePath(TileId tile, uint32_t width) {
  std::string n = absl::StrFormat("%03d", tile.index % 1000);
  for (uint64_t rest = tile.index / 1000; rest > 0; rest /= 1000) {
    n = absl::StrCat(absl::StrFormat("x%03d/", rest % 1000), n);
  }
  std::string path = absl::StrCat("tile/", tile.level, "/", n);
  if (width > 0 && width < kTileWidth) absl::StrAppend(&path, ".p/", width);
  return path;
}

std::vector<TileId> TilesOfPlan(const ProofPlan& plan) {
  std::vector<TileId> tiles;
  for (const auto& element : plan.elements) {
    for (NodeId id : element) tiles.push_back(TileSpanOf(id).tile);
  }
  std::sort(tiles.begin(), tiles.end());
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  return tiles;
}

NodeHashReader NodesFromTiles(TileReader tiles) {
  auto cache = std::make_shared<std::map<TileId, std::vector<Digest>>>();
  return
      [tiles = std::move(tiles), cache](NodeId node) -> absl::StatusOr<Digest> {
        const TileSpan span = TileSpanOf(node);
        auto it = cache->find(span.tile);
        if (it == cache->end()) {
          absl::StatusOr<std::vector<Digest>> entries = tiles(span.tile);
          if (!entries.ok()) return entries.status();
          it = cache->emplace(span.tile, *std::move(entries)).first;
        }
        const std::vector<Digest>& entries = it->second;
        if (entries.size() < size_t{span.first} + span.count) {
          return absl::DataLossError(absl::StrCat(
              "tile ", TilePath(span.tile, 0), " has ", entries.size(),
              " hashes, a node needs ", span.first + span.count));
        }
        return MerkleRoot(entries.data() + span.first, span.count);
      };
}

}  // namespace indelible::chain
