#include "client/backoff.h"

#include "gtest/gtest.h"

namespace indelible::client {
namespace {

using std::chrono::microseconds;

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  BackoffPolicy p{microseconds(100), microseconds(1000), /*jitter=*/false};
  EXPECT_EQ(BackoffDelay(p, 0, 0.5), microseconds(100));
  EXPECT_EQ(BackoffDelay(p, 1, 0.5), microseconds(200));
  EXPECT_EQ(BackoffDelay(p, 2, 0.5), microseconds(400));
  EXPECT_EQ(BackoffDelay(p, 3, 0.5), microseconds(800));
  EXPECT_EQ(BackoffDelay(p, 4, 0.5), microseconds(1000));
  EXPECT_EQ(BackoffDelay(p, 1000000, 0.5), microseconds(1000));
}

TEST(Backoff, FullJitterSpansZeroToCap) {
  BackoffPolicy p{microseconds(100), microseconds(1000), /*jitter=*/true};
  EXPECT_EQ(BackoffDelay(p, 2, 0.0), microseconds(0));
  EXPECT_EQ(BackoffDelay(p, 2, 0.5), microseconds(200));
  EXPECT_EQ(BackoffDelay(p, 2, 0.999999), microseconds(400));
  EXPECT_LE(BackoffDelay(p, 60, 0.999999), microseconds(1000));
}

TEST(Backoff, InitialAboveMaxIsCapped) {
  BackoffPolicy p{microseconds(5000), microseconds(1000), false};
  EXPECT_EQ(BackoffDelay(p, 0, 0), microseconds(1000));
}

}  // namespace
}  // namespace indelible::client
