#include "verifier/store/body_records.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "verifier/store/layout.h"

namespace indelible::store {
namespace {

using Bodies = std::vector<std::pair<uint64_t, std::string>>;

std::string RunOf(const Bodies& bodies) {
  std::string row;
  for (const auto& [seq, body] : bodies) AppendToBodyRun(&row, seq, body);
  return row;
}

// A RocksDB with both bodies column families, and BodyRecords over them.
class BodyRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("body_records_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {kBodiesCf, {}}, {kLegacyBodiesCf, {}}};
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_, cfs, &handles_, &raw).ok());
    db_.reset(raw);
  }
  void TearDown() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void PutRun(const std::string& tenant, uint64_t key_seq, const std::string& row) {
    ASSERT_TRUE(db_->Put({}, handles_[1], SeqKey(tenant, key_seq), row).ok());
  }
  void PutLegacy(const std::string& tenant, uint64_t seq, const std::string& body) {
    ASSERT_TRUE(db_->Put({}, handles_[2], SeqKey(tenant, seq), body).ok());
  }
  // Every body from `from` (all if empty), as "tenant/seq" -> value, in the
  // order read; checks that keys rise strictly.
  // With `skeletons`, read as SkeletonRecords.
  std::vector<std::pair<std::string, std::string>> Read(std::string_view from = {},
                                                        bool legacy = true,
                                                        bool skeletons = false) {
    std::unique_ptr<rocksdb::Iterator> runs(db_->NewIterator({}, handles_[1]));
    std::unique_ptr<rocksdb::Iterator> old(db_->NewIterator({}, handles_[2]));
    std::optional<BodyRecords> bodies;
    std::optional<SkeletonRecords> skeleton_records;
    rocksdb::Iterator* const old_it = legacy ? old.get() : nullptr;
    BodyRecords& b = skeletons ? skeleton_records.emplace(runs.get(), old_it)
                               : bodies.emplace(runs.get(), old_it);
    if (from.empty()) {
      b.SeekToFirst();
    } else {
      b.Seek(from);
    }
    std::vector<std::pair<std::string, std::string>> out;
    std::string last;
    for (; b.Valid(); b.Next()) {
      const std::string key(b.key());
      EXPECT_TRUE(last.empty() || key > last) << "keys out of order";
      last = key;
      std::string_view tenant;
      uint64_t seq;
      out.emplace_back((ParseSeqKey(key, &tenant, &seq)
                            ? std::string(tenant) + "/" + std::to_string(seq)
                            : "raw:" + key) +
                           (b.damaged() ? "*" : ""),
                       std::string(b.value()));
    }
    EXPECT_TRUE(b.status().ok()) << b.status().ToString();
    return out;
  }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

using Got = std::vector<std::pair<std::string, std::string>>;

TEST_F(BodyRecordsTest, ReadsRunsOneBodyAtATime) {
  PutRun("acme", 1, RunOf({{1, "a1"}, {2, "a2"}, {3, "a3"}}));
  PutRun("acme", 4, RunOf({{4, "a4"}, {6, "a6"}}));  // 5 pruned
  PutRun("beta", 1, RunOf({{1, "b1"}}));
  EXPECT_EQ(Read(), (Got{{"acme/1", "a1"}, {"acme/2", "a2"}, {"acme/3", "a3"},
                         {"acme/4", "a4"}, {"acme/6", "a6"}, {"beta/1", "b1"}}));
}

TEST_F(BodyRecordsTest, SeeksIntoARun) {
  PutRun("acme", 1, RunOf({{1, "a1"}, {2, "a2"}, {3, "a3"}}));
  PutRun("acme", 4, RunOf({{4, "a4"}, {6, "a6"}}));
  PutRun("beta", 1, RunOf({{1, "b1"}, {2, "b2"}}));
  EXPECT_EQ(Read(SeqKey("acme", 2)),
            (Got{{"acme/2", "a2"}, {"acme/3", "a3"}, {"acme/4", "a4"}, {"acme/6", "a6"},
                 {"beta/1", "b1"}, {"beta/2", "b2"}}));
  // Between bodies: the next one.
  EXPECT_EQ(Read(SeqKey("acme", 5)), (Got{{"acme/6", "a6"}, {"beta/1", "b1"}, {"beta/2", "b2"}}));
  // A tenant's first key: the row before it is another tenant's.
  EXPECT_EQ(Read(TenantPrefix("beta")), (Got{{"beta/1", "b1"}, {"beta/2", "b2"}}));
  EXPECT_EQ(Read(SeqKey("beta", 2)), (Got{{"beta/2", "b2"}}));
  EXPECT_EQ(Read(SeqKey("beta", 3)), Got{});
  // Before every row.
  EXPECT_EQ(Read(TenantPrefix("aaa")).size(), 7u);
}

