#include "daemon/api/response_pool.h"

#include <algorithm>

namespace indelible {

ResponsePool::Lease ResponsePool::Take() {
  if (kept_.empty()) return {std::make_unique<v1::AppendBatchResponse>(), 0};
  Lease lease = std::move(kept_.back());
  kept_.pop_back();
  receipts_ -= lease.kept;
  return lease;
}

void ResponsePool::Give(Lease lease) {
  if (lease.response == nullptr) return;
  const size_t receipts =
      std::max(lease.kept, static_cast<size_t>(lease.response->receipts_size()));
  if (receipts_ + receipts > max_receipts_) return;  // freed with `lease`
  lease.response->Clear();
  lease.kept = receipts;
  receipts_ += receipts;
  kept_.push_back(std::move(lease));
}

}  // namespace indelible
