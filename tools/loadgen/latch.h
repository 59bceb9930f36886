// A countdown latch with a bounded wait (std::latch has none).
//
// Thread-safe. CountDown() touches nothing of the caller after it returns,
// so an object may count down as its last act before being destroyed.
#ifndef INDELIBLE_TOOLS_LOADGEN_LATCH_H_
#define INDELIBLE_TOOLS_LOADGEN_LATCH_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace indelible::tools {

class Latch {
 public:
  explicit Latch(int count) : count_(count) {}

  void CountDown() {
    std::lock_guard<std::mutex> l(mu_);
    if (--count_ <= 0) cv_.notify_all();
  }
  // True if the count reached zero before `deadline`.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_until(l, deadline, [this] { return count_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;  // guarded by mu_
};

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_LATCH_H_
