// PeriodicTask: a background thread that runs a callback every interval
// until stopped: the loop of the checkpointer, compactor, backups, health,
// approval expiry and witness senders.
//
//   PeriodicTask task({.name = "checkpoint", .interval = 1s}, [this] { RunOnce(); });
//   task.Start();
//   ...
//   task.Stop();  // wakes the thread and joins it
//
// The interval is real time. Loops whose period is measured on the daemon's
// Clock (which a test may move by hand) wake every `interval` and ask a
// ClockSchedule whether their period has passed.
//
// Thread-safe: Wake and Stop may be called from any thread; Start once.
#ifndef INDELIBLE_DAEMON_PERIODIC_TASK_H_
#define INDELIBLE_DAEMON_PERIODIC_TASK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/clock.h"

namespace indelible {

class PeriodicTask {
 public:
  struct Options {
    std::string name;  // for logs and debuggers
    std::chrono::milliseconds interval{1000};
    // Run once as soon as the thread starts, before the first wait (even
    // if Stop was already called).
    bool run_at_start = false;
    // Run once more after Stop is called (a final pass that starts after
    // the call, even if Stop came while a run was in progress).
    bool run_at_stop = false;
  };

  PeriodicTask(Options options, std::function<void()> run);
  ~PeriodicTask();  // Stop()
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  const std::string& name() const { return options_.name; }
  // Starts the thread. Calls after the first, or after Stop, do nothing.
  void Start();
  // Ends the wait in progress: the callback runs now, not at the end of
  // the interval.
  void Wake();
  // Wakes and joins the thread; returns once the callback (and its final
  // run, with run_at_stop) has returned. True if this call stopped a
  // running thread; idempotent.
  bool Stop();

 private:
  void Loop();

  const Options options_;
  const std::function<void()> run_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;   // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

// When a period measured on a Clock has passed: the loop that calls Due
// wakes more often than the period (PeriodicTask::Options::interval).
// Thread-compatible: called from the task's thread.
class ClockSchedule {
 public:
  ClockSchedule(Clock* clock, uint64_t period_ns) : clock_(clock), period_ns_(period_ns) {}
  // The last run was at `last_ns` on the clock.
  void Reset(uint64_t last_ns) { last_ns_ = last_ns; }
  // True when a period has passed since the last run; the run is then
  // counted as at *now_ns (the clock's time, set either way).
  bool Due(uint64_t* now_ns) {
    *now_ns = clock_->NowNanos();
    if (*now_ns < last_ns_ + period_ns_) return false;
    last_ns_ = *now_ns;
    return true;
  }

 private:
  Clock* const clock_;
  const uint64_t period_ns_;
  uint64_t last_ns_ = 0;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_PERIODIC_TASK_H_
