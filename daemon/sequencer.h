// Sequencer: the single writer of every chain, with group commit.
//
// RPC threads prepare events (validate, encode CE, draw a salt, hash the
// body) and Submit() them. One writer thread takes every request queued at
// that moment (up to Options::max_group_events), assigns seqs, computes entry
// hashes, writes all of it as one RocksDB WriteBatch with sync=true, and only
// then runs each request's callback. While one group is being synced the next
// one gathers, so a single fsync answers many concurrent appends.
//
// Guarantees: per tenant, seqs are 1..N without gaps in commit order;
// received_at_ns never decreases, even if the clock does; a (tenant,
// event_id) already stored, or earlier in the same group, yields the first
// receipt (duplicate = true) and writes nothing. A request's events are
// committed atomically, all or none.
//
// Thread-safe: Submit() and GetHead() may be called from any thread.
#ifndef INDELIBLE_DAEMON_SEQUENCER_H_
#define INDELIBLE_DAEMON_SEQUENCER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/clock.h"
#include "daemon/storage.h"
#include "verifier/chain/hash.h"

namespace indelible {

class Metrics;

// An event ready for sequencing: everything that does not depend on its
// position in the chain is computed before it reaches the writer thread.
struct PreparedEvent {
  std::string tenant;
  std::string event_id;
  std::string category;
  std::string body;  // u64(received_at, set by the sequencer) || salt || CE
  chain::Digest body_digest{};
};

struct Receipt {
  std::string tenant;
  uint64_t seq = 0;
  uint64_t received_at_ns = 0;
  chain::Digest entry_hash{};
  bool duplicate = false;
};

class Sequencer {
 public:
  struct Options {
    // Upper bound on events in one WriteBatch (a request is never split).
    size_t max_group_events = 8192;
    // If set, appends, group commits, queue depth and purges are counted
    // here (relaxed atomics). REQUIRES: outlives the sequencer.
    Metrics* metrics = nullptr;
  };
  // Runs on the writer thread; must not block.
  using Callback = std::function<void(absl::StatusOr<std::vector<Receipt>>)>;

  // REQUIRES: storage and clock outlive the sequencer.
  Sequencer(Storage* storage, Clock* clock, Options options);
  ~Sequencer();  // Calls Stop().

  // Loads the heads of all tenants and starts the writer thread.
  absl::Status Start();

  // Adds rows to the WriteBatch of a request (e.g. a policy change that must
  // commit atomically with the event recording it). Runs on the writer thread.
  using Extra = std::function<void(rocksdb::WriteBatch*)>;

  // Queues `events` (non-empty). `done` runs exactly once: with one receipt
  // per event, in order, after they are durable; or with an error, in which
  // case nothing of the request was stored. After Stop(), fails with
  // Unavailable. An event of a purged tenant fails the request with
  // FailedPrecondition.
  void Submit(std::vector<PreparedEvent> events, Callback done,
              Extra extra = nullptr);

  // Deletes every row of `tenant` and marks it purged, in one synced batch
  // ordered with the appends around it. `certify` gets the final head and
  // returns the deletion certificate stored (and returned) with the purge.
  // NotFound if the tenant has no records, FailedPrecondition if it was
  // already purged.
  using Certify = std::function<std::string(const store::Head& final_head)>;
  void SubmitPurge(std::string tenant, Certify certify,
                   std::function<void(absl::StatusOr<std::string>)> done);

  // The purge certificate of `tenant`, or nullopt if it was not purged.
  std::optional<std::string> PurgeCertificate(const std::string& tenant);

  // Why `tenant` is quarantined, or nullopt if it is not. A quarantined
  // tenant's stored chain is damaged (a table file failed its checksum, or
  // its head does not match its last record): appends to it fail with
  // DataLoss naming the tenant, so a broken chain is never extended. Start()
  // checks every tenant; a DataLoss read while committing adds the tenant.
  // Lasts until the process exits (the next start checks again).
  std::optional<std::string> Quarantined(const std::string& tenant);
  // DataLoss naming `tenant` and the reason it is quarantined.
  static absl::Status QuarantineError(const std::string& tenant,
                                      const std::string& reason);

  // Commits what is queued, then stops the writer thread. Idempotent.
  void Stop();

  // The committed head of `tenant` (seq 0 and genesis if it has no records).
  store::Head GetHead(const std::string& tenant);
  // The committed heads of all tenants with records.
  std::vector<std::pair<std::string, store::Head>> AllHeads();

 private:
  struct Request {
    std::vector<PreparedEvent> events;
    Callback done;
    Extra extra;
    // A purge request carries no events.
    std::string purge_tenant;
    Certify certify;
    std::function<void(absl::StatusOr<std::string>)> purge_done;
  };

  void Run();
  void CommitGroup(std::vector<Request>* group);
  void CommitPurge(Request* request);
  absl::Status ReloadHeads();
  // Reads each tenant's first and head skeletons (checksums verified) and
  // quarantines the tenants whose rows are damaged or disagree with the head.
  absl::Status CheckHeads();
  void Quarantine(const std::string& tenant, const std::string& reason);

  Storage* const storage_;
  Clock* const clock_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // guarded by mu_
  size_t queued_events_ = 0;   // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread writer_;

  std::mutex heads_mu_;
  std::unordered_map<std::string, store::Head> heads_;  // guarded by heads_mu_
  // Tenant -> deletion certificate; guarded by heads_mu_.
  std::unordered_map<std::string, std::string> purged_;
  // Tenant -> why it is quarantined; guarded by heads_mu_.
  std::unordered_map<std::string, std::string> quarantined_;

  // Writer thread only: a failed write may have left the DB ahead of heads_.
  bool heads_stale_ = false;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SEQUENCER_H_
