#include "daemon/write/storage.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "daemon/write/memtable_rep.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "spdlog/spdlog.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_partitioner.h"
#include "rocksdb/table.h"
#include "verifier/chain/text.h"
#include "verifier/store/body_records.h"
#include "verifier/store/event_ids.h"

namespace indelible {
namespace {

// The tenant prefix `tenant || 0x00` of a per-tenant record key (layout.h).
// Given as a column family's memtable insert-hint extractor, the memtable
// keeps an insert position per tenant: a group's rows arrive in each
// tenant's key order but with the tenants interleaved, and each row is then
// inserted next to its tenant's previous one instead of by a search of the
// whole skip list. About 250 bytes per tenant written to a memtable, in
// its arena (so within the memtable budget); for tree rows per tenant and
// level, at most one level per doubling of the tenant's records in it.
//
// RocksDB 7.8 keeps these positions in one map for a memtable's entries and
// its range tombstones alike, so a range tombstone must never take a hint
// (it would be linked into the entries' list). Only record keys, with at
// least the 8 bytes of a seq after the prefix, are in the domain; the
// bounds of every DeleteRange (`tenant || 0x00`, `tenant || 0x00 || level`,
// `tenant || 0x01`) are not, and are inserted by a search.
class TenantPrefixTransform final : public rocksdb::SliceTransform {
 public:
  // `extra` bytes after `tenant || 0x00` belong to the prefix too: 1 for
  // tree rows, whose levels are each appended in index order.
  explicit TenantPrefixTransform(size_t extra = 0)
      : extra_(extra),
        name_(extra == 0 ? "indelible.TenantPrefix" : "indelible.TenantLevelPrefix") {}
  const char* Name() const override { return name_; }
  // The rows' keys end in a fixed suffix (SeqKey, TreeKey: `extra` bytes
  // and a u64) after the tenant's NUL, and a tenant id holds no NUL: the
  // prefix is found from the end, without a search (memchr was 1 % of the
  // daemon's samples, once per memtable insert).
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() >= extra_ + 9 && key[key.size() - extra_ - 9] == '\0';
  }

 private:
  const size_t extra_;
  const char* const name_;
};

// Cuts a compaction's output file where the tenant changes, once the file
// holds kMinBytes. A tenant's records are appended in key order, so a table
// of one tenant's new records overlaps nothing below it and moves down the
// levels without being rewritten. A flush of interleaved tenants cannot be
// cut (RocksDB does not partition flushes): its first compaction into L1
// splits it per tenant, and from there tables move down. A table that
// spans a tenant boundary would overlap that tenant's whole history on the
// next level and rewrite it at every compaction into it.
// Tenants with less than kMinBytes in a compaction share a table, so many
// small tenants do not become many tiny files.
class TenantPartitioner final : public rocksdb::SstPartitioner {
 public:
  static constexpr uint64_t kMinBytes = 1 << 20;
  const char* Name() const override { return "indelible.TenantPartitioner"; }
  rocksdb::PartitionerResult ShouldPartition(
      const rocksdb::PartitionerRequest& r) override {
    if (r.current_output_file_size < kMinBytes) return rocksdb::kNotRequired;
    return Tenant(*r.prev_user_key) == Tenant(*r.current_user_key) ? rocksdb::kNotRequired
                                                                   : rocksdb::kRequired;
  }
  // A table of one tenant moves down; one that spans tenants is rewritten,
  // which cuts it.
  bool CanDoTrivialMove(const rocksdb::Slice& smallest, const rocksdb::Slice& largest) override {
    return Tenant(smallest) == Tenant(largest);
  }

