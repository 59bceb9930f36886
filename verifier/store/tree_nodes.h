// Node hashes of a tenant's Merkle tree in the layout of layout.h ("tree"):
// nodes at kLowestStoredLevel and above are rows; a node below is hashed
// from the leaves it covers (at most 8 of them),
// each leaf from its record's skeleton. Used by the daemon's proofs and
// frontiers and by the verifier's report proofs, so both read the tree the
// same way.
#ifndef INDELIBLE_VERIFIER_STORE_TREE_NODES_H_
#define INDELIBLE_VERIFIER_STORE_TREE_NODES_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/merkle.h"
#include "verifier/store/layout.h"
#include "verifier/store/reader.h"

namespace indelible::store {

// A store's tree layout, by its "tree" marker (layout.h). kNone: written
// before the tree existed and not yet upgraded by a daemon (or an unknown
// marker); kV1: the previous layout (store::kTreeMarkerV1).
enum class TreeLayout { kNone, kV1, kCurrent };
TreeLayout TreeLayoutOf(const Reader& reader);

inline bool IsStoredNode(const chain::NodeId& n) { return n.level >= kLowestStoredLevel; }

// Reads the stored rows of `nodes` (all IsStoredNode), their hashes in order.
using StoredNodeReader = std::function<absl::StatusOr<std::vector<chain::Digest>>(
    const std::vector<chain::NodeId>& nodes)>;
// Reads the leaf hashes of leaves [begin, end) (leaf i is the record of seq
// i + 1), in order; DataLoss naming the seq if a skeleton is missing.
using LeafRangeReader = std::function<absl::StatusOr<std::vector<chain::Digest>>(
    uint64_t begin, uint64_t end)>;

// The hashes of `nodes`, in order: stored ones in one `stored` call, the
// others from their leaves (each run of leaves read once).
absl::StatusOr<std::vector<chain::Digest>> ResolveNodes(const std::vector<chain::NodeId>& nodes,
                                                        const StoredNodeReader& stored,
                                                        const LeafRangeReader& leaves);

// ResolveNodes over a store opened by `reader`, in its layout (kV1: leaves
// from the leaf rows; else from the skeletons). DataLoss naming the node or
// seq if a row or skeleton is missing or malformed.
absl::StatusOr<std::vector<chain::Digest>> ReadTreeNodes(const Reader& reader, TreeLayout layout,
                                                         std::string_view tenant,
                                                         const std::vector<chain::NodeId>& nodes);

// The category a pruned record's leaf commits to, as the store keeps it
// (kV1: in its leaf row; else in its skeleton).
absl::StatusOr<std::string> ReadLeafCategory(const Reader& reader, TreeLayout layout,
                                             std::string_view tenant, uint64_t seq);

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_TREE_NODES_H_
