// How the daemon's store lays its records out in table files: the tables of
// per-tenant sequential column families are cut at tenant boundaries
// (storage.cc, TenantPartitioner), so one tenant's new records move down
// the levels without rewriting another tenant's history; a clean close
// leaves every record in a table; a manual compaction runs with one more
// background job.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/metadata.h"
#include "absl/strings/match.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

class StorageTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tables-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    StorageOptions o;
    o.compress = false;  // table sizes follow the bytes written
    auto s = Storage::Open(dir_, o);
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = std::move(*s);
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Appends `rounds` requests of `per_request` events of `body_bytes` to
  // each tenant, the tenants' requests interleaved.
  void AppendInterleaved(const std::vector<std::string>& tenants, int rounds,
                         int per_request, size_t body_bytes) {
    Sequencer seq(storage_.get(), &clock_, Sequencer::Options());
    ASSERT_TRUE(seq.Start().ok());
    uint64_t& n = next_event_;  // event ids stay new across calls
    for (int round = 0; round < rounds; ++round) {
      for (const std::string& tenant : tenants) {
        std::vector<PreparedEvent> events;
        for (int i = 0; i < per_request; ++i) {
          PreparedEvent e;
          e.tenant = tenant;
          e.event_id = tenant + "-" + std::to_string(n);
          chain::Salt salt;
          salt.fill(static_cast<uint8_t>(n));
          std::string ce(body_bytes, 'a');
          for (size_t k = 0; k < ce.size(); ++k) ce[k] = static_cast<char>('a' + (n + k * 7) % 26);
          e.body = store::EncodeBody(0, salt, ce);
          e.body_digest = chain::BodyDigest(salt, ce);
          e.category = "access";
          events.push_back(std::move(e));
          ++n;
        }
        std::promise<absl::StatusOr<std::vector<Receipt>>> p;
        seq.Submit(std::move(events), [&p](absl::StatusOr<std::vector<Receipt>> r) {
          p.set_value(std::move(r));
        });
        auto r = p.get_future().get();
        ASSERT_TRUE(r.ok()) << r.status();
      }
    }
  }

  // Flushes and compacts the bodies, and returns their table files.
  std::vector<rocksdb::LiveFileMetaData> CompactedBodies() {
    rocksdb::DB* db = storage_->db();
    rocksdb::ColumnFamilyHandle* bodies = nullptr;
    for (auto* h : storage_->column_families()) {
      if (h->GetName() == store::kBodiesCf) bodies = h;
    }
    EXPECT_NE(bodies, nullptr);
    EXPECT_TRUE(db->Flush(rocksdb::FlushOptions(), bodies).ok());
    EXPECT_TRUE(db->CompactRange(rocksdb::CompactRangeOptions(), bodies, nullptr, nullptr).ok());
    std::vector<rocksdb::LiveFileMetaData> files, out;
    db->GetLiveFilesMetaData(&files);
    for (auto& f : files) {
      if (f.column_family_name == store::kBodiesCf) out.push_back(f);
    }
    return out;
  }

  rocksdb::ColumnFamilyHandle* Cf(const std::string& name) {
    for (auto* h : storage_->column_families()) {
      if (h->GetName() == name) return h;
    }
    ADD_FAILURE() << "no column family " << name;
    return nullptr;
  }

  static std::string TenantOf(const std::string& key) { return key.substr(0, key.find('\0')); }

  // Every row of bodies (runs, layout.h), as (tenant, first seq, value).
  std::vector<std::tuple<std::string, uint64_t, std::string>> BodyRows(
      const char* cf = store::kBodiesCf) {
    std::vector<std::tuple<std::string, uint64_t, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), Cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view tenant;
      uint64_t first = 0;
      EXPECT_TRUE(store::ParseSeqKey(it->key().ToStringView(), &tenant, &first));
      out.emplace_back(std::string(tenant), first, it->value().ToString());
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  std::string dir_;
  uint64_t next_event_ = 0;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
};

