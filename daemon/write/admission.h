// Admission: the bound on the events the daemon holds admitted but not yet
// answered (queued for the sequencer, being linked, or being written and
// synced): `max_queued_events` in the config (docs/CONFIG.md).
//
// The sequencer takes a request's events when it is submitted and gives
// them back when the request is answered. Unary appends are admitted only
// while the bound allows (TryTake; refused ones get RESOURCE_EXHAUSTED with
// a retry hint); a stream reads its next message only while fewer than the
// bound are held (RoomOrWait), so gRPC flow control holds the client back.
// A message already read is always taken, so the daemon may hold up to one
// message per stream beyond the bound.
//
// Thread-safe. Callbacks given to RoomOrWait run on the thread that frees
// the room (a sequencer thread), after the lock is released; they must not
// block.
#ifndef INDELIBLE_DAEMON_WRITE_ADMISSION_H_
#define INDELIBLE_DAEMON_WRITE_ADMISSION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace indelible {

class Metrics;

class Admission {
 public:
  // `max_events` >= 1. `metrics` (may be null) gets the held events and
  // the refusals and pauses; REQUIRES: outlives this.
  Admission(size_t max_events, Metrics* metrics);

  // Takes `n` events if they fit under the bound, or if nothing is held (a
  // request larger than the bound is admitted alone). False: nothing was
  // taken; counted as a refusal.
  bool TryTake(size_t n);
  // Takes `n` events whatever is held.
  void Take(size_t n);
  // Gives `n` events back. Once fewer than the bound are held, runs every
  // waiting callback (each once), after the lock is released.
  void Give(size_t n);
  // True if fewer than the bound are held. Otherwise keeps `wake` to run
  // once they are, counts a pause, and returns false.
  bool RoomOrWait(std::function<void()> wake);

  // The sequencer notes how long each group commit took; a refused caller
  // is told to retry after about one such cycle (1..1000 ms).
  void NoteCycle(uint64_t nanos) { cycle_ns_.store(nanos, std::memory_order_relaxed); }
  uint64_t RetryAfterMs() const;

  size_t max_events() const { return max_; }
  size_t held() const;

 private:
  void Publish();  // REQUIRES: mu_ held

  const size_t max_;
  Metrics* const metrics_;
  std::atomic<uint64_t> cycle_ns_{0};
  mutable std::mutex mu_;
  size_t held_ = 0;                            // guarded by mu_
  std::vector<std::function<void()>> waiting_;  // guarded by mu_
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_ADMISSION_H_
