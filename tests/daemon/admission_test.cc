// Admission: the bound on events held admitted and not yet answered
// (max_queued_events): refusals, the request larger than the bound, waiting
// streams woken once, the retry hint and the metrics.
#include "daemon/write/admission.h"

#include <functional>
#include <string>

#include "daemon/ops/metrics.h"
#include "gtest/gtest.h"

namespace indelible {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(AdmissionTest, TakesWithinTheBoundAndRefusesBeyondIt) {
  Admission a(10, nullptr);
  EXPECT_TRUE(a.TryTake(6));
  EXPECT_FALSE(a.TryTake(5));  // 11 > 10: nothing taken
  EXPECT_EQ(a.held(), 6u);
  EXPECT_TRUE(a.TryTake(4));
  EXPECT_FALSE(a.TryTake(1));
  a.Give(10);
  EXPECT_EQ(a.held(), 0u);
  EXPECT_TRUE(a.TryTake(1));
}

TEST(AdmissionTest, ARequestLargerThanTheBoundIsAdmittedAlone) {
  Admission a(10, nullptr);
  EXPECT_TRUE(a.TryTake(25));  // nothing held
  EXPECT_FALSE(a.TryTake(1));
  EXPECT_FALSE(a.TryTake(25));
  a.Give(25);
  EXPECT_TRUE(a.TryTake(25));
}

TEST(AdmissionTest, TakeIgnoresTheBound) {
  Admission a(10, nullptr);
  a.Take(8);
  a.Take(8);  // a stream message already read
  EXPECT_EQ(a.held(), 16u);
  EXPECT_FALSE(a.TryTake(1));
}

TEST(AdmissionTest, WaitersAreWokenOnceWhenTheHeldDropBelowTheBound) {
  Admission a(10, nullptr);
  EXPECT_TRUE(a.RoomOrWait([] { FAIL() << "room: nothing to wait for"; }));
  a.Take(10);
  int first = 0, second = 0;
  EXPECT_FALSE(a.RoomOrWait([&] { ++first; }));
  EXPECT_FALSE(a.RoomOrWait([&] { ++second; }));
  a.Take(5);
  a.Give(5);  // 10 held: still at the bound
  EXPECT_EQ(first + second, 0);
  a.Give(1);  // 9 held
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  a.Give(9);
  EXPECT_EQ(first, 1);  // each runs once
  EXPECT_EQ(second, 1);
  EXPECT_TRUE(a.RoomOrWait([] { FAIL() << "room: nothing to wait for"; }));
}

TEST(AdmissionTest, AWakeMayTakeAgainAndWaitAgain) {
  // Wakes run after the lock is released: a woken stream reads (takes) and
  // may find the bound reached once more.
  Admission a(2, nullptr);
  a.Take(2);
  int wakes = 0;
  std::function<void()> wake = [&] {
    ++wakes;
    a.Take(2);
    EXPECT_FALSE(a.RoomOrWait(wake));
  };
  ASSERT_FALSE(a.RoomOrWait(wake));
  a.Give(2);
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(a.held(), 2u);
  a.Give(2);
  EXPECT_EQ(wakes, 2);
}

TEST(AdmissionTest, RetryHintIsOneCommitCycleInMilliseconds) {
  Admission a(10, nullptr);
  EXPECT_EQ(a.RetryAfterMs(), 1u);  // no commit yet
  a.NoteCycle(2500000);             // 2.5 ms
  EXPECT_EQ(a.RetryAfterMs(), 3u);
  a.NoteCycle(100);
  EXPECT_EQ(a.RetryAfterMs(), 1u);
  a.NoteCycle(5000000000ull);  // a 5 s stall: at most 1 s
  EXPECT_EQ(a.RetryAfterMs(), 1000u);
}

TEST(AdmissionTest, MetricsShowHeldEventsRefusalsAndPauses) {
  Metrics m;
  Admission a(4, &m);
  a.Take(3);
  EXPECT_FALSE(a.TryTake(2));
  EXPECT_TRUE(a.RoomOrWait([] {}));
  a.Take(1);
  EXPECT_FALSE(a.RoomOrWait([] {}));
  EXPECT_FALSE(a.RoomOrWait([] {}));
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "indelible_ingest_held_events 4")) << text;
  EXPECT_TRUE(Has(text, "indelible_ingest_backpressure_total{action=\"refused\"} 1")) << text;
  EXPECT_TRUE(Has(text, "indelible_ingest_backpressure_total{action=\"paused\"} 2")) << text;
  a.Give(4);
  EXPECT_TRUE(Has(m.Render(), "indelible_ingest_held_events 0"));
}

}  // namespace
}  // namespace indelible
