// The committer's memtable (daemon/write/memtable_rep.h), in a real RocksDB:
// rows inserted with and without hints, interleaved and out of order, read
// back through Get, MultiGet, iterators in both directions and seeks, from
// the memtable and again from the table file its flush writes, each checked
// against a std::map of the same writes; and readers running beside the
// writer.
#include "daemon/write/memtable_rep.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/slice_transform.h"

namespace indelible {
namespace {

class MemtableRepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/memtable-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    rocksdb::Options o;
    o.create_if_missing = true;
    o.allow_concurrent_memtable_write = false;
    o.memtable_factory = std::make_shared<AppendSkipListFactory>();
    // Hints per 2-byte prefix ("t3"), as the daemon's are per tenant.
    o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(2));
    o.write_buffer_size = 64 << 20;  // everything stays in the memtable until Flush
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_, &db).ok());
    db_.reset(db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), k, v).ok());
    model_[k] = v;
  }
  void Delete(const std::string& k) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), k).ok());
    model_.erase(k);
  }

  // Everything the DB answers matches the model.
  void ExpectMatchesModel(std::mt19937_64* rnd) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    auto m = model_.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(m, model_.end());
      ASSERT_EQ(it->key().ToString(), m->first);
      ASSERT_EQ(it->value().ToString(), m->second);
    }
    ASSERT_TRUE(it->status().ok());
    EXPECT_EQ(m, model_.end());
    auto r = model_.rbegin();
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
      ASSERT_NE(r, model_.rend());
      ASSERT_EQ(it->key().ToString(), r->first);
    }
    EXPECT_EQ(r, model_.rend());
    for (int i = 0; i < 2000; ++i) {
      const std::string target = Key((*rnd)() % 12, (*rnd)() % 5000);
      it->Seek(target);
      auto lb = model_.lower_bound(target);
      ASSERT_EQ(it->Valid(), lb != model_.end()) << target;
      if (it->Valid()) {
        ASSERT_EQ(it->key().ToString(), lb->first);
      }
      it->SeekForPrev(target);
      auto ub = model_.upper_bound(target);
      ASSERT_EQ(it->Valid(), ub != model_.begin()) << target;
      if (it->Valid()) {
        ASSERT_EQ(it->key().ToString(), std::prev(ub)->first);
      }
      std::string v;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), target, &v);
      auto f = model_.find(target);
      ASSERT_EQ(s.ok(), f != model_.end()) << target << " " << s.ToString();
      if (s.ok()) {
        ASSERT_EQ(v, f->second);
      }
    }
    std::vector<std::string> keys;
    for (int i = 0; i < 64; ++i) keys.push_back(Key((*rnd)() % 12, (*rnd)() % 5000));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<rocksdb::Status> st = db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
    for (size_t i = 0; i < keys.size(); ++i) {
      auto f = model_.find(keys[i]);
      ASSERT_EQ(st[i].ok(), f != model_.end()) << keys[i];
      if (st[i].ok()) {
        EXPECT_EQ(values[i], f->second);
      }
    }
  }

  static std::string Key(uint64_t tenant, uint64_t n) {
    char buf[32];
    snprintf(buf, sizeof buf, "t%c%08llu", static_cast<char>('a' + tenant),
             static_cast<unsigned long long>(n));
    return buf;
  }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, std::string> model_;
};

TEST_F(MemtableRepTest, InterleavedAppendsReadBackFromMemtableAndTable) {
  std::mt19937_64 rnd(7);
  // Twelve prefixes appended in key order, interleaved, as tenants are.
  for (uint64_t n = 0; n < 4000; ++n) {
    for (uint64_t t = 0; t < 12; ++t) Put(Key(t, n), "v" + std::to_string(n * 12 + t));
  }
  ExpectMatchesModel(&rnd);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  ExpectMatchesModel(&rnd);
}

TEST_F(MemtableRepTest, OutOfOrderOverwritesAndDeletes) {
  std::mt19937_64 rnd(11);
  // Hints that no longer bracket the key (random order), keys outside the
  // hint prefix's domain (one byte: inserted without a hint), new versions
  // of stored keys and deletions.
  for (int i = 0; i < 30000; ++i) {
    const std::string k = Key(rnd() % 12, rnd() % 5000);
    switch (rnd() % 8) {
      case 0: Delete(k); break;
      case 1: Put(k.substr(0, 1), "short" + std::to_string(i)); break;
      default: Put(k, "w" + std::to_string(i)); break;
    }
  }
  ExpectMatchesModel(&rnd);
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  ExpectMatchesModel(&rnd);
}

TEST_F(MemtableRepTest, ReadersBesideTheWriterSeeOrderedRows) {
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
        std::string last;
        size_t seen = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next(), ++seen) {
          std::string k = it->key().ToString();
          if (!last.empty() && k <= last) bad.fetch_add(1);
          // Values are the key, so a torn row shows.
          if (it->value().ToString() != k) bad.fetch_add(1);
          last = std::move(k);
        }
        std::string v;
        rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key(3, 100), &v);
        if (s.ok() && v != Key(3, 100)) bad.fetch_add(1);
      }
    });
  }
  for (uint64_t n = 0; n < 3000; ++n) {
    for (uint64_t t = 0; t < 12; ++t) {
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), Key(t, n), Key(t, n)).ok());
    }
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(MemtableRepTest, IteratorsMadeOnOneThreadAndDestroyedOnAnother) {
  for (uint64_t n = 0; n < 100; ++n) Put(Key(n % 3, n), "v");
  // Memtable iterators of DB iterators live in per-thread storage: many
  // destroyed on a thread that did not make them, then made again there.
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<rocksdb::Iterator>> its;
    for (int i = 0; i < 150; ++i) {
      its.emplace_back(db_->NewIterator(rocksdb::ReadOptions()));
      its.back()->SeekToFirst();
      ASSERT_TRUE(its.back()->Valid());
    }
    std::thread([&its] { its.clear(); }).join();
    std::thread([&] {
      for (int i = 0; i < 150; ++i) {
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
        it->SeekToLast();
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key().ToString(), model_.rbegin()->first);
      }
    }).join();
  }
}

}  // namespace
}  // namespace indelible