 private:
  static std::string_view Tenant(const rocksdb::Slice& key) {
    const std::string_view k(key.data(), key.size());
    return k.substr(0, k.find('\0'));
  }
};

class TenantPartitionerFactory final : public rocksdb::SstPartitionerFactory {
 public:
  const char* Name() const override { return "indelible.TenantPartitionerFactory"; }
  std::unique_ptr<rocksdb::SstPartitioner> CreatePartitioner(
      const rocksdb::SstPartitioner::Context&) const override {
    return std::make_unique<TenantPartitioner>();
  }
};

using chain::ToAbsl;

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// `compression` applies at every level when compression is on: one type
// throughout lets a table of sequential keys (a tenant's records) move down
// the levels without being rewritten, so each byte is compressed once.
rocksdb::ColumnFamilyOptions CfOptions(const StorageOptions& o,
                                       std::shared_ptr<rocksdb::Cache> cache,
                                       bool point_lookups,
                                       rocksdb::CompressionType compression) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = std::move(cache);
  // Index and filter blocks live in the block cache, so the memory of open
  // table files is bounded by block_cache_bytes rather than growing with the
  // data (about 7 bytes per stored event when they were held outside it).
  // Level-0 files are the most read (new events are looked up in them):
  // their blocks stay pinned while the files exist.
  // Both are partitioned into blocks of metadata_block_size (4 KiB): a
  // table's whole filter can be larger than a cache shard
  // (BlockCacheShardBits), and such a block is dropped as soon as it is
  // used, so every lookup would read it again from disk. Only the small
  // top-level index of each table is pinned.
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = true;
  t.pin_top_level_index_and_filter = true;
  if (point_lookups) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Most point lookups are misses (a new event id is looked up before it
    // is stored): a bloom filter over the memtable's keys answers those
    // without a skip-list search.
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.memtable_whole_key_filtering = true;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  if (o.write_buffer_bytes > 0) cf.write_buffer_size = o.write_buffer_bytes;
  cf.compression = o.compress ? compression : rocksdb::kNoCompression;
  return cf;
}

// Replaces `cf`'s block-based table factory with one whose options `edit`
// has changed.
template <typename Edit>
void EditTableOptions(rocksdb::ColumnFamilyOptions* cf, Edit edit) {
  rocksdb::BlockBasedTableOptions t =
      *cf->table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  edit(&t);
  cf->table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
}

// RocksDB's info log (<dir>/LOG, the previous ones kept as LOG.old.<micros>)
// written with plain write(2), errors ignored. RocksDB's own file logger
// aborts (a debug assertion in WritableFileWriter) when it writes again after
// a write failed, which a full disk makes happen: the daemon must survive a
// full disk, and a lost log line is the lesser harm.
class InfoLog final : public rocksdb::Logger {
 public:
  static std::shared_ptr<rocksdb::Logger> Open(const std::string& dir,
                                               size_t keep) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path log = fs::path(dir) / "LOG";
    if (fs::exists(log, ec)) {
      timeval tv;
      gettimeofday(&tv, nullptr);
      fs::rename(log,
                 fs::path(dir) / absl::StrCat("LOG.old.",
                                              uint64_t(tv.tv_sec) * 1000000 + tv.tv_usec),
                 ec);
    }
    std::vector<fs::path> old;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().filename().string().rfind("LOG.old.", 0) == 0) old.push_back(e.path());
    }
    std::sort(old.begin(), old.end());
    for (size_t i = 0; i + keep < old.size(); ++i) fs::remove(old[i], ec);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return nullptr;
    return std::make_shared<InfoLog>(fd);
  }
  explicit InfoLog(int fd) : fd_(fd) {}
  ~InfoLog() override { ::close(fd_); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char buf[4096];
    timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm t;
    localtime_r(&tv.tv_sec, &t);
    int n = snprintf(buf, sizeof(buf), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ",
                     t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                     t.tm_min, t.tm_sec, static_cast<long>(tv.tv_usec));
    if (n < 0) return;
    int m = vsnprintf(buf + n, sizeof(buf) - n - 1, format, ap);
    if (m < 0) return;
    size_t len = std::min(sizeof(buf) - 2, static_cast<size_t>(n + m));
    if (buf[len - 1] != '\n') buf[len++] = '\n';
    std::lock_guard<std::mutex> l(mu_);
    (void)!::write(fd_, buf, len);  // a full disk loses the line, nothing else
  }

 private:
  std::mutex mu_;
  const int fd_;
};

// A compaction that reads a damaged table file fails with Corruption, and
// RocksDB would then refuse every write of every tenant (an unrecoverable
// background error). The failed compaction installs nothing, so the stored
// data is unchanged: keep the DB writable and leave the damage to the reads
// that reach it, which quarantine the tenant (Sequencer::Quarantined).
class CompactionCorruptionListener final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                         rocksdb::Status* bg_error) override {
    if (reason == rocksdb::BackgroundErrorReason::kCompaction &&
        bg_error->IsCorruption()) {
      spdlog::critical("event=storage_corruption during=compaction status=\"{}\" "
                       "message=\"a table file is damaged; writes continue, "
                       "tenants whose rows are damaged are quarantined\"",
                       bg_error->ToString());
      *bg_error = rocksdb::Status::OK();
    }
  }
};

// A manual compaction of a column family, or a key range of one, down to
// its last level.
// Automatic compactions go on beside it: with them held (RocksDB's
// default), the flushes of appends arriving meanwhile piled up in level 0
// until RocksDB stalled writes (docs/RETENTION.md, "Tenant purge"). The
// manual compaction takes each level's tables as it reaches the level, and
// compactions only move rows down, so a row present when it starts is
// rewritten by it.
rocksdb::CompactRangeOptions ForcedCompaction() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  o.exclusive_manual_compaction = false;
  return o;
}

}  // namespace

int BlockCacheShardBits(size_t cache_bytes) {
  int bits = 0;
  while (bits < 6 && (cache_bytes >> (bits + 1)) >= kMinBlockCacheShardBytes) ++bits;
  return bits;
}

