// Sequencer: the single writer of every chain, with group commit.
//
// RPC threads prepare events (validate, encode CE, draw a salt, hash the
// body) and Submit() them. Two threads then form a pipeline:
//
//   sequencer thread: links queued requests into the next group: finds
//     duplicate event ids, assigns seqs, computes entry hashes and adds the
//     rows to the group's WriteBatch (up to Options::max_group_events);
//   committer thread: writes a group's batch with sync=true, publishes the
//     new heads, and only then runs each request's callback.
//
// While group N is being written and synced, every request that arrives is
// linked into group N+1 on top of N's (not yet durable) heads; N+1 is handed
// over as soon as the committer is idle. So one fsync answers everything
// that arrived during the previous one, and the CPU work of linking
// overlaps the fsync. Groups are written strictly in order, so a failed
// write fails the group linked onto it as well; the sequencer thread then
// reloads the heads from RocksDB before it links anything else.
//
// Guarantees: per tenant, seqs are 1..N without gaps in commit order;
// received_at_ns never decreases, even if the clock does; a (tenant,
// event_id) already stored, or earlier in the same or an uncommitted group,
// with the same canonical bytes yields the first receipt (duplicate = true)
// and writes nothing, and that receipt is answered only once the first is
// durable; with other canonical bytes it fails the request with
// AlreadyExists naming the first seq (retry_match.h). A stored first record
// whose body retention has pruned no longer holds its id: the event is
// stored as a new record. A request's events are committed atomically, all
// or none. GetHead() and AllHeads() return only durable heads.
//
// The tree: each tenant's records are also the leaves of its Merkle tree
// (docs/FORMAT.md, format v2). The sequencer thread keeps each tenant's
// compact range (the tree's right edge) next to its pending head; linking a
// record appends its leaf and adds every node the append completes to the
// group's WriteBatch, so the stored tree is always exactly the tree of the
// stored records (after kill -9 too). Start() builds missing trees
// (Storage::BuildMissingTrees) and loads the ranges from the stored nodes; a
// failed write reloads them with the heads.
//
// Thread-safe: Submit() and GetHead() may be called from any thread.
#ifndef INDELIBLE_DAEMON_SEQUENCER_H_
#define INDELIBLE_DAEMON_SEQUENCER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/clock.h"
#include "daemon/storage.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"

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
  // The request left occurred_at unset and the daemon filled in its receive
  // time: a retry of it matches whatever occurred_at the first record has.
  bool occurred_at_defaulted = false;
  // Names the event in errors, e.g. "events[3]" ("event" if empty).
  std::string path;
};

struct Receipt {
  std::string tenant;
  uint64_t seq = 0;
  uint64_t received_at_ns = 0;
  chain::Digest entry_hash{};
  bool duplicate = false;
  // What the record was linked on (a receipt can be checked offline); its
  // leaf index in the tenant's tree is seq - 1.
  chain::Digest body_digest{};
  chain::Digest prev_entry_hash{};
};

// The first record stored under a (tenant, event_id): its receipt, and what
// a retry is compared against (retry_match.h).
struct FirstRecord {
  Receipt receipt;
  chain::Salt salt{};
  chain::Digest body_digest{};
  uint64_t occurred_at_ns = 0;
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
  // Runs on the committer thread (on the sequencer thread if the request is
  // refused before it is linked); must not block.
  using Callback = std::function<void(absl::StatusOr<std::vector<Receipt>>)>;

  // REQUIRES: storage and clock outlive the sequencer.
  Sequencer(Storage* storage, Clock* clock, Options options);
  ~Sequencer();  // Calls Stop().

  // Loads the heads of all tenants and starts the writer thread.
  absl::Status Start();

  // Adds rows to the WriteBatch of a request (e.g. a policy change that must
  // commit atomically with the event recording it). Runs on the sequencer
  // thread.
  using Extra = std::function<void(rocksdb::WriteBatch*)>;

  // Queues `events` (non-empty). `done` runs exactly once: with one receipt
  // per event, in order, after they are durable; or with an error, in which
  // case nothing of the request was stored. After Stop(), fails with
  // Unavailable. An event of a purged tenant fails the request with
  // FailedPrecondition.
  // `stream` ties the requests of one AppendStream together: once one of them
  // fails, it is set, and a later one not linked yet is refused (Aborted)
  // instead of stored.
  using StreamFailed = std::shared_ptr<std::atomic<bool>>;
  void Submit(std::vector<PreparedEvent> events, Callback done,
              Extra extra = nullptr, StreamFailed stream = nullptr);