TEST_F(StorageTablesTest, ATenantWithAMegabyteOrMoreGetsTablesOfItsOwn) {
  // Three tenants, 2.4 MB of bodies each, written interleaved: one memtable
  // (one flushed table) holds all three.
  AppendInterleaved({"acme", "beta", "gamma"}, 20, 60, 2000);
  const auto files = CompactedBodies();
  ASSERT_GE(files.size(), 3u);
  std::vector<std::string> tenants;
  for (const auto& f : files) {
    EXPECT_GT(f.level, 0);
    EXPECT_EQ(TenantOf(f.smallestkey), TenantOf(f.largestkey))
        << "table " << f.name << " spans tenants";
    tenants.push_back(TenantOf(f.smallestkey));
  }
  std::sort(tenants.begin(), tenants.end());
  tenants.erase(std::unique(tenants.begin(), tenants.end()), tenants.end());
  EXPECT_EQ(tenants, (std::vector<std::string>{"acme", "beta", "gamma"}));
}

TEST_F(StorageTablesTest, SmallTenantsShareATable) {
  // Twelve tenants of 60 kB each: cutting at every tenant would make twelve
  // tiny tables.
  std::vector<std::string> tenants;
  for (int i = 0; i < 12; ++i) tenants.push_back("t" + std::to_string(10 + i));
  AppendInterleaved(tenants, 3, 10, 2000);
  const auto files = CompactedBodies();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(TenantOf(files[0].smallestkey), "t10");
  EXPECT_EQ(TenantOf(files[0].largestkey), "t21");
}

// Tree rows take insert hints per tenant and level (storage.cc,
// TenantPrefixTransform), and a hint must never go to a range tombstone,
// which RocksDB 7.8 keeps in the same map of hints: a tombstone that begins
// at `beta || 0x00 || 4` (the form of ClearTenantTree's bounds, and the
// prefix of beta's level-4 rows) goes into the memtable that holds the
// interleaved rows of three tenants, then more rows on top. It covers no
// row, so every complete node at a stored level is a row, in order, in the
// memtable and after a flush.
TEST_F(StorageTablesTest, TreeRowsAndARangeTombstoneShareAMemtable) {
  auto expected = [](uint64_t leaves) {
    uint64_t rows = 0;
    for (int level = store::kLowestStoredLevel; level < 64; ++level) rows += leaves >> level;
    return rows;
  };
  AppendInterleaved({"acme", "beta", "gamma"}, 30, 7, 100);  // 210 each
  rocksdb::ColumnFamilyHandle* tree = Cf(store::kTreeCf);
  ASSERT_NE(tree, nullptr);
  const std::string begin = store::TenantPrefix("beta") + '\x04';
  const std::string end = begin + std::string(8, '\0');  // before index 0
  rocksdb::WriteOptions wo;
  wo.sync = true;
  ASSERT_TRUE(storage_->db()->DeleteRange(wo, tree, begin, end).ok());
  AppendInterleaved({"acme", "beta", "gamma"}, 30, 7, 100);  // 420 each

  auto read_rows = [&](std::map<std::string, uint64_t>* rows) {
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), tree));
    std::string last;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key = it->key().ToString();
      EXPECT_LT(last, key);
      last = key;
      ++(*rows)[TenantOf(key)];
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  };
  std::map<std::string, uint64_t> in_memtable, in_table;
  read_rows(&in_memtable);
  const std::map<std::string, uint64_t> want = {
      {"acme", expected(420)}, {"beta", expected(420)}, {"gamma", expected(420)}};
  EXPECT_EQ(in_memtable, want);
  ASSERT_TRUE(storage_->db()->Flush(rocksdb::FlushOptions(), tree).ok());
  read_rows(&in_table);
  EXPECT_EQ(in_table, want);
}