absl::StatusOr<std::unique_ptr<Storage>> Storage::Open(
    const std::string& dir, const StorageOptions& options) {
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = kBackgroundJobs;
  db_opts.bytes_per_sync = 1 << 20;
  db_opts.wal_bytes_per_sync = 0;  // every write is synced anyway
  db_opts.keep_log_file_num = 5;
  db_opts.max_total_wal_size = options.max_total_wal_bytes;
  db_opts.db_write_buffer_size = options.memtable_budget_bytes;
  // One committer writes; AppendSkipListFactory takes one writer at a time.
  db_opts.allow_concurrent_memtable_write = false;
  db_opts.info_log = InfoLog::Open(dir, db_opts.keep_log_file_num);
  db_opts.listeners.push_back(std::make_shared<CompactionCorruptionListener>());
  if (options.env != nullptr) db_opts.env = options.env;

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes,
                                    BlockCacheShardBits(options.block_cache_bytes));
  // Bodies (canonical events) and event ids compress well: LZ4, a fraction
  // of ZSTD's CPU at flush and compaction (event ids that do not grow with
  // time make every compaction rewrite their tables). Skeletons are
  // hashes: not compressed.
  rocksdb::ColumnFamilyOptions bodies =
      CfOptions(options, cache, false, rocksdb::kLZ4Compression);
  bodies.compaction_filter_factory = options.bodies_filter;
  // A tenant's bodies of a chunk are one row (layout.h, BodyRun), so with
  // many tenants a flush's table holds small runs of each: compactions
  // from level 0 wait for 16 tables, which then hold longer runs of each
  // tenant, and rewrite less of level 1 per body (docs/PERFORMANCE.md).
  bodies.level0_file_num_compaction_trigger = 16;
  bodies.level0_slowdown_writes_trigger = 40;
  bodies.level0_stop_writes_trigger = 56;
  rocksdb::ColumnFamilyOptions event_ids =
      CfOptions(options, cache, true, rocksdb::kLZ4Compression);
  event_ids.compaction_filter_factory = options.event_ids_filter;
  // Every new event's id is looked up (one MultiGet per chunk), and a
  // partitioned filter costs a search of its partition index per key per
  // table (a third of the sequencer thread's lookup time). Event-id tables
  // below level 0 are kept at 8 MiB, so each one's whole filter (about
  // 700 KB) is a small part of a block-cache shard (BlockCacheShardBits);
  // level-0 tables' filters are pinned.
  EditTableOptions(&event_ids,
                   [](rocksdb::BlockBasedTableOptions* t) { t->partition_filters = false; });
  event_ids.target_file_size_base = 8 << 20;
  // Skeletons and bodies are appended in key order per tenant: they take
  // insert hints per tenant (TenantPrefixTransform). A hint is a skip-list
  // position in the memtable's arena, per tenant written to since the last
  // flush. Event ids, keyed id first, have no per-tenant prefix: a chunk's
  // ids go in sorted (PutChunkRows) without hints.
  rocksdb::ColumnFamilyOptions skeletons =
      CfOptions(options, cache, false, rocksdb::kNoCompression);
  skeletons.memtable_insert_with_hint_prefix_extractor =
      std::make_shared<TenantPrefixTransform>();
  bodies.memtable_insert_with_hint_prefix_extractor =
      skeletons.memtable_insert_with_hint_prefix_extractor;
  // Tables of per-tenant sequential keys are cut at tenant boundaries
  // (TenantPartitioner), and L1 is kept small: a compaction from L0 rewrites
  // every L1 table between its first and last tenant, while tables of L1
  // move on to L2 without being rewritten.
  auto partitioner = std::make_shared<TenantPartitionerFactory>();
  rocksdb::ColumnFamilyOptions tree = CfOptions(options, cache, true, rocksdb::kNoCompression);
  tree.memtable_insert_with_hint_prefix_extractor = std::make_shared<TenantPrefixTransform>(1);
  for (rocksdb::ColumnFamilyOptions* cf : {&skeletons, &bodies, &tree}) {
    cf->sst_partitioner_factory = partitioner;
    cf->max_bytes_for_level_base = 64 << 20;
  }
  // The committer's rows go into memtables built with this project's flags
  // (daemon/write/memtable_rep.h).
  auto memtable = std::make_shared<AppendSkipListFactory>();
  for (rocksdb::ColumnFamilyOptions* cf : {&skeletons, &bodies, &event_ids, &tree}) {
    cf->memtable_factory = memtable;
  }
  // Skeletons and bodies are read in runs (check, export, a proof's
  // subtree), and much of a flush's and a compaction's work is per block:
  // 16 KiB data blocks (docs/PERFORMANCE.md). Point lookups (event ids,
  // tree nodes) keep 4 KiB.
  for (rocksdb::ColumnFamilyOptions* cf : {&skeletons, &bodies}) {
    EditTableOptions(cf, [](rocksdb::BlockBasedTableOptions* t) { t->block_size = 16 << 10; });
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName,
       CfOptions(options, cache, true, rocksdb::kNoCompression)},
      {store::kSkeletonsCf, skeletons},
      {store::kBodiesCf, bodies},
      {store::kHeadsCf, CfOptions(options, cache, true, rocksdb::kNoCompression)},
      {store::kEventIdsCf, event_ids},
      {store::kCheckpointsCf, CfOptions(options, cache, false, rocksdb::kZSTD)},
      // Node hashes: random bytes, point reads (bloom filters help MultiGet).
      {store::kTreeCf, tree},
      {store::kCheckpointsV2Cf, CfOptions(options, cache, false, rocksdb::kZSTD)},
  };
  // A store from before the idempotency index was keyed id first still has
  // its index in the legacy column family: opened here, moved by
  // MoveLegacyEventIds. One from before bodies were kept in runs has them
  // one per row: moved by MoveLegacyBodies.
  std::vector<std::string> existing;
  const bool listed = rocksdb::DB::ListColumnFamilies(db_opts, dir, &existing).ok();
  auto has = [&](const char* cf) {
    return listed && std::find(existing.begin(), existing.end(), cf) != existing.end();
  };
  const bool legacy_ids = has(store::kLegacyEventIdsCf);
  const bool legacy_bodies = has(store::kLegacyBodiesCf);
  const bool legacy_skeletons = has(store::kLegacySkeletonsCf);
  if (legacy_ids) {
    cfs.push_back({store::kLegacyEventIdsCf,
                   CfOptions(options, cache, true, rocksdb::kLZ4Compression)});
  }
  if (legacy_bodies) {
    cfs.push_back({store::kLegacyBodiesCf,
                   CfOptions(options, cache, false, rocksdb::kLZ4Compression)});
  }
  if (legacy_skeletons) {
    cfs.push_back({store::kLegacySkeletonsCf,
                   CfOptions(options, cache, false, rocksdb::kNoCompression)});
  }
  std::unique_ptr<Storage> s(new Storage());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(db_opts, dir, cfs, &s->handles_, &raw);
  if (!st.ok()) return FromRocksDb(st, absl::StrCat("open ", dir));
  s->db_.reset(raw);
  s->skeletons_ = s->handles_[1];
  s->bodies_ = s->handles_[2];
  s->heads_ = s->handles_[3];
  s->event_ids_ = s->handles_[4];
  s->checkpoints_ = s->handles_[5];
  s->tree_ = s->handles_[6];
  s->checkpoints_v2_ = s->handles_[7];
  size_t next_handle = 8;
  if (legacy_ids) s->legacy_event_ids_ = s->handles_[next_handle++];
  if (legacy_bodies) s->legacy_bodies_ = s->handles_[next_handle++];
  if (legacy_skeletons) s->legacy_skeletons_ = s->handles_[next_handle++];

  std::string format;
  st = s->db_->Get(rocksdb::ReadOptions(), store::kFormatKey, &format);
  if (st.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    // A new store has its (empty) trees from the start.
    rocksdb::WriteBatch b;
    b.Put(store::kFormatKey, store::kFormatValue);
    b.Put(store::kTreeMarkerKey, store::kTreeMarkerValue);
    st = s->db_->Write(wo, &b);
    if (!st.ok()) return FromRocksDb(st, "write format marker");
  } else if (!st.ok()) {
    return FromRocksDb(st, "read format marker");
  } else if (format != store::kFormatValue) {
    return absl::DataLossError(absl::StrCat(
        dir, " holds format \"", format, "\", want ", store::kFormatValue));
  }
  // Every reader of bodies and skeletons after this point reads runs only
  // (the tree's upgrade, BuildMissingTrees, too).
  if (auto m = s->MoveLegacyBodies(); !m.ok()) return m;
  if (auto m = s->MoveLegacySkeletons(); !m.ok()) return m;
  // An upgrade of the tree reads the legacy index by tenant: the rows move
  // after it (BuildMissingTrees), or here if the tree needs none.
  std::string tree_marker;
  st = s->db_->Get(rocksdb::ReadOptions(), store::kTreeMarkerKey, &tree_marker);
  if (st.ok() && tree_marker == store::kTreeMarkerValue) {
    if (auto m = s->MoveLegacyEventIds(); !m.ok()) return m;
  } else if (!st.ok() && !st.IsNotFound()) {
    return FromRocksDb(st, "read tree marker");
  }
  // Purges whose event ids were not all deleted (the daemon stopped, or the
  // store is a backup taken meanwhile). Only a store with the current index
  // has such marks.
  auto purging = s->ScanMeta(store::kPurgingEventIdsPrefix);
  if (!purging.ok()) return purging.status();
  for (const auto& [key, value] : *purging) {
    const std::string tenant = key.substr(sizeof(store::kPurgingEventIdsPrefix) - 1);
    spdlog::info("event=purge_event_ids_resumed tenant={}", tenant);
    if (auto d = s->DeleteTenantEventIds(tenant); !d.ok()) return d;
  }
  return s;
}

