// Admission: the bound on events held admitted and not yet answered
// (max_queued_events): refusals, the request larger than the bound, waiting
// streams woken once, room reserved for a refused request's resend, the
// retry hint and the metrics.
#include "daemon/write/admission.h"

#include <functional>
#include <string>

#include "daemon/clock.h"
#include "daemon/ops/metrics.h"
#include "gtest/gtest.h"

namespace indelible {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

constexpr uint64_t kStart = 1'700'000'000'000'000'000;

class AdmissionTest : public ::testing::Test {
 protected:
  ManualClock clock_{kStart};
};

TEST_F(AdmissionTest, TakesWithinTheBoundAndRefusesBeyondIt) {
  Admission a(10, &clock_, nullptr);
  EXPECT_TRUE(a.TryTake(6, "a"));
  EXPECT_TRUE(a.TryTake(4, "b"));
  EXPECT_FALSE(a.TryTake(1, "c"));  // 11 > 10: nothing taken
  EXPECT_EQ(a.held(), 10u);
  a.Give(10);
  EXPECT_EQ(a.held(), 0u);
  EXPECT_TRUE(a.TryTake(1, "c"));
}

TEST_F(AdmissionTest, ARequestLargerThanTheBoundIsAdmittedAlone) {
  Admission a(10, &clock_, nullptr);
  EXPECT_TRUE(a.TryTake(25, "a"));  // nothing held
  EXPECT_FALSE(a.TryTake(1, "b"));
  EXPECT_FALSE(a.TryTake(25, "c"));
  a.Give(25);
  EXPECT_TRUE(a.TryTake(25, "c"));
}

TEST_F(AdmissionTest, TakeIgnoresTheBound) {
  Admission a(10, &clock_, nullptr);
  a.Take(8);
  a.Take(8);  // a stream message already read
  EXPECT_EQ(a.held(), 16u);
  EXPECT_FALSE(a.TryTake(1, "a"));
}

TEST_F(AdmissionTest, WaitersAreWokenOnceWhenTheHeldDropBelowTheBound) {
  Admission a(10, &clock_, nullptr);
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

TEST_F(AdmissionTest, AWakeMayTakeAgainAndWaitAgain) {
  // Wakes run after the lock is released: a woken stream reads (takes) and
  // may find the bound reached once more.
  Admission a(2, &clock_, nullptr);
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

TEST_F(AdmissionTest, ARefusedRequestsResendTakesTheRoomItReserved) {
  // Streams keep 10 of 10 held; a unary request of 4 is refused and
  // reserves 4: streams now read only while held + 4 < 10.
  Admission a(10, &clock_, nullptr);
  a.Take(10);
  EXPECT_FALSE(a.TryTake(4, "acme/e1"));
  EXPECT_EQ(a.reserved(), 4u);
  int wakes = 0;
  EXPECT_FALSE(a.RoomOrWait([&] { ++wakes; }));
  a.Give(4);  // 6 held + 4 reserved: the streams still wait
  EXPECT_EQ(wakes, 0);
  a.Give(1);
  EXPECT_EQ(wakes, 1);
  // A stream reads one more message of 3 (always taken): 8 held, beyond the
  // 6 the reservation leaves the streams.
  a.Take(3);
  EXPECT_FALSE(a.RoomOrWait([] {}));
  // Another unary request finds no unreserved room; the resend (same key)
  // goes into its reserved room although 8 + 4 > 10.
  EXPECT_FALSE(a.TryTake(1, "acme/other"));
  EXPECT_EQ(a.reserved(), 5u);  // the other one reserved 1 (cap 5)
  EXPECT_TRUE(a.TryTake(4, "acme/e1"));
  EXPECT_EQ(a.held(), 12u);  // the bound + one stream message, as before
  EXPECT_EQ(a.reserved(), 1u);
  // A resend larger than its reservation needs free room for the rest.
  EXPECT_FALSE(a.TryTake(2, "acme/other"));
  a.Give(12);
  EXPECT_TRUE(a.TryTake(2, "acme/other"));
  EXPECT_EQ(a.reserved(), 0u);
}

TEST_F(AdmissionTest, AResendGetsItsReservedRoomOnceNotTwice) {
  // 5 held, 5 reserved for "k": the streams wait, and "k" may take its 5,
  // not the 5 it reserved plus the same 5 again as free room.
  Admission a(10, &clock_, nullptr);
  a.Take(10);
  EXPECT_FALSE(a.TryTake(5, "k"));
  a.Give(5);
  EXPECT_FALSE(a.TryTake(10, "k"));  // 5 held + 10 would be 15
  EXPECT_EQ(a.held(), 5u);
  EXPECT_EQ(a.reserved(), 5u);       // reserved again
  EXPECT_TRUE(a.TryTake(5, "k"));
  EXPECT_EQ(a.held(), 10u);
  EXPECT_EQ(a.reserved(), 0u);
}

TEST_F(AdmissionTest, ARenewedReservationLastsFromItsLastRefusal) {
  constexpr uint64_t kQuarter = Admission::kReservationTtlNs / 4;
  Admission a(10, &clock_, nullptr);
  a.Take(10);
  EXPECT_FALSE(a.TryTake(2, "a"));  // reserves 2
  clock_.Advance(kQuarter);
  EXPECT_FALSE(a.TryTake(3, "b"));  // reserves 3
  clock_.Advance(kQuarter);
  EXPECT_FALSE(a.TryTake(3, "a"));  // more than its 2: refused, renewed
  EXPECT_EQ(a.reserved(), 5u);
  clock_.Advance(3 * kQuarter);
  a.Give(1);  // "b" is a whole TTL old and goes; "a", renewed, stays
  EXPECT_EQ(a.reserved(), 2u);
  EXPECT_TRUE(a.TryTake(2, "a"));  // 9 held: only its reserved room fits it
  EXPECT_EQ(a.held(), 11u);
  EXPECT_EQ(a.reserved(), 0u);
}

TEST_F(AdmissionTest, ReservationsHoldAtMostHalfTheBound) {
  Admission a(10, &clock_, nullptr);
  a.Take(9);
  EXPECT_FALSE(a.TryTake(3, "a"));
  EXPECT_FALSE(a.TryTake(3, "b"));  // 2 of its 3: the cap is 5
  EXPECT_FALSE(a.TryTake(3, "c"));  // nothing left to reserve
  EXPECT_EQ(a.reserved(), 5u);
  // Re-refused, "b" keeps its reservation (moved to the back, renewed).
  EXPECT_FALSE(a.TryTake(3, "b"));
  EXPECT_EQ(a.reserved(), 5u);
  EXPECT_TRUE(a.TryTake(2, "b"));  // fits in its 2
  EXPECT_EQ(a.reserved(), 3u);
}

TEST_F(AdmissionTest, StreamsWaitingOnReservationsAreWokenByAnswers) {
  // No timer: reservations are at most half the bound, so streams wait only
  // while something is held, and the answer that frees enough wakes them.
  Admission a(10, &clock_, nullptr);
  a.Take(9);
  EXPECT_FALSE(a.TryTake(5, "a"));
  int wakes = 0;
  EXPECT_FALSE(a.RoomOrWait([&] { ++wakes; }));
  a.Give(4);  // 5 held + 5 reserved
  EXPECT_EQ(wakes, 0);
  a.Give(5);  // 0 held + 5 reserved < 10
  EXPECT_EQ(wakes, 1);
}

TEST_F(AdmissionTest, AReservationExpiresWithoutItsResend) {
  Admission a(10, &clock_, nullptr);
  a.Take(10);
  EXPECT_FALSE(a.TryTake(5, "gone"));
  a.Give(6);  // 4 held + 5 reserved: room for streams
  int wakes = 0;
  a.Take(2);
  EXPECT_FALSE(a.RoomOrWait([&] { ++wakes; }));  // 6 + 5
  clock_.Advance(Admission::kReservationTtlNs - 1);
  a.Give(1);  // 5 + 5: still reserved
  EXPECT_EQ(wakes, 0);
  EXPECT_EQ(a.reserved(), 5u);
  clock_.Advance(1);
  a.Give(1);  // expired: 4 held
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(a.reserved(), 0u);
  EXPECT_TRUE(a.TryTake(6, "new"));  // 4 + 6 = 10
}

TEST_F(AdmissionTest, AClockThatWentBackExpiresReservations) {
  Admission a(10, &clock_, nullptr);
  a.Take(10);
  EXPECT_FALSE(a.TryTake(5, "a"));
  clock_.Set(kStart - 3'600'000'000'000);  // an hour back
  EXPECT_FALSE(a.TryTake(1, "b"));  // expires "a", then reserves for "b"
  EXPECT_EQ(a.reserved(), 1u);
}

TEST_F(AdmissionTest, RetryHintIsOneCommitCycleInMilliseconds) {
  Admission a(10, &clock_, nullptr);
  EXPECT_EQ(a.RetryAfterMs(), 1u);  // no commit yet
  a.NoteCycle(2500000);             // 2.5 ms
  EXPECT_EQ(a.RetryAfterMs(), 3u);
  a.NoteCycle(100);
  EXPECT_EQ(a.RetryAfterMs(), 1u);
  a.NoteCycle(5000000000ull);  // a 5 s stall: at most 1 s
  EXPECT_EQ(a.RetryAfterMs(), 1000u);
}

TEST_F(AdmissionTest, MetricsShowHeldAndReservedEventsRefusalsAndPauses) {
  Metrics m;
  Admission a(4, &clock_, &m);
  a.Take(3);
  EXPECT_FALSE(a.TryTake(2, "a"));  // reserves 2
  EXPECT_FALSE(a.RoomOrWait([] {}));
  a.Take(1);
  EXPECT_FALSE(a.RoomOrWait([] {}));
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "indelible_ingest_held_events 4")) << text;
  EXPECT_TRUE(Has(text, "indelible_ingest_reserved_events 2")) << text;
  EXPECT_TRUE(Has(text, "indelible_ingest_backpressure_total{action=\"refused\"} 1")) << text;
  EXPECT_TRUE(Has(text, "indelible_ingest_backpressure_total{action=\"paused\"} 2")) << text;
  EXPECT_TRUE(a.TryTake(2, "a"));
  a.Give(6);
  text = m.Render();
  EXPECT_TRUE(Has(text, "indelible_ingest_held_events 0")) << text;
  EXPECT_TRUE(Has(text, "indelible_ingest_reserved_events 0")) << text;
}

}  // namespace
}  // namespace indelible
