#include "daemon/write/node_cache.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace indelible {
namespace {

chain::Digest H(uint8_t b) {
  chain::Digest d{};
  d[0] = b;
  return d;
}

TEST(NodeCacheTest, KeysAreTenantLevelAndIndex) {
  NodeCache c(16);
  c.Put("acme", {4, 1}, H(1));
  EXPECT_EQ(c.Get("acme", {4, 1}), H(1));
  EXPECT_EQ(c.Get("acme", {4, 2}), std::nullopt);
  EXPECT_EQ(c.Get("acme", {5, 1}), std::nullopt);
  EXPECT_EQ(c.Get("acm", {4, 1}), std::nullopt);
  EXPECT_EQ(c.Get("globex", {4, 1}), std::nullopt);
}

// Two generations of `capacity`: the older one is dropped when the newer
// fills, and a node found in the older one moves to the newer.
TEST(NodeCacheTest, BoundedAndKeepsWhatIsUsed) {
  NodeCache c(4);
  for (uint64_t i = 0; i < 4; ++i) c.Put("t", {0, i}, H(static_cast<uint8_t>(i)));
  for (uint64_t i = 4; i < 8; ++i) c.Put("t", {0, i}, H(static_cast<uint8_t>(i)));
  // 0..3 older, 4..7 newer (full). Using 0 moves it into a new generation.
  EXPECT_EQ(c.Get("t", {0, 0}), H(0));
  for (uint64_t i = 8; i < 11; ++i) c.Put("t", {0, i}, H(static_cast<uint8_t>(i)));
  EXPECT_EQ(c.Get("t", {0, 0}), H(0));
  EXPECT_EQ(c.Get("t", {0, 1}), std::nullopt);  // dropped with its generation
  EXPECT_EQ(c.Get("t", {0, 8}), H(8));
}

TEST(NodeCacheTest, ConcurrentUseGivesWhatWasPut) {
  NodeCache c(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (uint64_t i = 0; i < 2000; ++i) {
        const chain::NodeId n{t, i % 100};
        c.Put("acme", n, H(static_cast<uint8_t>(i % 100)));
        if (auto h = c.Get("acme", n)) EXPECT_EQ(*h, H(static_cast<uint8_t>(i % 100)));
      }
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace indelible