absl::StatusOr<uint64_t> Storage::MoveLegacyRows(rocksdb::ColumnFamilyHandle** legacy,
                                                 std::string_view event, size_t rows_per_batch,
                                                 const MoveRow& move) {
  // Put is idempotent: an interrupted move starts again at the next open,
  // and the legacy column family goes only after every row is synced.
  constexpr size_t kBatchBytes = 16 << 20;
  uint64_t read = 0;  // rows moved
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), *legacy));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const bool moved = move(it->key(), it->value(), &batch);
    if (moved) ++read;
    if ((moved && read % rows_per_batch == 0) || batch.GetDataSize() >= kBatchBytes) {
      rocksdb::Status w = db_->Write(rocksdb::WriteOptions(), &batch);
      if (!w.ok()) return FromRocksDb(w, absl::StrCat("write ", ToAbsl(event)));
      batch.Clear();
      spdlog::info("event={}_progress rows={}", event, read);
    }
  }
  if (auto s = FromRocksDb(it->status(), absl::StrCat("scan for ", ToAbsl(event))); !s.ok()) {
    return s;
  }
  it.reset();
  if (auto s = WriteSynced(&batch); !s.ok()) return s;
  if (auto s = FromRocksDb(db_->DropColumnFamily(*legacy),
                           absl::StrCat("drop for ", ToAbsl(event)));
      !s.ok()) {
    return s;
  }
  handles_.erase(std::find(handles_.begin(), handles_.end(), *legacy));
  db_->DestroyColumnFamilyHandle(*legacy);
  *legacy = nullptr;
  return read;
}