// A clean close flushes the memtables: the next open (and a check of the
// stopped store, which opens it too) has no write-ahead log to replay, and
// every record is in a table.
TEST_F(StorageTablesTest, ACleanCloseLeavesNoLogToReplay) {
  AppendInterleaved({"acme", "beta"}, 4, 25, 500);
  storage_.reset();
  uintmax_t log_bytes = 0;
  int logs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    if (e.path().extension() == ".log") {
      ++logs;
      log_bytes += e.file_size();
    }
  }
  EXPECT_GE(logs, 1);
  EXPECT_EQ(log_bytes, 0u) << "write-ahead log left to replay";

  StorageOptions o;
  o.compress = false;
  auto s = Storage::Open(dir_, o);
  ASSERT_TRUE(s.ok()) << s.status();
  storage_ = std::move(*s);
  std::vector<rocksdb::LiveFileMetaData> files;
  storage_->db()->GetLiveFilesMetaData(&files);
  uint64_t skeletons = 0, bodies = 0;
  for (const auto& f : files) {
    if (f.column_family_name == store::kSkeletonsCf) skeletons += f.num_entries;
    if (f.column_family_name == store::kBodiesCf) bodies += f.num_entries;
  }
  // A request's 25 bodies are one row (a run, layout.h), and so are their
  // skeletons.
  EXPECT_EQ(skeletons, 8u);
  EXPECT_EQ(bodies, 8u);
  for (const char* tenant : {"acme", "beta"}) {
    auto records = storage_->ReadRecords(tenant, 1, 1000);
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(records->size(), 100u);
    for (const StoredRecord& r : *records) EXPECT_FALSE(r.pruned) << tenant << " " << r.seq;
  }
}

// Rows of bodies (runs, layout.h): each holds one tenant's consecutive
// bodies, at most kBodyRunMaxRecords, and takes no more once it holds
// kBodyRunMaxBytes; point and range reads find every body in them.
TEST_F(StorageTablesTest, BodiesAreRunsReadByPointAndByRange) {
  AppendInterleaved({"acme", "beta"}, 2, 150, 100);  // requests of 150 bodies
  AppendInterleaved({"big"}, 1, 40, 2000);
  std::map<std::string, std::vector<std::pair<uint64_t, size_t>>> rows;  // first seq, bodies
  for (const auto& [tenant, first, value] : BodyRows()) {
    store::BodyRun run(first, value);
    uint64_t seq, expect = first;
    std::string_view body;
    size_t n = 0, last_size = 0;
    while (run.Next(&seq, &body)) {
      EXPECT_EQ(seq, expect++) << "bodies of a run are consecutive";
      last_size = store::kBodyRunEntryHeader + body.size();
      ++n;
    }
    ASSERT_FALSE(run.malformed());
    EXPECT_LE(n, store::kBodyRunMaxRecords);
    EXPECT_LT(value.size() - last_size, store::kBodyRunMaxBytes) << "full before its last body";
    rows[tenant].emplace_back(first, n);
  }
  // A request's 150 bodies are runs of 64, 64 and 22.
  using Runs = std::vector<std::pair<uint64_t, size_t>>;
  const Runs small = {{1, 64}, {65, 64}, {129, 22}, {151, 64}, {215, 64}, {279, 22}};
  EXPECT_EQ(rows["acme"], small);
  EXPECT_EQ(rows["beta"], small);
  // 2 KB bodies: 17 fill a run (16 hold 32 576 bytes, under 32 KiB).
  EXPECT_EQ(rows["big"], (Runs{{1, 17}, {18, 17}, {35, 6}}));

  for (const std::string tenant : {"acme", "big"}) {
    const uint64_t n = tenant == "acme" ? 300 : 40;
    auto all = storage_->ReadRecords(tenant, 1, 1000);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(all->size(), n);
    for (const StoredRecord& r : *all) {
      ASSERT_FALSE(r.pruned) << tenant << " " << r.seq;
      auto body = storage_->GetBody(tenant, r.seq);
      ASSERT_TRUE(body.ok() && body->has_value()) << tenant << " " << r.seq;
      uint64_t received_at;
      std::string_view salt, ce;
      ASSERT_TRUE(store::DecodeBody(**body, &received_at, &salt, &ce));
      EXPECT_EQ(received_at, r.skeleton.received_at_ns);
      EXPECT_EQ(salt, r.salt);
      EXPECT_EQ(ce, r.ce);
    }
    // A range that starts inside a run and ends inside the next.
    const uint64_t from = tenant == "acme" ? 60 : 12;
    auto part = storage_->ReadRecords(tenant, from, 20);
    ASSERT_TRUE(part.ok()) << part.status();
    ASSERT_EQ(part->size(), 20u);
    for (size_t i = 0; i < 20; ++i) {
      EXPECT_EQ((*part)[i].seq, from + i);
      EXPECT_EQ((*part)[i].ce, (*all)[from - 1 + i].ce);
    }
  }
  for (const auto& [tenant, seq] : std::vector<std::pair<std::string, uint64_t>>{
           {"acme", 301}, {"acme", 0}, {"acme", UINT64_MAX}, {"nobody", 1}, {"acm", 5}}) {
    auto none = storage_->GetBody(tenant, seq);
    ASSERT_TRUE(none.ok()) << tenant << " " << seq << " " << none.status();
    EXPECT_FALSE(none->has_value()) << tenant << " " << seq;
  }
}

