// Where node hashes live in the tile layout of C2SP tlog-tiles: a tile at
// tile level L, index N holds up to 256 consecutive node hashes of tree level
// 8L, entry i being the perfect subtree NodeId{8L, 256N + i}. Level 0 tiles
// hold leaf hashes. A node at a level between two tile levels is not stored:
// it is the Merkle tree hash of 2^(level mod 8) consecutive entries of one
// tile. A tile is partial (fewer than 256 entries) while the tree is too
// small to fill it; entries are only ever appended.
//
// Thread-safe: pure functions. A reader made by NodesFromTiles caches the
// tiles it read and is not thread-safe.
#ifndef INDELIBLE_VERIFIER_CHAIN_TILES_H_
#define INDELIBLE_VERIFIER_CHAIN_TILES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"

namespace indelible::chain {

inline constexpr int kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 256;
static_assert(kTileWidth == 1u << kTileHeight);

struct TileId {
  int level = 0;  // tile level: holds nodes of tree level kTileHeight * level
  uint64_t index = 0;

  bool operator==(const TileId&) const = default;
  auto operator<=>(const TileId&) const = default;
};

// The entries [first, first + count) of `tile` whose Merkle tree hash is a
// node's hash (count == 1 for a stored node).
struct TileSpan {
  TileId tile;
  uint32_t first = 0;
  uint32_t count = 0;
};

// True for the nodes the tile layout stores (level a multiple of 8).
inline bool IsStoredNode(NodeId node) { return node.level % kTileHeight == 0; }

TileSpan TileSpanOf(NodeId node);

// The number of entries tile `tile` has in a tree of `tree_size` leaves:
// 256 for a full tile, 1..255 for a partial one, 0 if it does not exist yet.
uint32_t TileWidth(TileId tile, uint64_t tree_size);

// "tile/<L>/<N>" with N in 3-digit groups, all but the last prefixed with
// 'x' (1234067 -> x001/x234/067), and ".p/<W>" when 0 < width < 256.
std::string TilePath(TileId tile, uint32_t width);

// The tiles a proof plan reads, each once, in order.
std::vector<TileId> TilesOfPlan(const ProofPlan& plan);

// Returns a tile's entries in order (at least as many as any node asked of
// it needs; more are ignored), or an error passed through unchanged.
using TileReader = std::function<absl::StatusOr<std::vector<Digest>>(TileId)>;

// A node reader over tiles: each node hash is folded from its span, each
// tile read once. DataLoss if a tile has fewer entries than a node needs.
NodeHashReader NodesFromTiles(TileReader tiles);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_TILES_H_