absl::Status Storage::MoveLegacyEventIds() {
  if (legacy_event_ids_ == nullptr) return absl::OkStatus();
  spdlog::info("event=event_id_index_upgrade_start");
  uint64_t skipped = 0;
  auto moved = MoveLegacyRows(
      &legacy_event_ids_, "event_id_index_upgrade", 1 << 16,
      [&](const rocksdb::Slice& k, const rocksdb::Slice& value, rocksdb::WriteBatch* batch) {
        const std::string_view key = ToView(k);
        const size_t nul = key.find('\0');
        if (nul == std::string_view::npos) {
          ++skipped;
          return false;
        }
        batch->Put(event_ids_, store::EventIdKey(key.substr(0, nul), key.substr(nul + 1)),
                   value);
        return true;
      });
  if (!moved.ok()) return moved.status();
  if (skipped != 0) {
    spdlog::warn("event=event_id_index_upgrade_skipped rows={} message=\"rows without a "
                 "tenant were not moved\"",
                 skipped);
  }
  spdlog::info("event=event_id_index_upgrade_done rows={}", *moved);
  return absl::OkStatus();
}

absl::Status Storage::MoveLegacyBodies() {
  return MoveIntoRunsOfOne(&legacy_bodies_, bodies_, "bodies_upgrade");
}

absl::Status Storage::MoveLegacySkeletons() {
  return MoveIntoRunsOfOne(&legacy_skeletons_, skeletons_, "skeletons_upgrade");
}

absl::Status Storage::MoveIntoRunsOfOne(rocksdb::ColumnFamilyHandle** legacy,
                                        rocksdb::ColumnFamilyHandle* runs,
                                        std::string_view event) {
  if (*legacy == nullptr) return absl::OkStatus();
  spdlog::info("event={}_start", event);
  // Each row (a body or a skeleton) becomes a run of one under the same key.
  std::string run;
  auto moved = MoveLegacyRows(
      legacy, event, 1 << 14,
      [&](const rocksdb::Slice& key, const rocksdb::Slice& value, rocksdb::WriteBatch* batch) {
        std::string_view tenant;
        uint64_t seq;
        if (store::ParseSeqKey(ToView(key), &tenant, &seq)) {
          run.clear();
          store::AppendToBodyRun(&run, seq, ToView(value));
          batch->Put(runs, key, run);
        } else {
          // Not a record's key: kept as it is, for the verifier to name.
          batch->Put(runs, key, value);
        }
        return true;
      });
  if (!moved.ok()) return moved.status();
  spdlog::info("event={}_done rows={}", event, *moved);
  return absl::OkStatus();
}

Storage::~Storage() {
  if (!db_) return;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  // Never wait for compactions to make room: a store whose compactions
  // fail (a damaged table) must still close.
  fo.allow_write_stall = true;
  if (rocksdb::Status st = db_->Flush(fo, handles_); !st.ok()) {
    spdlog::warn("event=storage_close_flush_failed status=\"{}\" message=\"the "
                 "write-ahead log is replayed at the next open\"",
                 st.ToString());
  }
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::StatusOr<std::vector<std::pair<std::string, store::Head>>>
Storage::LoadHeads() {
  std::vector<std::pair<std::string, store::Head>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), heads_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    store::Head h;
    if (!store::DecodeHead(ToView(it->value()), &h)) {
      return absl::DataLossError(absl::StrCat(
          "malformed head for tenant ", ToAbsl(ToView(it->key()))));
    }
    out.emplace_back(std::string(ToView(it->key())), h);
  }
  if (auto s = FromRocksDb(it->status(), "scan heads"); !s.ok()) return s;
  return out;
}

absl::StatusOr<store::Head> Storage::GetHead(std::string_view tenant) {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), heads_, ToSlice(tenant), &v);
  if (!st.ok()) return FromRocksDb(st, "read head");
  store::Head h;
  if (!store::DecodeHead(v, &h)) {
    return absl::DataLossError(absl::StrCat("malformed head for ", ToAbsl(tenant)));
  }
  return h;
}

absl::StatusOr<std::optional<uint64_t>> Storage::LookupEventId(
    std::string_view tenant, std::string_view event_id) {
  return LookupEventIdKey(store::EventIdKey(tenant, event_id));
}

absl::StatusOr<std::optional<uint64_t>> Storage::LookupEventIdKey(const std::string& key) {
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), event_ids_, key, &v);
  if (st.IsNotFound()) return std::optional<uint64_t>();
  if (!st.ok()) return FromRocksDb(st, "read event id");
  uint64_t seq, received_at_ns;
  std::string_view category;
  if (!store::DecodeEventIdValue(v, &seq, &received_at_ns, &category)) {
    return absl::DataLossError("malformed event id entry");
  }
  return std::optional<uint64_t>(seq);
}

std::vector<absl::StatusOr<std::optional<uint64_t>>> Storage::LookupEventIds(
    const std::vector<std::string>& keys) {
  if (keys.empty()) return {};
  // MultiGet reads keys in order; sorted here with a plain byte comparison
  // (the bytewise order of the column family) instead of through the
  // comparator's virtual calls inside MultiGet.
  std::vector<uint32_t> order(keys.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&keys](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (uint32_t i : order) slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), event_ids_, keys.size(), slices.data(),
                values.data(), statuses.data(), /*sorted_input=*/true);
  std::vector<absl::StatusOr<std::optional<uint64_t>>> out(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    const size_t i = order[k];  // statuses and values are in sorted order
    if (statuses[k].IsNotFound()) {
      out[i] = std::nullopt;
    } else if (!statuses[k].ok()) {
      // MultiGet does not promise to keep a table's error from keys of the
      // batch that table does not hold: each failed key is read again on
      // its own, so damage fails only the keys (and so the tenants) whose
      // reads reach it (storage_lookup_test.cc).
      out[i] = LookupEventIdKey(keys[i]);
    } else {
      uint64_t seq, received_at_ns;
      std::string_view category;
      if (store::DecodeEventIdValue(ToView(values[k]), &seq, &received_at_ns, &category)) {
        out[i] = std::optional<uint64_t>(seq);
      } else {
        out[i] = absl::DataLossError("malformed event id entry");
      }
    }
  }
  return out;
}

