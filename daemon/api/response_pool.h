// ResponsePool: the written responses of one append stream, kept for
// reuse. Cleared, a response keeps its receipts and their strings, so
// filling it again with no more receipts than it held, and no longer
// tenant ids, allocates nothing (8 allocations per receipt otherwise, 9
// for a tenant id over 15 bytes, on the committer thread). What the pool keeps is bounded in receipts:
// a response counts the most receipts it ever held (Clear keeps them all),
// and one that would take the pool over its bound is freed instead.
//
// Not thread-safe: AppendStreamReactor calls it under its mutex.
#ifndef INDELIBLE_DAEMON_API_RESPONSE_POOL_H_
#define INDELIBLE_DAEMON_API_RESPONSE_POOL_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "indelible/v1/indelible.pb.h"

namespace indelible {

class ResponsePool {
 public:
  // A response, and the cleared receipts it keeps from earlier use.
  struct Lease {
    std::unique_ptr<v1::AppendBatchResponse> response;
    size_t kept = 0;
  };

  explicit ResponsePool(size_t max_receipts) : max_receipts_(max_receipts) {}

  // The response given back last, or a new one.
  Lease Take();
  // Takes back a written response: cleared and kept if the pool stays
  // within max_receipts, freed otherwise. A lease without a response is
  // ignored.
  void Give(Lease lease);

  // The receipts kept in all, and the responses that hold them.
  size_t receipts() const { return receipts_; }
  size_t size() const { return kept_.size(); }

 private:
  const size_t max_receipts_;
  std::vector<Lease> kept_;
  size_t receipts_ = 0;  // the sum of kept_'s `kept`
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_RESPONSE_POOL_H_