// A run holds consecutive seqs of one tenant only: a gap, or another
// tenant, starts a new row.
TEST_F(StorageTablesTest, ARunEndsAtAGapOrAnotherTenant) {
  rocksdb::WriteBatch b;
  Storage::ChunkRows rows;
  const std::vector<std::pair<std::string, uint64_t>> records = {
      {"acme", 1}, {"acme", 2}, {"acme", 5}, {"beta", 6}, {"beta", 7}};
  // The event-id keys must outlive PutChunkRows (rows holds views of them).
  std::vector<std::string> ids;
  for (const auto& [tenant, seq] : records) {
    ids.push_back(store::EventIdKey(tenant, std::to_string(seq)));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& [tenant, seq] = records[i];
    store::Skeleton sk;
    sk.received_at_ns = kStart + seq;
    storage_->PutRecord(&b, tenant, seq, sk, "body " + std::to_string(seq), ids[i], "access",
                        &rows);
  }
  storage_->PutChunkRows(&b, &rows);
  ASSERT_TRUE(storage_->WriteSynced(&b).ok());
  std::vector<std::string> keys;
  for (const auto& [tenant, first, value] : BodyRows()) {
    keys.push_back(tenant + "/" + std::to_string(first));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"acme/1", "acme/5", "beta/6"}));
  for (uint64_t seq : {1, 2, 5}) {
    EXPECT_EQ(**storage_->GetBody("acme", seq), "body " + std::to_string(seq));
  }
  EXPECT_FALSE(storage_->GetBody("acme", 3)->has_value());
}

// A damaged row of bodies is damage to the daemon's reads too, never
// pruning: ReadRecords and GetBody fail with DataLoss at the seq where the
// row stops, and the rows around it read as written.
TEST_F(StorageTablesTest, ADamagedRowOfBodiesIsDataLossNotPruning) {
  AppendInterleaved({"acme", "acme2"}, 1, 150, 100);  // acme: rows at 1, 65, 129
  rocksdb::ColumnFamilyHandle* bodies = Cf(store::kBodiesCf);
  rocksdb::DB* db = storage_->db();
  std::string row;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), bodies, store::SeqKey("acme", 65), &row).ok());
  // Body 70's seq raised far past the next row's key (129).
  store::BodyRun run(65, row);
  uint64_t seq;
  std::string_view body;
  while (run.Next(&seq, &body) && seq < 70) {
  }
  ASSERT_EQ(seq, 70u);
  std::string raised = row;
  const size_t at = body.data() - row.data() - store::kBodyRunEntryHeader;
  raised.replace(at, 8, std::string("\x00\x00\x01\x00\x00\x00\x00\x46", 8));
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), bodies, store::SeqKey("acme", 65), raised).ok());

  auto records = storage_->ReadRecords("acme", 1, 1000);
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss) << records.status();
  EXPECT_NE(records.status().message().find("at seq 70"), std::string_view::npos)
      << records.status();
  // A read that starts inside the damaged part fails too.
  auto inside = storage_->ReadRecords("acme", 71, 10);
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(inside.status().code(), absl::StatusCode::kDataLoss) << inside.status();
  auto before = storage_->ReadRecords("acme", 1, 69);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->size(), 69u);
  auto after = storage_->ReadRecords("acme", 129, 1000);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->size(), 22u);
  for (const StoredRecord& r : *after) EXPECT_FALSE(r.pruned) << r.seq;

  auto b69 = storage_->GetBody("acme", 69);
  ASSERT_TRUE(b69.ok() && b69->has_value()) << b69.status();
  for (uint64_t s : {70, 71, 128}) {
    auto b = storage_->GetBody("acme", s);
    ASSERT_FALSE(b.ok()) << s;
    EXPECT_EQ(b.status().code(), absl::StatusCode::kDataLoss) << s << " " << b.status();
    EXPECT_NE(b.status().message().find("at seq 70"), std::string_view::npos) << b.status();
  }
  auto b129 = storage_->GetBody("acme", 129);
  ASSERT_TRUE(b129.ok() && b129->has_value()) << b129.status();
  // A tenant whose id extends acme's is apart.
  auto other = storage_->ReadRecords("acme2", 1, 1000);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->size(), 150u);

  // A key among acme's rows that is not key(tenant, seq): the bodies after
  // it are not "pruned".
  ASSERT_TRUE(
      db->Put(rocksdb::WriteOptions(), bodies, store::SeqKey("acme", 130) + "x", "junk").ok());
  auto b131 = storage_->GetBody("acme", 131);
  ASSERT_FALSE(b131.ok());
  EXPECT_EQ(b131.status().code(), absl::StatusCode::kDataLoss) << b131.status();
  auto r131 = storage_->ReadRecords("acme", 131, 10);
  ASSERT_FALSE(r131.ok());
  EXPECT_EQ(r131.status().code(), absl::StatusCode::kDataLoss) << r131.status();
  EXPECT_TRUE(storage_->GetBody("acme", 129)->has_value()) << "the row before the junk key";
}