absl::StatusOr<store::Skeleton> Storage::GetSkeleton(std::string_view tenant,
                                                     uint64_t seq) {
  // The run that holds seq is the tenant's last row at or before it: keyed
  // seq itself (a run's first record) or one of the 63 keys below
  // (store::SkeletonRunFloor). Point reads of those keys, not an iterator:
  // RocksDB reads no table whose key range misses them, so damage in
  // another tenant's table never fails this read.
  const std::string key = store::SeqKey(tenant, seq);
  std::string row;
  uint64_t first = seq;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), skeletons_, key, &row);
  if (st.IsNotFound() && seq > 0) {
    const uint64_t lowest = seq >= store::kBodyRunMaxRecords ? seq - (store::kBodyRunMaxRecords - 1) : 0;
    const size_t n = seq - lowest;
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (size_t k = 0; k < n; ++k) {
      keys[k] = store::SeqKey(tenant, lowest + k);
      slices[k] = keys[k];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), skeletons_, n, slices.data(), values.data(),
                  statuses.data(), /*sorted_input=*/true);
    for (size_t k = n; k-- > 0;) {
      st = statuses[k];
      if (st.ok()) {
        row.assign(values[k].data(), values[k].size());
        first = lowest + k;
        break;
      }
      if (!st.IsNotFound()) break;
    }
  }
  if (st.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("read skeleton: no skeleton of ", ToAbsl(tenant), "/", seq));
  }
  if (!st.ok()) return FromRocksDb(st, "read skeleton");
  store::BodyRun run(first, row);
  uint64_t at;
  std::string_view value;
  while (run.Next(&at, &value) && at <= seq) {
    if (at != seq) continue;
    store::Skeleton s;
    if (!store::DecodeSkeleton(value, &s)) return SkeletonDamaged(tenant, seq);
    return s;
  }
  // The row ends before seq (cut at an entry's end) or stops decoding. The
  // callers read seqs that the head or the index vouches for, and take
  // NotFound as damage too.
  if (run.malformed()) return SkeletonDamaged(tenant, seq);
  return absl::NotFoundError(
      absl::StrCat("read skeleton: no skeleton of ", ToAbsl(tenant), "/", seq));
}

absl::Status Storage::SkeletonDamaged(std::string_view tenant, uint64_t seq) {
  return absl::DataLossError(absl::StrCat("malformed skeleton ", ToAbsl(tenant), "/", seq));
}

absl::StatusOr<std::optional<std::string>> Storage::GetBody(
    std::string_view tenant, uint64_t seq) {
  // The run that holds seq is the tenant's last row at or before it;
  // BodyRecords lands on the body of seq, on damage that may cover it, or
  // past it (pruned).
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), bodies_));
  store::BodyRecords bodies(it.get(), nullptr);
  const std::string key = store::SeqKey(tenant, seq);
  bodies.Seek(key);
  if (bodies.Valid() && bodies.key() <= key) {
    if (bodies.damaged()) return BodiesDamaged(tenant, bodies.key(), seq);
    return std::optional<std::string>(std::string(bodies.value()));
  }
  if (auto s = FromRocksDb(bodies.status(), "read body"); !s.ok()) return s;
  return std::optional<std::string>();  // pruned
}

absl::Status Storage::BodiesDamaged(std::string_view tenant, std::string_view body_key,
                                    uint64_t seq) {
  std::string_view t;
  uint64_t at;
  if (store::ParseSeqKey(body_key, &t, &at) && t == tenant) seq = at;
  return absl::DataLossError(
      absl::StrCat("malformed bodies row of tenant ", ToAbsl(tenant), " at seq ", seq));
}

