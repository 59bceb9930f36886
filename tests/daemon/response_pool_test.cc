#include "daemon/api/response_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace indelible {
namespace {

// Fills `lease`'s response with n receipts, as a commit answers a request.
void Answer(ResponsePool::Lease* lease, int n) {
  for (int i = 0; i < n; ++i) {
    v1::Receipt* r = lease->response->add_receipts();
    r->set_tenant("acme");
    r->set_seq(i + 1);
    r->set_entry_hash(std::string(32, 'h'));
  }
}

TEST(ResponsePool, TakeFromAnEmptyPoolGivesANewResponse) {
  ResponsePool pool(100);
  ResponsePool::Lease lease = pool.Take();
  ASSERT_NE(lease.response, nullptr);
  EXPECT_EQ(lease.kept, 0u);
  EXPECT_EQ(lease.response->receipts_size(), 0);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(ResponsePool, AWrittenResponseComesBackClearedWithTheReceiptsItKeeps) {
  ResponsePool pool(100);
  ResponsePool::Lease lease = pool.Take();
  Answer(&lease, 40);
  const v1::AppendBatchResponse* given = lease.response.get();
  pool.Give(std::move(lease));
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.receipts(), 40u);

  ResponsePool::Lease again = pool.Take();
  EXPECT_EQ(again.response.get(), given);
  EXPECT_EQ(again.kept, 40u);
  EXPECT_EQ(again.response->receipts_size(), 0);  // nothing of the last answer
  // ... but its 40 receipts, cleared, for the next one to fill.
  EXPECT_EQ(again.response->receipts().ClearedCount(), 40);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.receipts(), 0u);

  // Filled again with fewer receipts, it takes them from those it kept
  // and still holds the 40 it had.
  Answer(&again, 3);
  EXPECT_EQ(again.response->receipts().ClearedCount(), 37);
  EXPECT_EQ(again.response->receipts(0).seq(), 1u);
  pool.Give(std::move(again));
  EXPECT_EQ(pool.receipts(), 40u);
}

TEST(ResponsePool, KeepsNoMoreThanItsBound) {
  ResponsePool pool(100);
  std::vector<ResponsePool::Lease> leases;
  for (int i = 0; i < 4; ++i) {
    leases.push_back(pool.Take());
    Answer(&leases.back(), 40);
  }
  for (ResponsePool::Lease& l : leases) pool.Give(std::move(l));
  // 40 + 40 fit in 100; a third would make 120 and is freed, the fourth too.
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool.receipts(), 80u);
  // A smaller one still fits after those were refused.
  ResponsePool::Lease small_one{std::make_unique<v1::AppendBatchResponse>(), 0};
  Answer(&small_one, 20);
  pool.Give(std::move(small_one));
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.receipts(), 100u);

  // One that alone holds more than the bound is never kept.
  ResponsePool small(10);
  ResponsePool::Lease big = small.Take();
  Answer(&big, 11);
  small.Give(std::move(big));
  EXPECT_EQ(small.size(), 0u);
  EXPECT_EQ(small.receipts(), 0u);

  // Up to the bound exactly is kept.
  ResponsePool exact(80);
  ResponsePool::Lease a = exact.Take(), b = exact.Take();
  Answer(&a, 40);
  Answer(&b, 40);
  exact.Give(std::move(a));
  exact.Give(std::move(b));
  EXPECT_EQ(exact.size(), 2u);
  EXPECT_EQ(exact.receipts(), 80u);
}

TEST(ResponsePool, ALeaseWithoutAResponseIsIgnored) {
  ResponsePool pool(100);
  pool.Give(ResponsePool::Lease{});
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.receipts(), 0u);
}

}  // namespace
}  // namespace indelible