// A store from before runs keeps its bodies one per row in "bodies": the
// daemon moves each into a run of one when it opens the store, and drops
// the old column family.
TEST_F(StorageTablesTest, BodiesOnePerRowAreMovedAtOpen) {
  AppendInterleaved({"acme", "beta"}, 2, 30, 100);
  auto before_acme = storage_->ReadRecords("acme", 1, 1000);
  ASSERT_TRUE(before_acme.ok());
  // The store as the daemon before runs left it.
  {
    rocksdb::DB* db = storage_->db();
    rocksdb::ColumnFamilyHandle* legacy = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), store::kLegacyBodiesCf,
                                       &legacy).ok());
    rocksdb::WriteBatch b;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), Cf(store::kBodiesCf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view tenant;
      uint64_t first, seq;
      ASSERT_TRUE(store::ParseSeqKey(it->key().ToStringView(), &tenant, &first));
      store::BodyRun run(first, it->value().ToStringView());
      std::string_view body;
      while (run.Next(&seq, &body)) b.Put(legacy, store::SeqKey(tenant, seq), body);
      b.Delete(Cf(store::kBodiesCf), it->key());
    }
    ASSERT_TRUE(storage_->WriteSynced(&b).ok());
    ASSERT_TRUE(db->DropColumnFamily(Cf(store::kBodiesCf)).ok());
    db->DestroyColumnFamilyHandle(legacy);
  }
  storage_.reset();
  auto s = Storage::Open(dir_, StorageOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  storage_ = std::move(*s);
  for (auto* h : storage_->column_families()) EXPECT_NE(h->GetName(), store::kLegacyBodiesCf);
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names).ok());
  EXPECT_EQ(std::count(names.begin(), names.end(), store::kLegacyBodiesCf), 0);
  auto after_acme = storage_->ReadRecords("acme", 1, 1000);
  ASSERT_TRUE(after_acme.ok()) << after_acme.status();
  ASSERT_EQ(after_acme->size(), 60u);
  for (size_t i = 0; i < 60; ++i) {
    EXPECT_FALSE((*after_acme)[i].pruned);
    EXPECT_EQ((*after_acme)[i].ce, (*before_acme)[i].ce);
    EXPECT_EQ((*after_acme)[i].salt, (*before_acme)[i].salt);
  }
  ASSERT_TRUE(storage_->GetBody("beta", 45)->has_value());
  // Each body is now a run of one.
  EXPECT_EQ(BodyRows().size(), 120u);
}

