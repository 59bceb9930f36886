// Storage: the daemon's RocksDB, laid out as verifier/store/layout.h says.
//
// Open() takes RocksDB's exclusive LOCK on the directory: a second process
// (another daemon, or a tool opening it read-write) fails to open it. The
// offline verifier must use a secondary instance or a backup instead.
//
// Thread-safe: all methods may be called concurrently; Write() is called only
// by the sequencer.
#ifndef INDELIBLE_DAEMON_WRITE_STORAGE_H_
#define INDELIBLE_DAEMON_WRITE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "daemon/write/node_cache.h"
#include "verifier/chain/merkle.h"
#include "verifier/store/layout.h"
#include "verifier/store/rocks_status.h"

namespace indelible {

struct StorageOptions {
  // Compression of the bodies column family (canonical events compress well).
  bool compress = true;
  // RocksDB block cache for all column families, bytes. 48 MiB keeps the
  // peak resident set of the benchmark suite under 300 MiB
  // (docs/OPERATIONS.md, "Memory").
  size_t block_cache_bytes = 48 << 20;
  // Memtable size per column family, bytes; 0 keeps RocksDB's default
  // (64 MiB). After a full disk RocksDB resumes writes only once this much
  // space is free again, so a small volume needs a small value.
  size_t write_buffer_bytes = 0;
  // Most bytes of write-ahead log kept: past it RocksDB flushes the column
  // families that pin the oldest log (the heads and the small ones, written
  // rarely but continuously), so old logs can go. 0: RocksDB's default
  // (4 x the memtables), which let the log grow to ~3x the table files.
  uint64_t max_total_wal_bytes = 256ull << 20;
  // Most memory of all memtables together: past it RocksDB flushes the
  // largest. 0: no common limit (each column family has its own).
  size_t memtable_budget_bytes = 112 << 20;
  // Retention's compaction filters (retention_filter.h); null = none.
  std::shared_ptr<rocksdb::CompactionFilterFactory> bodies_filter;
  std::shared_ptr<rocksdb::CompactionFilterFactory> event_ids_filter;
  // The Env RocksDB does its file I/O through; null = the default. Tests
  // pass one whose files fail on command (fault injection).
  rocksdb::Env* env = nullptr;
};

// The block cache is split into 2^bits shards, each an LRU list of its own
// capacity. RocksDB's default makes shards of 512 KiB to 1 MiB in caches
// up to 64 MiB (64 of 768 KiB for the 48 MiB default), about the size of
// an event-id table's whole filter (700 KB for 8 MiB of ids): two in a shard
// evicted each other, and every new event id's lookup read and checksummed
// them from the file again. Shards are kept at kMinBlockCacheShardBytes or
// more (up to 64 of them; one if the cache is smaller): 8 of 6 MiB for the
// 48 MiB default.
inline constexpr size_t kMinBlockCacheShardBytes = 4 << 20;
int BlockCacheShardBits(size_t cache_bytes);

// RocksDB's background jobs: one flush and one compaction at a time (two
// cores, shared with the write path); one more compaction while a manual
// one runs (Storage::ExtraCompactionSlot).
inline constexpr int kBackgroundJobs = 2;

// A stored record; salt and ce are empty when the body was pruned.
struct StoredRecord {
  std::string tenant;
  uint64_t seq = 0;
  store::Skeleton skeleton;
  bool pruned = false;
  std::string salt;
  std::string ce;
  // A pruned record: the category its skeleton keeps for its leaf
  // (layout.h); nullopt for a record with a body.
  std::optional<std::string> leaf_category;
};

// The category a record's leaf commits to when its body and event-id entry
// were both pruned before the store's tree was built (docs/FORMAT.md).
inline constexpr char kUnknownCategory[] = "";

class Storage {
 public:
  // Opens (creating if missing) the data directory. FailedPrecondition if
  // another process holds it, DataLoss if it is not an Indelible v1 store.
  static absl::StatusOr<std::unique_ptr<Storage>> Open(
      const std::string& dir, const StorageOptions& options);
  // Every acknowledged write is already synced; the memtables are flushed
  // into tables (errors logged, not fatal), so the write-ahead log is
  // empty and neither the next start nor a check of the stopped store
  // (`indelible-verify check` replays it) has to read it again.
  ~Storage();

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Every tenant's head, read from the heads column family.
  absl::StatusOr<std::vector<std::pair<std::string, store::Head>>> LoadHeads();
  // One tenant's head; NotFound if the tenant has no records.
  absl::StatusOr<store::Head> GetHead(std::string_view tenant);
  // The seq stored under (tenant, event_id), or nullopt.
  absl::StatusOr<std::optional<uint64_t>> LookupEventId(
      std::string_view tenant, std::string_view event_id);
  // The same for each of `keys` (store::EventIdKey), in order, in one
  // batched read (RocksDB MultiGet: the filters and index blocks of each
  // table are probed for all keys together).
  std::vector<absl::StatusOr<std::optional<uint64_t>>> LookupEventIds(
      const std::vector<std::string>& keys);
  absl::StatusOr<store::Skeleton> GetSkeleton(std::string_view tenant,
                                              uint64_t seq);
  // The stored body value of (tenant, seq), u64(received_at) || salt || CE,
  // from its run (store::BodyRun), or nullopt if there is none (pruned);
  // DataLoss if the run does not decode up to seq.
  absl::StatusOr<std::optional<std::string>> GetBody(std::string_view tenant,
                                                     uint64_t seq);
  // Up to `limit` records of `tenant` with seq >= from_seq, in seq order;
  // a pruned one with the category of its leaf.
  absl::StatusOr<std::vector<StoredRecord>> ReadRecords(
      std::string_view tenant, uint64_t from_seq, size_t limit);