// A store the daemon has not opened since runs: bodies one per row in the
// legacy column family, read in order with the runs; the run's copy wins
// where both hold a seq (a move left unfinished).
TEST_F(BodyRecordsTest, MergesTheLegacyColumnFamily) {
  PutLegacy("acme", 1, "old1");
  PutLegacy("acme", 2, "old2");
  PutLegacy("acme", 5, "old5");
  PutRun("acme", 2, RunOf({{2, "new2"}, {3, "new3"}}));
  PutLegacy("beta", 1, "oldb1");
  EXPECT_EQ(Read(), (Got{{"acme/1", "old1"}, {"acme/2", "new2"}, {"acme/3", "new3"},
                         {"acme/5", "old5"}, {"beta/1", "oldb1"}}));
  EXPECT_EQ(Read(SeqKey("acme", 3)),
            (Got{{"acme/3", "new3"}, {"acme/5", "old5"}, {"beta/1", "oldb1"}}));
  EXPECT_EQ(Read({}, /*legacy=*/false), (Got{{"acme/2", "new2"}, {"acme/3", "new3"}}));
}

// A run that does not decode yields its bodies up to the fault, then its
// undecoded rest as the body of the next seq it could hold; reading goes on
// with the next row.
TEST_F(BodyRecordsTest, ARunThatDoesNotDecodeNamesTheSeqOfTheFault) {
  std::string row = RunOf({{1, "a1"}, {2, "a2"}});
  std::string bad;
  chain::PutU64(&bad, 3);
  chain::PutU32(&bad, 1000);  // past the end of the row
  bad += "a3";
  PutRun("acme", 1, row + bad);
  PutRun("acme", 10, RunOf({{10, "a10"}}));
  EXPECT_EQ(Read(),
            (Got{{"acme/1", "a1"}, {"acme/2", "a2"}, {"acme/3*", bad}, {"acme/10", "a10"}}));
  // A row whose first body is below its key's seq: the fault is at the key.
  PutRun("beta", 4, RunOf({{2, "b2"}}));
  EXPECT_EQ(Read(TenantPrefix("beta")), (Got{{"beta/4*", RunOf({{2, "b2"}})}}));
  // An empty row: the fault is at its key.
  PutRun("gamma", 7, "");
  EXPECT_EQ(Read(TenantPrefix("gamma")), (Got{{"gamma/7*", ""}}));
}

// A body whose seq was raised past the next row's key is where its row
// stops; the next row reads as written.
TEST_F(BodyRecordsTest, ARunNeverReachesIntoTheNextRow) {
  const std::string raised = RunOf({{1, "a1"}, {2, "a2"}, {uint64_t{1} << 40, "a3"}});
  PutRun("acme", 1, raised);
  PutRun("acme", 10, RunOf({{10, "a10"}, {11, "a11"}}));
  const std::string rest = raised.substr(2 * kBodyRunEntryHeader + 4);
  EXPECT_EQ(Read(), (Got{{"acme/1", "a1"}, {"acme/2", "a2"}, {"acme/3*", rest},
                         {"acme/10", "a10"}, {"acme/11", "a11"}}));
  // A point into the damaged row lands on the damage, also past it while
  // the row's range holds the point; past the row, on the next one.
  using Body = std::pair<std::string, std::string>;
  EXPECT_EQ(Read(SeqKey("acme", 3)).front(), (Body{"acme/3*", rest}));
  EXPECT_EQ(Read(SeqKey("acme", 7)).front(), (Body{"acme/3*", rest}));
  EXPECT_EQ(Read(SeqKey("acme", 10)).front(), (Body{"acme/10", "a10"}));
  // Another tenant's seek does not stop at acme's damage.
  PutRun("beta", 1, RunOf({{1, "b1"}}));
  ASSERT_TRUE(db_->Delete({}, handles_[1], SeqKey("acme", 10)).ok());
  EXPECT_EQ(Read(TenantPrefix("beta")), (Got{{"beta/1", "b1"}}));
}