// The same for skeletons: a store from before runs keeps them one per row
// in "skeletons", and the daemon moves each into a run of one.
TEST_F(StorageTablesTest, SkeletonsOnePerRowAreMovedAtOpen) {
  AppendInterleaved({"acme", "beta"}, 2, 30, 100);
  auto before_acme = storage_->ReadRecords("acme", 1, 1000);
  ASSERT_TRUE(before_acme.ok());
  // Written as a chunk's runs: a run per request of each tenant.
  EXPECT_EQ(BodyRows(store::kSkeletonsCf).size(), 4u);
  {
    rocksdb::DB* db = storage_->db();
    rocksdb::ColumnFamilyHandle* legacy = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                       store::kLegacySkeletonsCf, &legacy).ok());
    rocksdb::WriteBatch b;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), Cf(store::kSkeletonsCf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view tenant;
      uint64_t first, seq;
      ASSERT_TRUE(store::ParseSeqKey(it->key().ToStringView(), &tenant, &first));
      store::BodyRun run(first, it->value().ToStringView());
      std::string_view skeleton;
      while (run.Next(&seq, &skeleton)) b.Put(legacy, store::SeqKey(tenant, seq), skeleton);
      ASSERT_FALSE(run.malformed());
    }
    it.reset();
    ASSERT_TRUE(storage_->WriteSynced(&b).ok());
    ASSERT_TRUE(db->DropColumnFamily(Cf(store::kSkeletonsCf)).ok());
    db->DestroyColumnFamilyHandle(legacy);
  }
  storage_.reset();
  auto s = Storage::Open(dir_, StorageOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  storage_ = std::move(*s);
  for (auto* h : storage_->column_families()) {
    EXPECT_NE(h->GetName(), store::kLegacySkeletonsCf);
  }
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names).ok());
  EXPECT_EQ(std::count(names.begin(), names.end(), store::kLegacySkeletonsCf), 0);
  auto after_acme = storage_->ReadRecords("acme", 1, 1000);
  ASSERT_TRUE(after_acme.ok()) << after_acme.status();
  ASSERT_EQ(after_acme->size(), 60u);
  for (size_t i = 0; i < 60; ++i) {
    EXPECT_EQ((*after_acme)[i].seq, i + 1);
    EXPECT_EQ((*after_acme)[i].skeleton.entry_hash, (*before_acme)[i].skeleton.entry_hash);
    EXPECT_EQ((*after_acme)[i].skeleton.category, (*before_acme)[i].skeleton.category);
    EXPECT_EQ((*after_acme)[i].ce, (*before_acme)[i].ce);
  }
  auto sk = storage_->GetSkeleton("beta", 45);
  ASSERT_TRUE(sk.ok()) << sk.status();
  EXPECT_EQ(BodyRows(store::kSkeletonsCf).size(), 120u) << "each skeleton a run of one";
  // And the store takes new records, in runs again.
  AppendInterleaved({"acme"}, 1, 10, 100);
  EXPECT_EQ(BodyRows(store::kSkeletonsCf).size(), 121u);
  EXPECT_EQ(storage_->ReadRecords("acme", 1, 1000)->size(), 70u);
}