  // A record's event-id row: `key` (store::EventIdKey) maps to
  // EncodeEventIdValue(seq, received_at_ns, category). `key` and `category`
  // are views: what they point at must live until PutChunkRows.
  struct EventIdRow {
    std::string_view key;
    uint64_t seq = 0;
    uint64_t received_at_ns = 0;
    std::string_view category;
  };
  // What PutRecord holds back until PutChunkRows: the event-id rows of a
  // chunk, and the open run of bodies (store::BodyRun) of one tenant with
  // the run of their skeletons.
  struct ChunkRows {
    std::vector<EventIdRow> ids;
    std::string run_key;  // key(tenant, first seq) of the open run
    std::string run;
    std::string skeleton_run;
    size_t run_records = 0;  // 0: no run is open
    uint64_t run_next_seq = 0;
  };
  // Helpers that put one record's rows into `batch`: its body and its
  // skeleton (which keeps `category`; skeleton.category is not read) into
  // the open runs of `rows`, which go into `batch` as one row each, under
  // the same key, once the next body is not the run's tenant's next seq, or
  // the run is full (store::kBodyRunMaxRecords, kBodyRunMaxBytes), or at
  // PutChunkRows; and
  // its event-id row (under `event_id_key`, store::EventIdKey) into
  // `rows->ids`. Called once per event on the write path: the encodings go
  // through per-thread buffers, not an allocation per row.
  void PutRecord(rocksdb::WriteBatch* batch, std::string_view tenant,
                 uint64_t seq, const store::Skeleton& skeleton,
                 std::string_view body, std::string_view event_id_key,
                 std::string_view category, ChunkRows* rows);
  // Puts the open runs and the event-id rows of `rows` into `batch`,
  // and clears them: the ids in key order. The event_ids
  // column family keeps a memtable insert hint per tenant: in key order,
  // each insert of a tenant's id takes up the skip-list search near where
  // the tenant's previous one ended, instead of from the top.
  void PutChunkRows(rocksdb::WriteBatch* batch, ChunkRows* rows);
  void PutHead(rocksdb::WriteBatch* batch, std::string_view tenant,
               const store::Head& head);

  // One tenant's signed checkpoints of one size, v1 (key(tenant, seq) in
  // checkpoints) and v2 (key(tenant, size) in checkpoints_v2); an empty
  // note is not written.
  struct CheckpointNotes {
    std::string tenant;
    uint64_t size = 0;
    std::string v1;
    std::string v2;
  };
  // Writes every note of `notes` in one synced write: a checkpointer round
  // costs one sync however many tenants it signs for, not two per tenant.
  absl::Status PutCheckpoints(const std::vector<CheckpointNotes>& notes);
  // The newest checkpoint (min_seq == 0) or the oldest with seq >= min_seq;
  // NotFound if there is none.
  absl::StatusOr<std::string> GetCheckpoint(std::string_view tenant,
                                            uint64_t min_seq);
  // The Merkle tree (layout.h, "tree"): puts one node's row into `batch`.
  // REQUIRES: store::IsStoredNode(node).
  void PutTreeNode(rocksdb::WriteBatch* batch, std::string_view tenant,
                   const chain::NodeId& node, const chain::Digest& hash);
  // The hashes of `nodes`, in order: from the node cache, else stored ones
  // in one MultiGet and lower ones from their leaves (store::ResolveNodes).
  // REQUIRES: every node is complete (covers leaves the store holds). DataLoss naming the node or
  // seq if a row or skeleton is missing or malformed.
  absl::StatusOr<std::vector<chain::Digest>> GetTreeNodes(
      std::string_view tenant, const std::vector<chain::NodeId>& nodes);
  // The proof hashes of `plan` (chain::InclusionPlan/ConsistencyPlan): each
  // element's stored nodes folded into one hash, in order, from one
  // GetTreeNodes.
  absl::StatusOr<std::vector<chain::Digest>> ProofHashes(std::string_view tenant,
                                                         const chain::ProofPlan& plan);
  // The tenant's compact range of `size` leaves, from its stored nodes.
  absl::StatusOr<chain::CompactRange> LoadCompactRange(std::string_view tenant,
                                                       uint64_t size);
  // The leaf hashes of leaves [begin, end) from their skeletons; DataLoss
  // naming the seq if one is missing or malformed.
  absl::StatusOr<std::vector<chain::Digest>> LeafHashes(std::string_view tenant, uint64_t begin,
                                                        uint64_t end);