  // Deletes every row of `tenant` and marks it purged, in one synced batch
  // ordered with the appends around it. `certify` gets the final head and
  // returns the deletion certificate stored (and returned) with the purge,
  // or an error that fails the purge (nothing deleted). NotFound if the
  // tenant has no records, FailedPrecondition if it was already purged.
  using Certify = std::function<absl::StatusOr<std::string>(const store::Head& final_head)>;
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

  // Commits what is queued, then stops both threads. Idempotent. Must not
  // be called from a callback (it waits for the thread running it).
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
    StreamFailed stream;
    // A purge request carries no events.
    std::string purge_tenant;
    Certify certify;
    std::function<void(absl::StatusOr<std::string>)> purge_done;
  };

  // A group: linked by the sequencer thread, then written by the committer.
  struct Commit {
    uint64_t number = 0;  // 1, 2, ... in the order handed over
    std::vector<Request> group;
    std::vector<std::vector<Receipt>> receipts;  // per request
    rocksdb::WriteBatch batch;
    std::unordered_map<std::string, store::Head> new_heads;
    std::unordered_map<std::string, chain::CompactRange> new_ranges;
    // Event ids first stored by this group (moved to pending_ids_ when the
    // group is handed over).
    std::unordered_map<std::string, FirstRecord> new_ids;
    size_t events = 0;
    std::chrono::steady_clock::time_point start;  // its first link
  };

  void Run();  // the sequencer thread
  void RunCommitter();
  // Links the requests of `chunk` onto `c` (each one is moved into c, or
  // answered with an error).
  void Link(std::vector<Request>* chunk, Commit* c);
  void WriteCommit(Commit* c);
  // Hands *next to the idle committer (leaving *next null).
  void Hand(std::unique_ptr<Commit>* next);
  // Before `c` is handed over: numbers it and makes its heads and new ids
  // the pending ones.
  void Publish(Commit* c);
  // Blocks until every handed group is written and answered.
  void Drain();
  // Sequencer thread, after Drain(): if a write failed, resumes RocksDB and
  // reloads the heads. False if storage is still unavailable.
  bool RecoverIfFailed();
  // Sequencer thread: forgets uncommitted ids of groups now durable.
  void ForgetDurableIds();
  void CommitPurge(Request* request);
  absl::Status ReloadHeads();
  // Sequencer thread (or before it starts): loads every tenant's compact
  // range from the stored tree at its durable head; a tenant whose nodes are
  // missing or damaged is quarantined.
  absl::Status ReloadRanges();
  // Reads each tenant's first and head skeletons (checksums verified) and
  // quarantines the tenants whose rows are damaged or disagree with the head.
  absl::Status CheckHeads();
  void Quarantine(const std::string& tenant, const std::string& reason);

  Storage* const storage_;
  Clock* const clock_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable cv_;  // the sequencer thread waits on it
  std::deque<Request> queue_;  // guarded by mu_
  size_t queued_events_ = 0;   // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread writer_;

  // The committer thread: the group handed to it, whether it is writing
  // one, and whether to stop. Guarded by mu_.
  std::condition_variable commit_cv_;
  std::unique_ptr<Commit> handed_;
  bool committing_ = false;
  bool stop_committer_ = false;
  // The error of a failed write, until the sequencer thread has recovered;
  // every group handed meanwhile fails with it. Guarded by mu_.
  absl::Status write_failed_;
  std::atomic<uint64_t> durable_commit_{0};  // number of the last written
  std::thread committer_;

  std::mutex heads_mu_;
  // Durable heads; guarded by heads_mu_.
  std::unordered_map<std::string, store::Head> heads_;
  // Tenant -> deletion certificate; guarded by heads_mu_.
  std::unordered_map<std::string, std::string> purged_;
  // Tenant -> why it is quarantined; guarded by heads_mu_.
  std::unordered_map<std::string, std::string> quarantined_;

  // Sequencer thread only: heads including groups not yet durable, event
  // ids of those groups (with the commit that writes them), and the number
  // of the last group sequenced.
  std::unordered_map<std::string, store::Head> pending_heads_;
  std::deque<std::pair<uint64_t, std::unordered_map<std::string, FirstRecord>>>
      pending_ids_;
  uint64_t last_commit_ = 0;
  // Sequencer thread only: each tenant's compact range including the groups
  // handed over but not yet durable.
  std::unordered_map<std::string, chain::CompactRange> ranges_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SEQUENCER_H_