absl::StatusOr<std::vector<StoredRecord>> Storage::ReadRecords(
    std::string_view tenant, uint64_t from_seq, size_t limit) {
  std::vector<StoredRecord> out;
  const std::string prefix = store::TenantPrefix(tenant);
  rocksdb::ReadOptions ro;
  // One snapshot for skeletons and bodies, so both sides agree.
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  ro.snapshot = snap;
  // Skeletons are read up to the tenant's end, no further.
  const std::string tenant_end = store::SeqKeyAbove(tenant, UINT64_MAX);
  const rocksdb::Slice tenant_end_slice(tenant_end);
  rocksdb::ReadOptions skeleton_ro = ro;
  skeleton_ro.iterate_upper_bound = &tenant_end_slice;
  std::unique_ptr<rocksdb::Iterator> skeleton_runs(db_->NewIterator(skeleton_ro, skeletons_));
  std::unique_ptr<rocksdb::Iterator> runs(db_->NewIterator(ro, bodies_));
  store::SkeletonRecords sk(skeleton_runs.get(), nullptr);
  store::BodyRecords body(runs.get(), nullptr);
  absl::Status status;
  const std::string start = store::SeqKey(tenant, from_seq);
  body.Seek(start);
  for (sk.SeekFrom(store::SkeletonRunFloor(tenant, from_seq), start);
       sk.Valid() && out.size() < limit; sk.Next()) {
    std::string_view key = sk.key();
    if (key.substr(0, prefix.size()) != prefix) break;
    StoredRecord r;
    std::string_view t;
    if (!store::ParseSeqKey(key, &t, &r.seq)) {
      status = absl::DataLossError(
          absl::StrCat("malformed skeleton row for tenant ", ToAbsl(tenant)));
      break;
    }
    // Skeletons are never deleted: seqs run on from from_seq without a
    // gap, and a gap (a row cut or edited short) is damage.
    const uint64_t want = out.empty() ? std::max<uint64_t>(from_seq, 1) : out.back().seq + 1;
    if (r.seq != want) {
      status = absl::DataLossError(absl::StrCat("the skeleton of ", ToAbsl(tenant), "/", want,
                                                " is missing (the next is ", r.seq, ")"));
      break;
    }
    if (sk.damaged() || !store::DecodeSkeleton(sk.value(), &r.skeleton)) {
      status = SkeletonDamaged(tenant, r.seq);
      break;
    }
    r.tenant = std::string(tenant);
    // Bodies are a subset of skeletons: advance to this key, if present. A
    // row of bodies that does not decode is damage, not pruning: served as
    // such, the records it held would read as lawfully pruned.
    std::string_view salt, ce;
    bool found = false;
    for (; body.Valid() && body.key() <= key; body.Next()) {
      if (body.damaged() ||
          (body.key() == key && !store::DecodeBody(body.value(), &salt, &ce))) {
        status = BodiesDamaged(tenant, body.key(), r.seq);
        break;
      }
      if (body.key() == key) {
        found = true;
        break;
      }
    }
    if (!status.ok()) break;
    if (found) {
      r.salt.assign(salt);
      r.ce.assign(ce);
    } else {
      r.pruned = true;
      r.leaf_category.emplace(r.skeleton.category);
    }
    out.push_back(std::move(r));
  }
  if (status.ok()) status = FromRocksDb(sk.status(), "scan skeletons");
  if (status.ok()) status = FromRocksDb(body.status(), "scan bodies");
  skeleton_runs.reset();
  runs.reset();
  db_->ReleaseSnapshot(snap);
  if (!status.ok()) return status;
  return out;
}

void Storage::PutRecord(rocksdb::WriteBatch* batch, std::string_view tenant,
                        uint64_t seq, const store::Skeleton& skeleton,
                        std::string_view body, std::string_view event_id_key,
                        std::string_view category, ChunkRows* rows) {
  // WriteBatch::Put copies the bytes: the buffers are reused.
  thread_local std::string key, value;
  store::SeqKeyTo(tenant, seq, &key);
  store::EncodeSkeletonTo(skeleton, category, &value);
  // The body joins the open run if it is the next record of the run's
  // tenant and the run has room; else the run is put and this one opens.
  const std::string_view run_key = rows->run_key;
  const bool joins = rows->run_records != 0 && seq == rows->run_next_seq &&
                     rows->run_records < store::kBodyRunMaxRecords &&
                     rows->run.size() < store::kBodyRunMaxBytes &&
                     // the same tenant: its key starts with tenant || 0x00
                     run_key.substr(0, tenant.size() + 1) ==
                         std::string_view(key).substr(0, tenant.size() + 1);
  if (!joins) {
    PutBodyRun(batch, rows);
    rows->run_key = key;
  }
  store::AppendToBodyRun(&rows->run, seq, body);
  store::AppendToSkeletonRun(&rows->skeleton_run, seq, value);
  ++rows->run_records;
  rows->run_next_seq = seq + 1;
  rows->ids.push_back({event_id_key, seq, skeleton.received_at_ns, category});
}

void Storage::PutBodyRun(rocksdb::WriteBatch* batch, ChunkRows* rows) {
  if (rows->run_records == 0) return;
  batch->Put(bodies_, rows->run_key, rows->run);
  batch->Put(skeletons_, rows->run_key, rows->skeleton_run);
  rows->run.clear();
  rows->skeleton_run.clear();
  rows->run_records = 0;
}

void Storage::PutChunkRows(rocksdb::WriteBatch* batch, ChunkRows* rows) {
  PutBodyRun(batch, rows);
  std::vector<EventIdRow>& ids = rows->ids;
  std::sort(ids.begin(), ids.end(),
            [](const EventIdRow& a, const EventIdRow& b) { return a.key < b.key; });
  std::string value;
  for (const EventIdRow& r : ids) {
    store::EncodeEventIdValueTo(r.seq, r.received_at_ns, r.category, &value);
    batch->Put(event_ids_, ToSlice(r.key), value);
  }
  ids.clear();
}

void Storage::PutHead(rocksdb::WriteBatch* batch, std::string_view tenant,
                      const store::Head& head) {
  batch->Put(heads_, ToSlice(tenant), store::EncodeHead(head));
}

absl::Status Storage::WriteSynced(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocksDb(db_->Write(wo, batch), "write batch");
}

absl::Status Storage::PutCheckpoints(const std::vector<CheckpointNotes>& notes) {
  rocksdb::WriteBatch batch;
  std::string key;
  for (const CheckpointNotes& n : notes) {
    store::SeqKeyTo(n.tenant, n.size, &key);
    if (!n.v2.empty()) batch.Put(checkpoints_v2_, key, ToSlice(n.v2));
    if (!n.v1.empty()) batch.Put(checkpoints_, key, ToSlice(n.v1));
  }
  if (batch.Count() == 0) return absl::OkStatus();
  return WriteSynced(&batch);
}