  // Upgrades a store written before the tree existed (no "tree" marker):
  // builds every tenant's tree from its skeletons and categories (from the
  // body, else the event-id index, else kUnknownCategory), logging progress,
  // then writes the marker. A store in the layout of store::kTreeMarkerV1
  // has its leaf rows' categories moved into the skeletons and its rows
  // below store::kLowestStoredLevel deleted. Does nothing if the marker is
  // the current one. Then MoveLegacyEventIds. Call before anything appends.
  absl::Status BuildMissingTrees();

  // v2 checkpoints: key(tenant, size) -> signed note, written with sync=true.
  absl::Status PutCheckpointV2(std::string_view tenant, uint64_t size,
                               std::string_view note);
  // The newest v2 checkpoint (min_size == 0) or the one of the smallest size
  // >= min_size, as (size, note); NotFound if there is none.
  absl::StatusOr<std::pair<uint64_t, std::string>> GetCheckpointV2(
      std::string_view tenant, uint64_t min_size);

  // Small values in the default column family (format marker, key history,
  // retention overrides, holds, purge certificates).
  absl::Status PutMeta(std::string_view key, std::string_view value);
  void PutMeta(rocksdb::WriteBatch* batch, std::string_view key,
               std::string_view value);
  void DeleteMeta(rocksdb::WriteBatch* batch, std::string_view key);
  // Every (key, value) of the default column family whose key starts with
  // `prefix`.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ScanMeta(
      std::string_view prefix);

  // Adds to `batch` the deletion of every body (salt and canonical event) of
  // `tenant`. What holds only hashes stays: skeletons, tree nodes,
  // checkpoints (v1 and v2) and the head, so the purged log can still be
  // proven to extend what an auditor kept (docs/RETENTION.md, "Tenant
  // purge"). Its event ids are not one key range: the batch also marks them
  // for deletion (store::kPurgingEventIdsPrefix), which
  // DeleteTenantEventIds does.
  void DeleteTenantContent(rocksdb::WriteBatch* batch, std::string_view tenant);
  // Deletes the event-id rows of a purged tenant (store::DeleteTenantsEventIds:
  // a scan of the whole index, synced writes of its own), then its mark.
  // Open calls it for every mark left by a purge the daemon did not finish.
  absl::Status DeleteTenantEventIds(std::string_view tenant);

  // Compacts the bodies and event_ids column families down to the last
  // level, so retention's filters see every row (the daemon calls it
  // through retention_compaction.h, which first updates the horizons).
  absl::Status CompactForRetention();
  // Flushes every memtable and compacts every column family to the last
  // level: afterwards deleted rows are gone from the files (obsolete WAL and
  // table files are removed by RocksDB).
  absl::Status CompactAll();
  // What a purge needs of CompactAll, for a purged `tenant` (its bodies and
  // event ids deleted): flushes every memtable (the write-ahead log that
  // held the content is retired), then compacts the tenant's key range of
  // the bodies and the whole idempotency index, where its ids are spread,
  // to the last level. Skeletons, tree, heads and checkpoints hold hashes
  // only and are left to RocksDB.
  absl::Status CompactPurgedTenant(std::string_view tenant);

  // Writes `batch` with sync=true: when OK is returned the batch is on disk.
  // ResourceExhausted when the disk is full.
  absl::Status WriteSynced(rocksdb::WriteBatch* batch);

  // Tries to clear a background error (e.g. after space was freed).
  absl::Status Resume();

  rocksdb::DB* db() { return db_.get(); }
  // Every column family handle (for properties in metrics and health).
  const std::vector<rocksdb::ColumnFamilyHandle*>& column_families() const {
    return handles_;
  }