// Bytes after a row's last body, where no seq is free below the next row,
// are read as part of that body.
TEST_F(BodyRecordsTest, ARestWithNoSeqLeftJoinsTheLastBody) {
  PutRun("acme", 1, RunOf({{1, "a1"}, {2, "a2"}}) + "xyz");
  PutRun("acme", 3, RunOf({{3, "a3"}}));
  EXPECT_EQ(Read(), (Got{{"acme/1", "a1"}, {"acme/2*", "a2xyz"}, {"acme/3", "a3"}}));
  // Nothing may follow seq 2^64 - 1.
  const uint64_t max = UINT64_MAX;
  PutRun("zeta", max - 1, RunOf({{max - 1, "y"}, {max, "z"}}) + "junk");
  EXPECT_EQ(Read(TenantPrefix("zeta")),
            (Got{{"zeta/" + std::to_string(max - 1), "y"},
                 {"zeta/" + std::to_string(max) + "*", "zjunk"}}));
}

// Rows of one tenant that overlap (an edit by hand): the later row does not
// decode from the first seq above what was read, so keys still rise.
TEST_F(BodyRecordsTest, OverlappingRunsReadAsAFault) {
  const std::string first = RunOf({{1, "a1"}, {2, "a2"}, {3, "a3"}});
  PutRun("acme", 1, first);
  PutRun("acme", 2, RunOf({{2, "x2"}, {4, "x4"}}));
  // The first row stops where it reaches the second's key; no seq is free
  // for its rest, which joins its body 1.
  EXPECT_EQ(Read(), (Got{{"acme/1*", "a1" + first.substr(kBodyRunEntryHeader + 2)},
                         {"acme/2", "x2"}, {"acme/4", "x4"}}));
}