absl::StatusOr<std::string> Storage::GetCheckpoint(std::string_view tenant,
                                                   uint64_t min_seq) {
  const std::string prefix = store::TenantPrefix(tenant);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), checkpoints_));
  if (min_seq == 0) {
    it->SeekForPrev(store::SeqKey(tenant, ~uint64_t{0}));
  } else {
    it->Seek(store::SeqKey(tenant, min_seq));
  }
  if (it->Valid() && ToView(it->key()).substr(0, prefix.size()) == prefix) {
    return it->value().ToString();
  }
  if (auto s = FromRocksDb(it->status(), "read checkpoint"); !s.ok()) return s;
  return absl::NotFoundError(
      absl::StrCat("no checkpoint for tenant ", ToAbsl(tenant),
                   min_seq ? absl::StrCat(" at or after seq ", min_seq) : ""));
}

absl::Status Storage::PutMeta(std::string_view key, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocksDb(db_->Put(wo, ToSlice(key), ToSlice(value)), "write meta");
}

void Storage::PutMeta(rocksdb::WriteBatch* batch, std::string_view key,
                      std::string_view value) {
  batch->Put(ToSlice(key), ToSlice(value));
}

void Storage::DeleteMeta(rocksdb::WriteBatch* batch, std::string_view key) {
  batch->Delete(ToSlice(key));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
Storage::ScanMeta(std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ToSlice(prefix));
       it->Valid() && ToView(it->key()).substr(0, prefix.size()) == prefix;
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (auto s = FromRocksDb(it->status(), "scan meta"); !s.ok()) return s;
  return out;
}

void Storage::DeleteTenantContent(rocksdb::WriteBatch* batch,
                                  std::string_view tenant) {
  // tenant || 0x00 .. tenant || 0x01 covers exactly this tenant's keys.
  const std::string begin = store::TenantPrefix(tenant);
  std::string end(tenant);
  end.push_back('\x01');
  batch->DeleteRange(bodies_, begin, end);
  PutMeta(batch, std::string(store::kPurgingEventIdsPrefix) + std::string(tenant), "");
}

absl::Status Storage::DeleteTenantEventIds(std::string_view tenant) {
  if (auto s = store::DeleteTenantsEventIds(db_.get(), event_ids_, {std::string(tenant)});
      !s.ok()) {
    return s;
  }
  rocksdb::WriteBatch b;
  DeleteMeta(&b, std::string(store::kPurgingEventIdsPrefix) + std::string(tenant));
  return WriteSynced(&b);
}

class Storage::ExtraCompactionSlot {
 public:
  explicit ExtraCompactionSlot(Storage* s) : s_(s) {
    std::lock_guard<std::mutex> l(s_->manual_compactions_mu_);
    if (s_->manual_compactions_++ == 0) Set(kBackgroundJobs + 1);
  }
  ~ExtraCompactionSlot() {
    std::lock_guard<std::mutex> l(s_->manual_compactions_mu_);
    if (--s_->manual_compactions_ == 0) Set(kBackgroundJobs);
  }

 private:
  // A failure costs speed only: logged, not returned.
  void Set(int jobs) {
    auto st = s_->db_->SetDBOptions({{"max_background_jobs", std::to_string(jobs)}});
    if (!st.ok()) {
      spdlog::warn("event=background_jobs_not_set jobs={} status=\"{}\"", jobs, st.ToString());
    }
  }
  Storage* const s_;
};

absl::Status Storage::CompactForRetention() {
  ExtraCompactionSlot slot(this);
  const rocksdb::CompactRangeOptions o = ForcedCompaction();
  for (auto* cf : {bodies_, event_ids_}) {
    if (auto s = FromRocksDb(db_->CompactRange(o, cf, nullptr, nullptr),
                             "compact for retention");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Storage::CompactAll() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = FromRocksDb(db_->Flush(fo, handles_), "flush"); !s.ok()) return s;
  const rocksdb::CompactRangeOptions o = ForcedCompaction();
  for (auto* cf : handles_) {
    if (auto s = FromRocksDb(db_->CompactRange(o, cf, nullptr, nullptr), "compact");
        !s.ok()) {
      return s;
    }
  }
  // Old WAL files may still hold deleted rows until RocksDB drops them.
  if (auto s = FromRocksDb(db_->FlushWAL(true), "flush WAL"); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status Storage::CompactPurgedTenant(std::string_view tenant) {
  ExtraCompactionSlot slot(this);
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = FromRocksDb(db_->Flush(fo, handles_), "flush"); !s.ok()) return s;
  const rocksdb::CompactRangeOptions o = ForcedCompaction();
  const std::string begin = store::TenantPrefix(tenant);
  std::string end(tenant);
  end.push_back('\x01');  // after every key "tenant || 0x00 || ..."
  const rocksdb::Slice b(begin), e(end);
  if (auto s = FromRocksDb(db_->CompactRange(o, bodies_, &b, &e), "compact bodies");
      !s.ok()) {
    return s;
  }
  if (auto s = FromRocksDb(db_->CompactRange(o, event_ids_, nullptr, nullptr),
                           "compact event ids");
      !s.ok()) {
    return s;
  }
  if (auto s = FromRocksDb(db_->FlushWAL(true), "flush WAL"); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status Storage::Resume() { return FromRocksDb(db_->Resume(), "resume"); }

}  // namespace indelible
