#include "daemon/write/node_cache.h"

#include <utility>

#include "verifier/store/layout.h"

namespace indelible {

std::optional<chain::Digest> NodeCache::Get(std::string_view tenant, const chain::NodeId& n) {
  std::string key = store::TreeKey(tenant, n.level, n.index);
  absl::MutexLock lock(&mu_);
  if (auto it = newer_.find(key); it != newer_.end()) return it->second;
  auto it = older_.find(key);
  if (it == older_.end()) return std::nullopt;
  const chain::Digest hash = it->second;
  PutLocked(std::move(key), hash);
  return hash;
}

void NodeCache::Put(std::string_view tenant, const chain::NodeId& n, const chain::Digest& hash) {
  std::string key = store::TreeKey(tenant, n.level, n.index);
  absl::MutexLock lock(&mu_);
  PutLocked(std::move(key), hash);
}

void NodeCache::PutLocked(std::string key, const chain::Digest& hash) {
  if (newer_.size() >= capacity_) {
    older_ = std::move(newer_);
    newer_ = Map();
  }
  newer_.insert_or_assign(std::move(key), hash);
}

}  // namespace indelible
