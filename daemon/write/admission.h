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
// Unary calls get their turn against saturating streams: a refused request
// reserves room for its resend (the same events, so the same tenant and
// first event id: its key). Streams read only while held + reserved events
// are under the bound, and the resend is admitted into its reserved room
// even while streams still hold more than the bound less the reservation.
// Other unary calls are admitted only into room nobody reserved. Together
// reservations hold at most half the bound (the rest stays the streams'),
// and one lasts kReservationTtlNs from the refusal unless its resend comes.
// Since reserved < bound, held events alone keep streams waiting and their
// answers wake them: no timer is needed.
//
// Thread-safe. Callbacks given to RoomOrWait run on the thread that frees
// the room (a sequencer or gRPC thread), after the lock is released; they
// must not block.
#ifndef INDELIBLE_DAEMON_WRITE_ADMISSION_H_
#define INDELIBLE_DAEMON_WRITE_ADMISSION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "daemon/clock.h"

namespace indelible {

class Metrics;

class Admission {
 public:
  // How long room stays reserved for a refused request's resend: above the
  // longest retry hint (1 s) and the clients' longest backoff (1 s).
  static constexpr uint64_t kReservationTtlNs = 2'000'000'000;

  // `max_events` >= 1. `clock` times reservations. `metrics` (may be null)
  // gets the held and reserved events and the refusals and pauses.
  // REQUIRES: clock and metrics outlive this.
  Admission(size_t max_events, Clock* clock, Metrics* metrics);

  // Takes `n` events of a unary request named `key` (tenant and first event
  // id) if they fit in room nobody else reserved, or in the room reserved
  // for `key` plus free room, or if nothing is held (a request larger than
  // the bound is admitted alone). False: nothing was taken, room for `key`
  // is reserved (as much as the cap allows); counted as a refusal.
  bool TryTake(size_t n, std::string_view key);
  // Takes `n` events whatever is held.
  void Take(size_t n);
  // Gives `n` events back. Once held + reserved events are under the bound,
  // runs every waiting callback (each once), after the lock is released.
  void Give(size_t n);
  // True if held + reserved events are under the bound. Otherwise keeps
  // `wake` to run once they are, counts a pause, and returns false.
  bool RoomOrWait(std::function<void()> wake);

  // The sequencer notes how long each group commit took; a refused caller
  // is told to retry after about one such cycle (1..1000 ms).
  void NoteCycle(uint64_t nanos) { cycle_ns_.store(nanos, std::memory_order_relaxed); }
  uint64_t RetryAfterMs() const;

  size_t max_events() const { return max_; }
  size_t held() const;
  size_t reserved() const;

 private:
  struct Reservation {
    std::string key;
    size_t events;
    uint64_t at_ns;  // the refusal that made or renewed it
  };

  // REQUIRES: mu_ held.
  void ExpireLocked(uint64_t now_ns);
  // Removes the reservation of `key`; returns its events (0 if none).
  size_t ReleaseLocked(std::string_view key);
  void ReserveLocked(std::string_view key, size_t n, uint64_t now_ns);
  bool StreamRoomLocked() const { return held_ + reserved_ < max_; }
  void Publish();

  const size_t max_;
  Clock* const clock_;
  Metrics* const metrics_;
  std::atomic<uint64_t> cycle_ns_{0};
  mutable std::mutex mu_;
  size_t held_ = 0;                            // guarded by mu_
  size_t reserved_ = 0;                        // guarded by mu_; <= max_ / 2
  std::list<Reservation> reservations_;        // guarded by mu_; oldest first
  // The reservations by key (views of their keys); guarded by mu_.
  absl::flat_hash_map<std::string_view, std::list<Reservation>::iterator> by_key_;
  std::vector<std::function<void()>> waiting_;  // guarded by mu_
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_ADMISSION_H_
