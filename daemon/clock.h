// Time as the daemon sees it. Everything that reads the wall clock takes a
// Clock*, so tests can control time instead of sleeping.
//
// Thread-safe: implementations must allow concurrent NowNanos() calls.
#ifndef INDELIBLE_DAEMON_CLOCK_H_
#define INDELIBLE_DAEMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace indelible {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch (UTC). May go backwards (wall clock);
  // callers that need monotonicity enforce it themselves.
  virtual uint64_t NowNanos() = 0;
};

class SystemClock final : public Clock {
 public:
  uint64_t NowNanos() override {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
  }
  // The process-wide instance.
  static SystemClock* Default() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_ns) : now_(start_ns) {}
  uint64_t NowNanos() override { return now_.load(); }
  void Set(uint64_t ns) { now_.store(ns); }
  void Advance(uint64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_CLOCK_H_
