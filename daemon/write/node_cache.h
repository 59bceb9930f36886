// NodeCache: hashes of complete nodes of the tenants' Merkle trees, as
// Storage read or computed them. A complete node (a perfect subtree of
// stored leaves) never changes, so a cached hash stays right; the cache only
// saves the MultiGet and the skeleton reads of proofs and frontiers.
//
// Bounded: two generations of at most `capacity` entries each; when the
// newer one is full it becomes the older one and the older one is dropped,
// so recently used nodes survive (an entry found in the older generation is
// copied into the newer). About 100 bytes per entry.
//
// Thread-safe.
#ifndef INDELIBLE_DAEMON_WRITE_NODE_CACHE_H_
#define INDELIBLE_DAEMON_WRITE_NODE_CACHE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"

namespace indelible {

class NodeCache {
 public:
  explicit NodeCache(size_t capacity) : capacity_(capacity) {}
  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  std::optional<chain::Digest> Get(std::string_view tenant, const chain::NodeId& n);
  // REQUIRES: `hash` is the hash of the complete node n of tenant's tree.
  void Put(std::string_view tenant, const chain::NodeId& n, const chain::Digest& hash);

 private:
  using Map = absl::flat_hash_map<std::string, chain::Digest>;
  void PutLocked(std::string key, const chain::Digest& hash) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  absl::Mutex mu_;
  Map newer_ ABSL_GUARDED_BY(mu_);
  Map older_ ABSL_GUARDED_BY(mu_);
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_NODE_CACHE_H_
