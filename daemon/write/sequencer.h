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
// (docs/FORMAT.md, format v2). Linking a record appends its leaf to the
// tenant's frontier and puts the nodes it completes into the group's
// WriteBatch (tree_writer.h). Start() builds missing trees
// (Storage::BuildMissingTrees) and loads the frontiers from the stored
// nodes; a failed write reloads them with the heads.
//
// Tenant state (heads, frontiers, purged and quarantined tenants) lives in
// a TenantTable (tenants.h); a purge is a PurgeRequest of its own, queued in
// order with the appends and committed alone.
//
// Flow control: every request's events count as held from Submit until it
// is answered (admission.h). TrySubmit refuses a request the bound
// (Options::max_queued_events) does not allow; RoomOrWait lets a stream
// wait for room before it reads its next message.
//
// Thread-safe: Submit() and GetHead() may be called from any thread.
#ifndef INDELIBLE_DAEMON_WRITE_SEQUENCER_H_
#define INDELIBLE_DAEMON_WRITE_SEQUENCER_H_

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
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "daemon/clock.h"
#include "daemon/write/admission.h"
#include "daemon/write/storage.h"
#include "daemon/write/tenants.h"
#include "daemon/write/tree_writer.h"
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
    // Flow control (admission.h): most events admitted and not yet answered
    // before TrySubmit refuses and streams stop reading.
    size_t max_queued_events = 8192;
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
  // Always admitted: counts toward the bound, but is never refused by it.
  void Submit(std::vector<PreparedEvent> events, Callback done,
              Extra extra = nullptr, StreamFailed stream = nullptr);
  // Submit, if Options::max_queued_events allows `events` now (or nothing
  // is held). Else returns false: nothing queued, `done` never runs.
  bool TrySubmit(std::vector<PreparedEvent> events, Callback done);
  // True if a stream may read its next message (held and reserved events
  // under max_queued_events, admission.h); else `wake` runs once it may (on
  // the thread that freed the room; must not block), and false.
  bool RoomOrWait(std::function<void()> wake) {
    return admission_.RoomOrWait(std::move(wake));
  }
  // What a refused caller is told: the bound, and when to retry.
  size_t max_queued_events() const { return admission_.max_events(); }
  uint64_t RetryAfterMs() const { return admission_.RetryAfterMs(); }

  // Deletes every row of `tenant` and marks it purged, in one synced batch
  // ordered with the appends around it. `certify` gets the final head and
  // returns the deletion certificate stored (and returned) with the purge,
  // or an error that fails the purge (nothing deleted). NotFound if the
  // tenant has no records, FailedPrecondition if it was already purged.
  using Certify = std::function<absl::StatusOr<std::string>(const store::Head& final_head)>;
  using PurgeDone = std::function<void(absl::StatusOr<std::string>)>;
  void SubmitPurge(std::string tenant, Certify certify, PurgeDone done);

  // The purge certificate of `tenant`, or nullopt if it was not purged.
  std::optional<std::string> PurgeCertificate(const std::string& tenant) {
    return tenants_.PurgeCertificate(tenant);
  }

  // Why `tenant` is quarantined, or nullopt if it is not. A quarantined
  // tenant's stored chain is damaged (a table file failed its checksum, or
  // its head does not match its last record): appends to it fail with
  // DataLoss naming the tenant, so a broken chain is never extended. Start()
  // checks every tenant; a DataLoss read while committing adds the tenant.
  // Lasts until the process exits (the next start checks again).
  std::optional<std::string> Quarantined(const std::string& tenant) {
    return tenants_.Quarantined(tenant);
  }
  // DataLoss naming `tenant` and the reason it is quarantined.
  static absl::Status QuarantineError(const std::string& tenant,
                                      const std::string& reason) {
    return TenantTable::QuarantineError(tenant, reason);
  }

  // Commits what is queued, then stops both threads. Idempotent. Must not
  // be called from a callback (it waits for the thread running it).
  void Stop();

  // The committed head of `tenant` (seq 0 and genesis if it has no records).
  store::Head GetHead(const std::string& tenant) { return tenants_.GetHead(tenant); }
  // The committed heads of all tenants with records.
  std::vector<std::pair<std::string, store::Head>> AllHeads() {
    return tenants_.AllHeads();
  }

 private:
  // An append: one or more events committed together.
  struct Request {
    std::vector<PreparedEvent> events;
    Callback done;  // null once the request is answered with an error
    Extra extra;
    StreamFailed stream;
  };
  // A purge, queued after the `after`-th append request and committed alone.
  struct PurgeRequest {
    std::string tenant;
    Certify certify;
    PurgeDone done;
    uint64_t after = 0;
  };

  // Event id keys (store::EventIdKey) of records linked but not yet durable.
  // Node-based: Resolved and conflicts point at the values while more are
  // added. A key is hashed once and looked up in every map with that hash.
  using IdMap = absl::node_hash_map<std::string, FirstRecord>;

  // A group: linked by the sequencer thread, then written by the committer.
  struct Group {
    uint64_t number = 0;  // 1, 2, ... in the order handed over
    std::vector<Request> requests;
    std::vector<std::vector<Receipt>> receipts;  // per request
    rocksdb::WriteBatch batch;
    HeadMap new_heads;
    FrontierMap new_frontiers;
    // Event ids first stored by this group (moved to pending_ids_ when the
    // group is handed over).
    IdMap new_ids;
    size_t events = 0;
    std::chrono::steady_clock::time_point start;  // its first link
  };

  // What the sequencer thread takes from the queues in one go: appends to
  // link, or one purge.
  struct Work {
    std::vector<Request> chunk;
    std::optional<PurgeRequest> purge;
    bool hand = false;    // hand the group over first, nothing taken
    bool failed = false;  // a write failed and is not recovered yet
  };

  // How one event id of a request resolved: new (first stored by this
  // request: `first` is its entry in the group's new_ids), a repeat of an
  // event in flight (`first` is that event's), or a repeat of a stored one
  // (its receipt is filled in already).
  struct Resolved {
    enum class Kind { kNew, kRepeatsInFlight, kRepeatsStored };
    Kind kind = Kind::kNew;
    FirstRecord* first = nullptr;
    // kNew: the id's key in the group's new_ids (its node outlives the
    // group's linking).
    std::string_view key;
  };
  // A conflict with an event of an earlier request in the same chunk, which
  // has no seq until the chunk is linked.
  struct UnlinkedConflict {
    size_t ei = 0;                       // the refused request's event
    const FirstRecord* first = nullptr;  // the event it conflicts with
  };
  // What linking a chunk changed in its group before a failed read, so it
  // can be taken out again (the batch rows go with a save point).
  struct ChunkUndo {
    HeadMap heads_before;
    FrontierMap frontiers_before;
    std::vector<std::string_view> ids_added;  // keys of g->new_ids' nodes
  };
  // A chunk's event ids (store::EventIdKey), request by request, and the
  // seq storage holds under each: looked up in one batched read before
  // anything of the chunk is linked.
  struct ChunkIds {
    std::vector<std::string> keys;
    std::vector<size_t> first;  // per request: the index of its first id
    std::vector<absl::StatusOr<std::optional<uint64_t>>> stored;
  };
  // A storage read failed while resolving ids: the chunk fails.
  struct ReadFailure {
    std::string tenant;
    absl::Status status;
  };

  // Queues a request whose events are taken from admission_; gives them
  // back when `done` runs.
  void Enqueue(std::vector<PreparedEvent> events, Callback done, Extra extra,
               StreamFailed stream);
  void Run();  // the sequencer thread
  // Waits until there is work for the sequencer thread (false: stopping,
  // and everything queued is committed).
  bool Take(const Group* next, Work* work);
  bool CanLink(const Group* next) const;  // REQUIRES: mu_ held
  bool PurgeDue() const;                  // REQUIRES: mu_ held
  void RunCommitter();

  // The steps of linking a chunk onto `g` (each request is moved into g,
  // or answered with an error).
  void Link(std::vector<Request>* chunk, Group* g);
  // Admission: the stream has not failed, and no tenant is purged or
  // quarantined. Else answers the request and returns false.
  bool Admit(Request* req);
  // De-duplication: resolves every event id of `req` before anything of it
  // is linked. A conflict sets *refused (nothing to undo but the ids added),
  // and *conflict if the first is an earlier request's event not linked yet.
  // `ids` holds the chunk's ids; `ri` is req's index in the chunk.
  std::optional<ReadFailure> Deduplicate(Request* req, Group* g, ChunkUndo* undo,
                                         ChunkIds* ids, size_t ri,
                                         std::vector<Resolved>* resolved,
                                         std::vector<Receipt>* receipts,
                                         absl::Status* refused,
                                         UnlinkedConflict* conflict);
  // The first record in flight under `id_key` (this group or a handed one).
  FirstRecord* InFlight(Group* g, const std::string& id_key);
  // The chunk's ids, each looked up in storage.
  ChunkIds LookUpIds(const std::vector<Request>& chunk);
  // The stored first record of `e`'s id, which storage holds at `seq`
  // (nullopt: none), as a duplicate receipt; nullopt if there is none or
  // its body was pruned (the id went with it).
  absl::StatusOr<std::optional<FirstRecord>> StoredFirst(const PreparedEvent& e,
                                                         std::optional<uint64_t> seq);
  // Links the new events of the chunk's live requests, grouped by tenant,
  // and fills in their receipts and their first records' receipts.
  void LinkNew(std::vector<Request>* chunk, Group* g,
               const std::vector<std::vector<Resolved>>& resolved,
               std::vector<std::vector<Receipt>>* receipts);
  // The head and frontier in g of the tenant being linked (LinkNew links a
  // chunk tenant by tenant, so they are found once per tenant).
  struct Linking {
    std::string_view tenant;
    store::Head* head = nullptr;
    chain::CompactRange* frontier = nullptr;
  };
  // Linking: chains one new event onto its tenant's head, puts its rows and
  // its tree nodes into g's batch, and fills in its receipt.
  void LinkEvent(PreparedEvent* e, std::string_view id_key, Group* g, TreeWriter* tree,
                 Linking* at, Receipt* rc, Storage::ChunkRows* rows);
  // Takes the chunk's rows out of g again and answers every request of it.
  void FailChunk(std::vector<Request>* chunk, Group* g, ChunkUndo* undo,
                 const ReadFailure& failure);

  void WriteGroup(Group* g);
  // Empties a written group for reuse as spare_ (committer thread).
  static void Empty(Group* g);
  // Hands *next to the idle committer (leaving *next null).
  void Hand(std::unique_ptr<Group>* next);
  // Before `g` is handed over: numbers it and makes its heads and new ids
  // the pending ones.
  void Publish(Group* g);
  // Blocks until every handed group is written and answered.
  void Drain();
  // Sequencer thread, after Drain(): if a write failed, resumes RocksDB and
  // reloads the tenant table. False if storage is still unavailable.
  bool RecoverIfFailed();
  // Sequencer thread: forgets uncommitted ids of groups now durable.
  void ForgetDurableIds();
  // Sequencer thread, after Drain() and RecoverIfFailed().
  void CommitPurge(PurgeRequest* request);

  Storage* const storage_;
  Clock* const clock_;
  const Options options_;
  TenantTable tenants_;
  Admission admission_;

  std::mutex mu_;
  std::condition_variable cv_;  // the sequencer thread waits on it
  std::deque<Request> queue_;   // guarded by mu_
  // Purges in order; each one's `after` counts the appends queued before
  // it. Guarded by mu_, as is the count of appends queued and taken.
  std::deque<PurgeRequest> purges_;
  uint64_t appends_queued_ = 0;
  uint64_t appends_taken_ = 0;
  size_t queued_events_ = 0;   // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread writer_;

  // The committer thread: the group handed to it, whether it is writing
  // one, and whether to stop. Guarded by mu_.
  std::condition_variable commit_cv_;
  std::unique_ptr<Group> handed_;
  // The last group written, emptied: the next group reuses its containers,
  // above all the batch's buffer (megabytes under streaming ingest, which a
  // new batch would grow again by copying and touching fresh pages).
  std::unique_ptr<Group> spare_;
  bool committing_ = false;
  bool stop_committer_ = false;
  // The error of a failed write, until the sequencer thread has recovered;
  // every group handed meanwhile fails with it. Guarded by mu_.
  absl::Status write_failed_;
  std::atomic<uint64_t> durable_commit_{0};  // number of the last written
  std::thread committer_;

  // Sequencer thread only: event ids of groups handed over but not yet
  // durable (with the number of the group that writes them), and the
  // number of the last group handed over.
  std::deque<std::pair<uint64_t, IdMap>> pending_ids_;
  uint64_t last_commit_ = 0;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_SEQUENCER_H_
