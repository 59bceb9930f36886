#include "daemon/periodic_task.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"

namespace indelible {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Counts the task's runs; tests wait on it with a bound, never sleep.
class Runs {
 public:
  void Add() {
    std::lock_guard<std::mutex> l(mu_);
    ++n_;
    cv_.notify_all();
  }
  int n() {
    std::lock_guard<std::mutex> l(mu_);
    return n_;
  }
  // True once at least `want` runs happened, false after 30 s.
  bool WaitFor(int want) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, seconds(30), [&] { return n_ >= want; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

TEST(PeriodicTaskTest, RunsEveryInterval) {
  Runs runs;
  PeriodicTask task({.name = "t", .interval = milliseconds(1)}, [&] { runs.Add(); });
  task.Start();
  EXPECT_TRUE(runs.WaitFor(3));
  EXPECT_TRUE(task.Stop());
}

TEST(PeriodicTaskTest, FirstRunWaitsForTheInterval) {
  Runs runs;
  PeriodicTask task({.name = "t", .interval = hours(1)}, [&] { runs.Add(); });
  task.Start();
  EXPECT_TRUE(task.Stop());
  EXPECT_EQ(runs.n(), 0);
}

TEST(PeriodicTaskTest, WakeRunsBeforeTheIntervalEnds) {
  Runs runs;
  PeriodicTask task({.name = "t", .interval = hours(1)}, [&] { runs.Add(); });
  task.Start();
  task.Wake();
  EXPECT_TRUE(runs.WaitFor(1));
  task.Wake();
  EXPECT_TRUE(runs.WaitFor(2));
  task.Stop();
  EXPECT_EQ(runs.n(), 2);
}

TEST(PeriodicTaskTest, RunAtStartAndAtStop) {
  Runs runs;
  PeriodicTask task(
      {.name = "t", .interval = hours(1), .run_at_start = true, .run_at_stop = true},
      [&] { runs.Add(); });
  task.Start();
  EXPECT_TRUE(runs.WaitFor(1));
  EXPECT_TRUE(task.Stop());
  EXPECT_EQ(runs.n(), 2);  // the final run finished before Stop returned
}

TEST(PeriodicTaskTest, StopIsIdempotentAndFinal) {
  Runs runs;
  PeriodicTask task({.name = "t", .interval = milliseconds(1)}, [&] { runs.Add(); });
  task.Start();
  EXPECT_TRUE(runs.WaitFor(1));
  EXPECT_TRUE(task.Stop());
  const int after = runs.n();
  EXPECT_FALSE(task.Stop());
  task.Start();  // no restart after Stop
  task.Wake();
  EXPECT_FALSE(task.Stop());
  EXPECT_EQ(runs.n(), after);
}

TEST(PeriodicTaskTest, StopBeforeStartStartsNothing) {
  Runs runs;
  PeriodicTask task({.name = "t", .interval = milliseconds(1), .run_at_start = true},
                    [&] { runs.Add(); });
  EXPECT_FALSE(task.Stop());
  task.Start();
  EXPECT_EQ(runs.n(), 0);
}


TEST(ClockScheduleTest, DueOncePerPeriodOfTheClock) {
  ManualClock clock(1000);
  ClockSchedule schedule(&clock, 100);
  schedule.Reset(1000);
  uint64_t now = 0;
  EXPECT_FALSE(schedule.Due(&now));
  EXPECT_EQ(now, 1000u);
  clock.Advance(99);
  EXPECT_FALSE(schedule.Due(&now));
  clock.Advance(1);
  EXPECT_TRUE(schedule.Due(&now));
  EXPECT_EQ(now, 1100u);
  EXPECT_FALSE(schedule.Due(&now));  // the period restarts at the run
  clock.Advance(250);
  EXPECT_TRUE(schedule.Due(&now));
  EXPECT_FALSE(schedule.Due(&now));
}

TEST(ClockScheduleTest, ResetToAnOlderRunMakesItDueSooner) {
  ManualClock clock(5000);
  ClockSchedule schedule(&clock, 1000);
  schedule.Reset(4200);  // e.g. the newest backup, before this start
  uint64_t now = 0;
  EXPECT_FALSE(schedule.Due(&now));
  clock.Advance(200);
  EXPECT_TRUE(schedule.Due(&now));
}

}  // namespace
}  // namespace indelible