// A skeleton is read from the run that holds it, among the rows keyed at
// most 63 below it (store::SkeletonRunFloor); a row that does not decode up
// to it is DataLoss named at the seq, and so is a gap, never "missing".
TEST_F(StorageTablesTest, ASkeletonIsReadFromItsRun) {
  // Three requests of 64: rows at 1, 65 and 129 (kBodyRunMaxRecords each).
  AppendInterleaved({"acme"}, 3, 64, 100);
  AppendInterleaved({"beta"}, 1, 5, 100);
  auto rows = BodyRows(store::kSkeletonsCf);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(std::get<1>(rows[1]), 65u);
  for (uint64_t seq : {1, 63, 64, 65, 128, 129, 192}) {
    auto sk = storage_->GetSkeleton("acme", seq);
    ASSERT_TRUE(sk.ok()) << seq << ": " << sk.status();
    EXPECT_EQ(sk->category, "access");
  }
  EXPECT_EQ(storage_->GetSkeleton("acme", 193).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(storage_->GetSkeleton("gamma", 1).status().code(), absl::StatusCode::kNotFound);
  auto from128 = storage_->ReadRecords("acme", 128, 1000);
  ASSERT_TRUE(from128.ok()) << from128.status();
  ASSERT_EQ(from128->size(), 65u);
  EXPECT_EQ(from128->front().seq, 128u);
  EXPECT_EQ(from128->back().seq, 192u);
  auto across = storage_->LeafHashes("acme", 60, 70);  // seqs 61..70, two rows
  ASSERT_TRUE(across.ok()) << across.status();
  ASSERT_EQ(across->size(), 10u);
  EXPECT_EQ((*across)[4], store::LeafOf(*storage_->GetSkeleton("acme", 65)));

  // The row at 65 cut inside seq 100's skeleton.
  const std::string& value = std::get<2>(rows[1]);
  store::BodyRun run(65, value);
  uint64_t seq;
  std::string_view skeleton;
  size_t cut = 0;
  while (run.Next(&seq, &skeleton) && seq < 100) {
    cut = skeleton.data() + skeleton.size() - value.data();
  }
  ASSERT_TRUE(storage_->db()
                  ->Put(rocksdb::WriteOptions(), Cf(store::kSkeletonsCf),
                        store::SeqKey("acme", 65), value.substr(0, cut + 30))
                  .ok());
  EXPECT_TRUE(storage_->GetSkeleton("acme", 99).ok());
  for (uint64_t damaged_seq : {100, 128}) {
    auto damaged = storage_->GetSkeleton("acme", damaged_seq);
    EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss) << damaged.status();
  }
  EXPECT_TRUE(absl::StrContains(storage_->GetSkeleton("acme", 100).status().message(),
                                "acme/100"));
  EXPECT_TRUE(storage_->GetSkeleton("acme", 129).ok()) << "the next row is whole";
  auto records = storage_->ReadRecords("acme", 90, 100);
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss) << records.status();
  EXPECT_TRUE(storage_->LeafHashes("acme", 80, 96).ok());
  EXPECT_EQ(storage_->LeafHashes("acme", 96, 112).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(storage_->ReadRecords("beta", 1, 10).ok()) << "another tenant reads on";

  // A row cut at an entry's end decodes, one seq short: a gap in a scan is
  // damage too (skeletons are never deleted).
  ASSERT_TRUE(storage_->db()
                  ->Put(rocksdb::WriteOptions(), Cf(store::kSkeletonsCf),
                        store::SeqKey("acme", 65), value.substr(0, cut))
                  .ok());
  auto gap = storage_->ReadRecords("acme", 95, 100);
  ASSERT_EQ(gap.status().code(), absl::StatusCode::kDataLoss) << gap.status();
  EXPECT_TRUE(absl::StrContains(gap.status().message(), "acme/100")) << gap.status();
}

// Two rows of skeletons joined into one, every hash holding: a point read
// does not reach the seqs 64 or more above the row's key, and scans stop
// there too rather than serve what a point read cannot find.
TEST_F(StorageTablesTest, SkeletonsOutOfTheirRowsReachAreDamageToScans) {
  AppendInterleaved({"acme"}, 2, 64, 100);  // rows at 1 and 65
  auto rows = BodyRows(store::kSkeletonsCf);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(std::get<1>(rows[1]), 65u);
  rocksdb::WriteBatch join;
  ASSERT_TRUE(join.Delete(Cf(store::kSkeletonsCf), store::SeqKey("acme", 65)).ok());
  ASSERT_TRUE(join.Put(Cf(store::kSkeletonsCf), store::SeqKey("acme", 1),
                       std::get<2>(rows[0]) + std::get<2>(rows[1]))
                  .ok());
  ASSERT_TRUE(storage_->db()->Write(rocksdb::WriteOptions(), &join).ok());

  EXPECT_TRUE(storage_->GetSkeleton("acme", 64).ok());
  EXPECT_FALSE(storage_->GetSkeleton("acme", 65).ok());
  auto in_reach = storage_->ReadRecords("acme", 1, 64);
  ASSERT_TRUE(in_reach.ok()) << in_reach.status();
  EXPECT_EQ(in_reach->size(), 64u);
  EXPECT_TRUE(storage_->LeafHashes("acme", 0, 64).ok());
  auto records = storage_->ReadRecords("acme", 60, 10);
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss) << records.status();
  auto leaves = storage_->LeafHashes("acme", 60, 70);
  EXPECT_EQ(leaves.status().code(), absl::StatusCode::kDataLoss) << leaves.status();
}