 private:
  // The stored rows of `nodes` (all store::IsStoredNode), in one MultiGet.
  absl::StatusOr<std::vector<chain::Digest>> GetTreeRows(std::string_view tenant,
                                                         const std::vector<chain::NodeId>& nodes);
  // Moves the rows of a store's legacy event-id index (store::kLegacyEventIdsCf,
  // keyed tenant first) into the current one and drops the legacy column
  // family; does nothing if there is none. Open calls it when the tree needs
  // no upgrade, else BuildMissingTrees after the upgrade, which reads the
  // legacy index by tenant.
  absl::Status MoveLegacyEventIds();
  // Puts the new form of one legacy row into the batch; false if it skips it.
  using MoveRow = std::function<bool(const rocksdb::Slice& key, const rocksdb::Slice& value,
                                     rocksdb::WriteBatch* batch)>;
  // Moves every row of the legacy column family *legacy through `move`, in
  // batches of `rows_per_batch` rows moved or 16 MiB (logging
  // event=<event>_progress after each), syncs, then drops the column family
  // and sets *legacy to null. The count of rows moved.
  absl::StatusOr<uint64_t> MoveLegacyRows(rocksdb::ColumnFamilyHandle** legacy,
                                          std::string_view event, size_t rows_per_batch,
                                          const MoveRow& move);
  // Moves the bodies of a store's legacy column family (store::kLegacyBodiesCf,
  // one per row) into kBodiesCf, each as a run of one, and drops the legacy
  // column family; does nothing if there is none. Open calls it first.
  absl::Status MoveLegacyBodies();
  // The same for skeletons (store::kLegacySkeletonsCf into kSkeletonsCf).
  absl::Status MoveLegacySkeletons();
  // Both: every row of *legacy into `runs` as a run of one under its key
  // (a row whose key is not key(tenant, seq) as it is), logging
  // event=<event>_start, _progress and _done.
  absl::Status MoveIntoRunsOfOne(rocksdb::ColumnFamilyHandle** legacy,
                                 rocksdb::ColumnFamilyHandle* runs, std::string_view event);
  // DataLoss for a row of `tenant`'s skeletons that does not decode, or a
  // skeleton that does not, named at `seq`.
  static absl::Status SkeletonDamaged(std::string_view tenant, uint64_t seq);
  // DataLoss for a row of `tenant`'s bodies that does not decode, named at
  // the seq of `body_key` (store::BodyRecords' damaged body) if it is the
  // tenant's key(tenant, seq), else at `seq`.
  static absl::Status BodiesDamaged(std::string_view tenant, std::string_view body_key,
                                    uint64_t seq);
  // Puts the open runs of `rows`, if any, into `batch`.
  void PutBodyRun(rocksdb::WriteBatch* batch, ChunkRows* rows);
  // LookupEventId of a store::EventIdKey.
  absl::StatusOr<std::optional<uint64_t>> LookupEventIdKey(const std::string& key);
  // While a manual compaction (a purge's, retention's) runs, RocksDB gets
  // one more background job (kBackgroundJobs + 1): a second compaction
  // slot, so its own compactions from level 0 go on beside the manual one
  // instead of waiting for it while flushes pile up (docs/RETENTION.md,
  // "Tenant purge"). Counted, so concurrent manual compactions share it.
  class ExtraCompactionSlot;
  Storage() = default;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* skeletons_ = nullptr;
  rocksdb::ColumnFamilyHandle* bodies_ = nullptr;
  rocksdb::ColumnFamilyHandle* heads_ = nullptr;
  rocksdb::ColumnFamilyHandle* event_ids_ = nullptr;
  // Until MoveLegacyEventIds has run on an older store.
  rocksdb::ColumnFamilyHandle* legacy_event_ids_ = nullptr;
  // Until MoveLegacyBodies has run on an older store (within Open).
  rocksdb::ColumnFamilyHandle* legacy_bodies_ = nullptr;
  // Until MoveLegacySkeletons has run on an older store (within Open).
  rocksdb::ColumnFamilyHandle* legacy_skeletons_ = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints_ = nullptr;
  rocksdb::ColumnFamilyHandle* tree_ = nullptr;
  // Complete nodes read or hashed by GetTreeNodes (about 6 MiB at most).
  NodeCache node_cache_{1 << 15};
  rocksdb::ColumnFamilyHandle* checkpoints_v2_ = nullptr;
  std::mutex manual_compactions_mu_;
  int manual_compactions_ = 0;  // guarded by manual_compactions_mu_
};

// The one conversion of rocksdb::Status to absl::Status
// (verifier/store/rocks_status.h).
using store::FromRocksDb;

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_STORAGE_H_