// The daemon reads a skeleton from the rows of the 64 keys up to its seq
// (SkeletonRunFloor): a skeleton further from its row's key is where the
// row stops, as read by SkeletonRecords. Bodies have no such bound.
TEST_F(BodyRecordsTest, ASkeletonOutOfItsRowsReachIsWhereTheRowStops) {
  Bodies full, over;
  for (uint64_t seq = 1; seq <= kBodyRunMaxRecords; ++seq) {
    full.emplace_back(seq, "s" + std::to_string(seq));
  }
  over = full;
  over.emplace_back(kBodyRunMaxRecords + 1, "s65");
  PutRun("acme", 1, RunOf(full));
  Got got = Read({}, false, /*skeletons=*/true);
  ASSERT_EQ(got.size(), kBodyRunMaxRecords);
  EXPECT_EQ(got.back(), (std::pair<std::string, std::string>{"acme/64", "s64"}));

  PutRun("acme", 1, RunOf(over));
  got = Read({}, false, /*skeletons=*/true);
  ASSERT_EQ(got.size(), kBodyRunMaxRecords + 1);
  EXPECT_EQ(got[63], (std::pair<std::string, std::string>{"acme/64", "s64"}));
  EXPECT_EQ(got[64], (std::pair<std::string, std::string>{"acme/65*", RunOf({{65, "s65"}})}));
  EXPECT_EQ(Read({}, false).back(), (std::pair<std::string, std::string>{"acme/65", "s65"}))
      << "a run of bodies may hold more";

  // A seq beyond reach after a gap: the rest is named at the first seq
  // after the last skeleton read.
  PutRun("acme", 1, RunOf({{1, "s1"}, {2, "s2"}, {100, "s100"}}));
  EXPECT_EQ(Read({}, false, /*skeletons=*/true),
            (Got{{"acme/1", "s1"}, {"acme/2", "s2"}, {"acme/3*", RunOf({{100, "s100"}})}}));

  // Reach is counted from the row's key, not from its first skeleton: a row
  // keyed 1 that starts at 2 holds 64 skeletons, of which 65 is out of reach.
  Bodies from_two(full.begin() + 1, full.end());
  from_two.emplace_back(kBodyRunMaxRecords + 1, "s65");
  PutRun("acme", 1, RunOf(from_two));
  got = Read({}, false, /*skeletons=*/true);
  ASSERT_EQ(got.size(), kBodyRunMaxRecords);
  EXPECT_EQ(got.front().first, "acme/2");
  EXPECT_EQ(got.back(), (std::pair<std::string, std::string>{"acme/65*", RunOf({{65, "s65"}})}));

  // Where the next row starts at the first seq out of reach, no seq is free
  // for the rest: it is read as the end of the last skeleton in reach.
  PutRun("acme", 1, RunOf(over));
  PutRun("acme", 65, RunOf({{65, "t65"}}));
  got = Read({}, false, /*skeletons=*/true);
  ASSERT_EQ(got.size(), kBodyRunMaxRecords + 1);
  EXPECT_EQ(got[63], (std::pair<std::string, std::string>{"acme/64*",
                                                          "s64" + RunOf({{65, "s65"}})}));
  EXPECT_EQ(got[64], (std::pair<std::string, std::string>{"acme/65", "t65"}));
  ASSERT_TRUE(db_->Delete({}, handles_[1], SeqKey("acme", 65)).ok());

  // A seek reads the same: into the row, and from the floor of a seq.
  EXPECT_EQ(Read(SeqKey("acme", 64), false, /*skeletons=*/true),
            (Got{{"acme/64", "s64"}, {"acme/65*", RunOf({{65, "s65"}})}}));
  {
    std::unique_ptr<rocksdb::Iterator> runs(db_->NewIterator({}, handles_[1]));
    SkeletonRecords s(runs.get(), nullptr);
    s.SeekFrom(SkeletonRunFloor("acme", 64), SeqKey("acme", 64));
    ASSERT_TRUE(s.Valid());
    EXPECT_EQ(s.key(), SeqKey("acme", 64));
    EXPECT_FALSE(s.damaged());
    s.Next();
    ASSERT_TRUE(s.Valid());
    EXPECT_EQ(s.key(), SeqKey("acme", 65));
    EXPECT_TRUE(s.damaged());
    // From the floor of 65 the row is not read at all, as the daemon's
    // point read (GetSkeleton) does not read it.
    s.SeekFrom(SkeletonRunFloor("acme", 65), SeqKey("acme", 65));
    EXPECT_FALSE(s.Valid() && s.key().starts_with(TenantPrefix("acme")));
  }

  // Bodies have no such bound, even at the greatest distance.
  const uint64_t max = UINT64_MAX;
  PutRun("zeta", 0, RunOf({{0, "z0"}, {max, "zmax"}}));
  EXPECT_EQ(Read(TenantPrefix("zeta"), false),
            (Got{{"zeta/0", "z0"}, {"zeta/" + std::to_string(max), "zmax"}}));
}

// Keys too long to live inside a string object, over many rows: each row's
// keys are written into the buffers of the row before.
TEST_F(BodyRecordsTest, LongKeysReadAcrossManyRows) {
  const std::string tenant = "a-tenant-whose-id-is-long-enough";
  Got want;
  for (uint64_t key = 1; key <= 200; key += 40) {
    Bodies row;
    for (uint64_t seq = key; seq < key + (key == 41 ? 3 : 40); ++seq) {
      row.emplace_back(seq, "b" + std::to_string(seq));
      want.emplace_back(tenant + "/" + std::to_string(seq), "b" + std::to_string(seq));
    }
    PutRun(tenant, key, RunOf(row));
  }
  EXPECT_EQ(Read(), want);
  EXPECT_EQ(Read({}, true, /*skeletons=*/true), want);
}

// A key that is not key(tenant, seq) is handed on whole.
TEST_F(BodyRecordsTest, AMalformedKeyIsHandedOn) {
  ASSERT_TRUE(db_->Put({}, handles_[1], "junk", "value").ok());
  PutRun("acme", 1, RunOf({{1, "a1"}}));
  EXPECT_EQ(Read(), (Got{{"acme/1", "a1"}, {"raw:junk*", "value"}}));
}

}  // namespace
}  // namespace indelible::store