// Records RocksDB's max_background_jobs each time a compaction of the
// bodies starts, manual (a purge's, retention's) or RocksDB's own.
class JobsProbe final : public rocksdb::CompactionFilterFactory {
 public:
  const char* Name() const override { return "JobsProbe"; }
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& c) override {
    if (rocksdb::DB* db = db_.load(); db != nullptr) {
      const int jobs = db->GetDBOptions().max_background_jobs;
      std::lock_guard<std::mutex> l(mu_);
      (c.is_manual_compaction ? manual_ : automatic_).push_back(jobs);
    }
    return nullptr;  // no filter: only watching
  }
  void Watch(rocksdb::DB* db) { db_.store(db); }
  std::vector<int> manual() {
    std::lock_guard<std::mutex> l(mu_);
    return manual_;
  }

 private:
  std::atomic<rocksdb::DB*> db_{nullptr};
  std::mutex mu_;
  std::vector<int> manual_;     // guarded by mu_
  std::vector<int> automatic_;  // guarded by mu_
};

// A manual compaction takes RocksDB's one compaction slot; while it runs
// the store has one more background job, so RocksDB's own compactions from
// level 0 need not wait for it; afterwards, and after concurrent manual
// compactions, the usual number again.
TEST(StorageCompactionTest, ManualCompactionsRunWithOneMoreBackgroundJob) {
  const std::string dir = ::testing::TempDir() + "/manual-compaction-jobs";
  std::filesystem::remove_all(dir);
  auto probe = std::make_shared<JobsProbe>();
  StorageOptions o;
  o.bodies_filter = probe;
  auto opened = Storage::Open(dir, o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Storage> storage = std::move(*opened);
  rocksdb::DB* db = storage->db();
  probe->Watch(db);
  EXPECT_EQ(db->GetDBOptions().max_background_jobs, kBackgroundJobs);
  rocksdb::ColumnFamilyHandle* bodies = nullptr;
  for (auto* cf : storage->column_families()) {
    if (cf->GetName() == store::kBodiesCf) bodies = cf;
  }
  ASSERT_NE(bodies, nullptr);
  // Rows of tenant "acme" in a table, for each compaction to rewrite.
  const auto write_rows = [&](int round) {
    for (int i = 0; i < 10; ++i) {
      const std::string key = store::TenantPrefix("acme") + std::to_string(round * 10 + i);
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), bodies, key, std::string(100, 'x')).ok());
    }
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions(), bodies).ok());
  };

  write_rows(0);
  ASSERT_TRUE(storage->CompactPurgedTenant("acme").ok());
  write_rows(1);
  ASSERT_TRUE(storage->CompactForRetention().ok());
  std::vector<int> seen = probe->manual();
  ASSERT_GE(seen.size(), 2u);
  for (int jobs : seen) EXPECT_EQ(jobs, kBackgroundJobs + 1);
  EXPECT_EQ(db->GetDBOptions().max_background_jobs, kBackgroundJobs);

  // Two at once: the first to end leaves the slot to the other.
  write_rows(2);
  auto other = std::async(std::launch::async, [&] { return storage->CompactForRetention(); });
  EXPECT_TRUE(storage->CompactPurgedTenant("acme").ok());
  EXPECT_TRUE(other.get().ok());
  seen = probe->manual();
  for (int jobs : seen) EXPECT_EQ(jobs, kBackgroundJobs + 1);
  EXPECT_EQ(db->GetDBOptions().max_background_jobs, kBackgroundJobs);
  storage.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace indelible
