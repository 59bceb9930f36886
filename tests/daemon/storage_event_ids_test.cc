// The idempotency index keyed event id first: a store whose index is still
// keyed tenant first (store::kLegacyEventIdsCf) has it moved when it is
// opened, and a purged tenant's rows are found by a scan.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/write/storage.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "verifier/store/event_ids.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

class StorageEventIdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/event-ids-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    storage_.reset();
    auto s = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = std::move(*s);
  }

  std::vector<std::string> ColumnFamilies() {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names).ok());
    return names;
  }

  // Opens the closed store with RocksDB alone, creates the legacy index and
  // writes `legacy` (tenant, id, seq) into it keyed tenant first, and
  // `current` into the current index, as an interrupted move leaves them.
  void WriteRawRows(const std::vector<std::tuple<std::string, std::string, uint64_t>>& legacy,
                    const std::vector<std::tuple<std::string, std::string, uint64_t>>& current) {
    storage_.reset();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : ColumnFamilies()) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* legacy_cf = nullptr;
    rocksdb::ColumnFamilyHandle* current_cf = nullptr;
    for (auto* h : handles) {
      if (h->GetName() == store::kLegacyEventIdsCf) legacy_cf = h;
      if (h->GetName() == store::kEventIdsCf) current_cf = h;
    }
    if (legacy_cf == nullptr) {
      ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                         store::kLegacyEventIdsCf, &legacy_cf)
                      .ok());
      handles.push_back(legacy_cf);
    }
    ASSERT_NE(current_cf, nullptr);
    rocksdb::WriteBatch b;
    for (const auto& [tenant, id, seq] : legacy) {
      b.Put(legacy_cf, store::TenantPrefix(tenant) + id,
            store::EncodeEventIdValue(seq, 1700000000000000000ull + seq, "access"));
    }
    for (const auto& [tenant, id, seq] : current) {
      b.Put(current_cf, store::EventIdKey(tenant, id),
            store::EncodeEventIdValue(seq, 1700000000000000000ull + seq, "access"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Write(wo, &b).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  std::optional<uint64_t> Lookup(const std::string& tenant, const std::string& id) {
    auto r = storage_->LookupEventId(tenant, id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::nullopt;
  }

  // Every row of the current index, as (tenant, id).
  std::vector<std::pair<std::string, std::string>> Rows() {
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    for (auto* h : storage_->column_families()) {
      if (h->GetName() == store::kEventIdsCf) cf = h;
    }
    std::vector<std::pair<std::string, std::string>> out;
    if (cf == nullptr) {
      ADD_FAILURE() << "no " << store::kEventIdsCf;
      return out;
    }
    std::unique_ptr<rocksdb::Iterator> it(storage_->db()->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view tenant, id;
      EXPECT_TRUE(store::ParseEventIdKey(
          std::string_view(it->key().data(), it->key().size()), &tenant, &id));
      out.emplace_back(std::string(tenant), std::string(id));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(StorageEventIdsTest, ANewStoreHasOnlyTheCurrentIndex) {
  Open();
  const auto names = ColumnFamilies();
  EXPECT_NE(std::find(names.begin(), names.end(), store::kEventIdsCf), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), store::kLegacyEventIdsCf), names.end());
}

TEST_F(StorageEventIdsTest, OpeningMovesALegacyIndexAndDropsIt) {
  Open();
  WriteRawRows({{"acme", "evt-1", 1}, {"acme", "evt-2", 2}, {"beta", "evt-1", 1}}, {});
  Open();
  EXPECT_EQ(Lookup("acme", "evt-1"), 1u);
  EXPECT_EQ(Lookup("acme", "evt-2"), 2u);
  EXPECT_EQ(Lookup("beta", "evt-1"), 1u);
  EXPECT_EQ(Lookup("beta", "evt-2"), std::nullopt);
  const auto names = ColumnFamilies();
  EXPECT_EQ(std::find(names.begin(), names.end(), store::kLegacyEventIdsCf), names.end());
  // Still there after another open, from the current index alone.
  Open();
  EXPECT_EQ(Lookup("acme", "evt-2"), 2u);
  EXPECT_EQ(Rows().size(), 3u);
}

TEST_F(StorageEventIdsTest, AnInterruptedMoveIsDoneAgain) {
  Open();
  // Part of the legacy rows already moved, the legacy index still there.
  WriteRawRows({{"acme", "evt-1", 1}, {"acme", "evt-2", 2}}, {{"acme", "evt-1", 1}});
  Open();
  EXPECT_EQ(Lookup("acme", "evt-1"), 1u);
  EXPECT_EQ(Lookup("acme", "evt-2"), 2u);
  EXPECT_EQ(Rows().size(), 2u);
}

TEST_F(StorageEventIdsTest, DeletingATenantsIdsLeavesEveryOtherTenants) {
  Open();
  // Ids that equal a tenant's name, and a tenant whose name extends
  // another's: only (acme, *) goes.
  WriteRawRows({}, {{"acme", "evt-1", 1},
                    {"acme", "beta", 2},
                    {"beta", "acme", 1},
                    {"beta", "evt-1", 2},
                    {"acme2", "evt-1", 1},
                    {"acm", "evt-1", 1}});
  Open();
  ASSERT_TRUE(storage_->DeleteTenantEventIds("acme").ok());
  EXPECT_EQ(Lookup("acme", "evt-1"), std::nullopt);
  EXPECT_EQ(Lookup("acme", "beta"), std::nullopt);
  EXPECT_EQ(Lookup("beta", "acme"), 1u);
  EXPECT_EQ(Lookup("beta", "evt-1"), 2u);
  EXPECT_EQ(Lookup("acme2", "evt-1"), 1u);
  EXPECT_EQ(Lookup("acm", "evt-1"), 1u);
  const auto rows = Rows();
  EXPECT_EQ(rows.size(), 4u);
  for (const auto& [tenant, id] : rows) EXPECT_NE(tenant, "acme") << id;
}

// A purge's batch marks its tenant's event ids for deletion; if the daemon
// stops before DeleteTenantEventIds, the next open deletes them.
TEST_F(StorageEventIdsTest, APurgeWhoseIdsWereNotDeletedIsFinishedAtOpen) {
  Open();
  WriteRawRows({}, {{"acme", "evt-1", 1}, {"acme", "evt-2", 2}, {"beta", "evt-1", 1}});
  Open();
  rocksdb::WriteBatch b;
  storage_->DeleteTenantContent(&b, "acme");
  ASSERT_TRUE(storage_->WriteSynced(&b).ok());
  auto marks = storage_->ScanMeta(store::kPurgingEventIdsPrefix);
  ASSERT_TRUE(marks.ok());
  ASSERT_EQ(marks->size(), 1u);
  EXPECT_EQ(marks->at(0).first, std::string(store::kPurgingEventIdsPrefix) + "acme");
  EXPECT_EQ(Lookup("acme", "evt-1"), 1u);  // not yet: the scan has not run
  Open();
  EXPECT_EQ(Lookup("acme", "evt-1"), std::nullopt);
  EXPECT_EQ(Lookup("acme", "evt-2"), std::nullopt);
  EXPECT_EQ(Lookup("beta", "evt-1"), 1u);
  marks = storage_->ScanMeta(store::kPurgingEventIdsPrefix);
  ASSERT_TRUE(marks.ok());
  EXPECT_TRUE(marks->empty());
}

TEST_F(StorageEventIdsTest, DeletingATenantsIdsClearsItsMark) {
  Open();
  WriteRawRows({}, {{"acme", "evt-1", 1}});
  Open();
  rocksdb::WriteBatch b;
  storage_->DeleteTenantContent(&b, "acme");
  ASSERT_TRUE(storage_->WriteSynced(&b).ok());
  ASSERT_TRUE(storage_->DeleteTenantEventIds("acme").ok());
  EXPECT_EQ(Lookup("acme", "evt-1"), std::nullopt);
  auto marks = storage_->ScanMeta(store::kPurgingEventIdsPrefix);
  ASSERT_TRUE(marks.ok());
  EXPECT_TRUE(marks->empty());
}

}  // namespace
}  // namespace indelible
