// WitnessSender: makes the daemon a witnessed log (docs/WITNESS.md, "The
// daemon as a witnessed log"). One thread per configured witness sends each
// tenant's newest v2 checkpoint to that witness with C2SP tlog-witness
// `POST /add-checkpoint`: `old` is the size the witness last cosigned for the
// tenant's origin (0 at start, learnt from a 409 answer and retried once),
// with a consistency proof from that size read from the stored tree. A
// returned cosignature is verified against the witness's key, then appended
// to the stored note (checkpoints_v2 at (tenant, size)), which GetCheckpoint
// serves.
//
// Appends and the checkpointer never wait for witnesses: the sender only
// reads checkpoints the checkpointer already stored and rewrites their rows
// with cosignature lines added.
//
// A tenant is "below quorum" from the moment its newest checkpoint lacks
// `quorum` cosignatures until a newest checkpoint has them; Healthy() is
// false once any tenant has been below quorum longer than the grace period,
// or a witness refused a tenant's newest checkpoint as inconsistent with what
// it cosigned before.
//
// Thread-safe: the metrics and health accessors may be called from any
// thread while the sender runs.
#ifndef INDELIBLE_DAEMON_TRUST_WITNESSING_H_
#define INDELIBLE_DAEMON_TRUST_WITNESSING_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "daemon/governance/config.h"
#include "daemon/periodic_task.h"
#include "daemon/write/storage.h"

namespace indelible {

// The gRPC health service name whose status is the witnesses' (health.h).
inline constexpr char kWitnessingHealthService[] = "indelible.v1.Witnessing";

class WitnessSender {
 public:
  struct Options {
    std::vector<WitnessConfig> witnesses;
    // REQUIRES: 1 <= quorum <= witnesses.size().
    size_t quorum = 1;
    std::chrono::seconds grace{60};
    // How often each witness thread looks for new checkpoints.
    std::chrono::milliseconds interval{1000};
    std::chrono::seconds connect_timeout{5};
    std::chrono::seconds read_timeout{10};
    // After a failed attempt, a (witness, tenant) pair waits backoff_base,
    // doubled per consecutive failure, at most backoff_max.
    std::chrono::milliseconds backoff_base{250};
    std::chrono::milliseconds backoff_max{10000};
  };
  // Every tenant with its current size (head seq).
  using TenantSizes = std::function<std::vector<std::pair<std::string, uint64_t>>()>;

  // REQUIRES: storage outlives the sender.
  WitnessSender(Storage* storage, TenantSizes tenants, Options options);
  ~WitnessSender();  // Calls Stop().

  // Checks that the TLS files of every witness are readable. Does not start
  // threads.
  absl::Status Init();
  void Start();
  void Stop();  // Idempotent.

  // Prometheus text of the witness families (docs/OPERATIONS.md, "Metrics").
  void RenderMetrics(std::string* out) const;
  // See the file comment. `reason` (if given) is set to why not.
  bool Healthy(std::string* reason = nullptr) const;
  // Seconds the tenant longest below quorum has been so; 0 if none is.
  double BelowQuorumSeconds() const;

 private:
  struct Witness;
  struct Pair {  // one (witness, tenant)
    uint64_t known_size = 0;       // the size the witness last cosigned (0: unknown)
    uint64_t cosigned_size = 0;    // the newest size of ours it cosigned
    uint64_t refused_size = 0;     // the newest size it refused as inconsistent
    int failures = 0;              // consecutive failed attempts
    std::chrono::steady_clock::time_point next_attempt{};
  };
  struct TenantQuorum {
    uint64_t size = 0;  // the newest checkpoint seen
    std::set<size_t> cosigned;  // witnesses that cosigned it
    std::optional<std::chrono::steady_clock::time_point> below_since;
    // A witness refused a newest checkpoint as inconsistent; until one is
    // at quorum again.
    bool inconsistent = false;
  };
  enum class Outcome { kCosigned, kInconsistent, kBadCosignature, kUnreachable, kHttpStatus };

  // One pass: the newest checkpoint of every tenant to witness `w`.
  void SendAll(size_t w);
  // After Submit: the pair's retry state, and the log line of a failure.
  void UpdatePair(size_t w, const std::string& tenant, uint64_t size, Outcome outcome,
                  int http_status, const std::string& detail, Pair* pair);
  // After Submit: the metrics and the quorum state of the outcome.
  void CountOutcome(size_t w, const std::string& tenant, uint64_t size, Outcome outcome,
                    int http_status);
  void SendNewest(size_t w, const std::string& tenant);
  // One attempt (with one retry after a 409 naming the witness's size).
  Outcome Submit(size_t w, const std::string& tenant, uint64_t size, const std::string& note,
                 std::string_view text, Pair* pair, std::string* detail, int* http_status);
  absl::StatusOr<std::string> RequestBody(const std::string& tenant, uint64_t old_size,
                                          uint64_t size, const std::string& note);
  // Appends the verified cosignature line to the stored note of (tenant, size).
  absl::Status StoreCosignature(size_t w, const std::string& tenant, uint64_t size,
                                std::string_view text, const std::string& line);
  void Observe(const std::string& tenant, uint64_t size);
  void MarkCosigned(size_t w, const std::string& tenant, uint64_t size);
  void MarkInconsistent(const std::string& tenant, uint64_t size);
  void CountFailure(size_t w, const std::string& reason);

  Storage* const storage_;
  const TenantSizes tenants_;
  const Options options_;
  std::vector<std::unique_ptr<Witness>> witnesses_;

  std::mutex store_mu_;  // serialises the read-modify-write of stored notes

  mutable std::mutex mu_;
  std::map<std::string, TenantQuorum> quorum_;                // guarded by mu_
  std::map<std::pair<size_t, std::string>, Pair> pairs_;      // guarded by mu_
  std::map<std::pair<size_t, std::string>, uint64_t> failures_;  // guarded by mu_
  std::map<size_t, uint64_t> cosigned_total_;                 // guarded by mu_

  std::atomic<bool> stopping_{false};
  // One per witness: SendAll now, then every interval.
  std::vector<std::unique_ptr<PeriodicTask>> tasks_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_TRUST_WITNESSING_H_
