// The purge register applied to a restored store (store::ApplyPurgeRegister),
// on stores built row by row with RocksDB alone: one in the layout from
// before the idempotency index was keyed id first (its index keyed tenant
// first, store::kLegacyEventIdsCf), one in the current layout with a purge
// the backup caught before its ids were deleted.
#include "verifier/store/purge_register.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "verifier/store/layout.h"

namespace indelible::store {
namespace {

// cf name -> rows (key, value).
using Rows = std::map<std::string, std::map<std::string, std::string>>;

class PurgeRegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/purge-register-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    data_ = root_ + "/data";
    backups_ = root_ + "/backups";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static chain::NoteSigner Signer(char seed) {
    return chain::NoteSigner("indelible.test",
                             *chain::Ed25519PrivateKey::FromSeed(std::string(32, seed)));
  }

  static std::string Certificate(const chain::NoteSigner& signer, const std::string& tenant) {
    chain::DeletionCertificate c;
    c.tenant = tenant;
    c.final_seq = 2;
    c.final_head[0] = 7;
    c.timestamp_ns = 1700000000000000000ull;
    c.version = 2;
    c.log_name = "indelible.test";
    c.root[0] = 9;
    c.approvers = {"alice@ops.example"};
    return signer.Sign(chain::DeletionCertificateText(c));
  }

  // Creates the store with exactly the column families of `rows` (and the
  // default one) holding exactly those rows.
  void Write(const Rows& rows) {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}};
    for (const auto& [cf, unused] : rows) {
      if (cf == rocksdb::kDefaultColumnFamilyName) continue;
      cfs.emplace_back(cf, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, data_, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteBatch b;
    for (size_t i = 0; i < cfs.size(); ++i) {
      auto it = rows.find(cfs[i].name);
      if (it == rows.end()) continue;
      for (const auto& [k, v] : it->second) b.Put(handles[i], k, v);
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Write(wo, &b).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  // Every row of every column family of the closed store.
  Rows Read() {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), data_, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    Rows out;
    if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), data_, cfs, &handles, &raw).ok()) {
      ADD_FAILURE() << "cannot open " << data_;
      return out;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    for (auto* h : handles) {
      auto& rows = out[h->GetName()];
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        rows[it->key().ToString()] = it->value().ToString();
      }
      EXPECT_TRUE(it->status().ok());
    }
    for (auto* h : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    return out;
  }

  void Register(const std::string& tenant, const std::string& certificate) {
    ASSERT_TRUE(RegisterPurge(backups_, tenant, certificate).ok());
  }

  // Registers `signer`'s certificate of `tenant`, applies the register,
  // expects exactly `tenant` applied, and returns the store's rows then.
  Rows PurgeAndRead(const chain::NoteSigner& signer, const std::string& tenant,
                    std::string* cert) {
    *cert = Certificate(signer, tenant);
    Register(tenant, *cert);
    auto applied = ApplyPurgeRegister(backups_, data_, {signer.verifier_key()});
    EXPECT_TRUE(applied.ok()) << applied.status();
    if (applied.ok()) EXPECT_EQ(*applied, std::vector<std::string>{tenant});
    return Read();
  }

  static std::string Id(uint64_t seq) {
    return EncodeEventIdValue(seq, 1700000000000000000ull + seq, "access");
  }

  std::string root_, data_, backups_;
};

TEST_F(PurgeRegisterTest, AStoreWithTheLegacyIndexAndBodiesLosesThePurgedTenantsRowsOnly) {
  const chain::NoteSigner signer = Signer('k');
  // "beta" is also an event id of acme's: a tenant-first key range must not
  // reach it.
  Write({{kLegacyBodiesCf,
          {{SeqKey("acme", 1), "acme body 1"},
           {SeqKey("acme", 2), "acme body 2"},
           {SeqKey("beta", 1), "beta body 1"}}},
         {kLegacyEventIdsCf,
          {{TenantPrefix("acme") + "id-1", Id(1)},
           {TenantPrefix("acme") + "beta", Id(2)},
           {TenantPrefix("beta") + "id-1", Id(1)}}}});
  std::string cert;
  Rows after = PurgeAndRead(signer, "acme", &cert);
  EXPECT_EQ(after[kLegacyBodiesCf],
            (std::map<std::string, std::string>{{SeqKey("beta", 1), "beta body 1"}}));
  EXPECT_EQ(after[kLegacyEventIdsCf],
            (std::map<std::string, std::string>{{TenantPrefix("beta") + "id-1", Id(1)}}));
  EXPECT_EQ(after[rocksdb::kDefaultColumnFamilyName][std::string(kPurgedPrefix) + "acme"], cert);
  // The register adds no column family: the daemon moves the legacy index
  // and bodies when it opens the store.
  EXPECT_EQ(after.count(kEventIdsCf), 0u);
  EXPECT_EQ(after.count(kBodiesCf), 0u);

  // Applied again (a second restore of the same copy): already purged.
  auto again = ApplyPurgeRegister(backups_, data_, {signer.verifier_key()});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(Read(), after);
}

TEST_F(PurgeRegisterTest, TheCurrentIndexLosesRegisteredAndMarkedTenantsIds) {
  const chain::NoteSigner signer = Signer('k');
  const std::string mark = std::string(kPurgingEventIdsPrefix) + "gamma";
  const std::string gamma_purge = std::string(kPurgedPrefix) + "gamma";
  // gamma was purged in the backup, its ids not yet deleted (the mark).
  Write({{rocksdb::kDefaultColumnFamilyName, {{mark, ""}, {gamma_purge, "gamma's certificate"}}},
         {kBodiesCf, {{SeqKey("acme", 1), "acme body 1"}, {SeqKey("beta", 1), "beta body 1"}}},
         {kEventIdsCf,
          {{EventIdKey("acme", "id-1"), Id(1)},
           {EventIdKey("beta", "id-1"), Id(1)},
           {EventIdKey("acme", "gamma"), Id(2)},
           {EventIdKey("gamma", "id-7"), Id(7)}}}});
  std::string cert;
  Rows after = PurgeAndRead(signer, "acme", &cert);
  EXPECT_EQ(after[kBodiesCf],
            (std::map<std::string, std::string>{{SeqKey("beta", 1), "beta body 1"}}));
  EXPECT_EQ(after[kEventIdsCf],
            (std::map<std::string, std::string>{{EventIdKey("beta", "id-1"), Id(1)}}));
  EXPECT_EQ(after[rocksdb::kDefaultColumnFamilyName],
            (std::map<std::string, std::string>{{gamma_purge, "gamma's certificate"},
                                                {std::string(kPurgedPrefix) + "acme", cert}}));
}

TEST_F(PurgeRegisterTest, ACertificateOfAnotherKeyOrTenantChangesNothing) {
  const chain::NoteSigner signer = Signer('k');
  const Rows before = {
      {kBodiesCf, {{SeqKey("acme", 1), "acme body 1"}, {SeqKey("beta", 1), "beta body 1"}}},
      {kEventIdsCf, {{EventIdKey("acme", "id-1"), Id(1)}, {EventIdKey("beta", "id-1"), Id(1)}}}};
  Write(before);
  // beta's entry holds a valid certificate, checked first; zeta's is signed
  // by a second key under the log's name. Nothing is applied, beta's neither.
  Register("beta", Certificate(signer, "beta"));
  Register("zeta", Certificate(Signer('m'), "zeta"));
  auto applied = ApplyPurgeRegister(backups_, data_, {signer.verifier_key()});
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(applied.status().message().find("zeta.cert"), std::string::npos)
      << applied.status();
  Rows after = Read();
  EXPECT_EQ(after[kBodiesCf], before.at(kBodiesCf));
  EXPECT_EQ(after[kEventIdsCf], before.at(kEventIdsCf));
  EXPECT_TRUE(after[rocksdb::kDefaultColumnFamilyName].empty());

  // The valid certificate of beta filed as acme's: refused as well.
  std::filesystem::remove_all(backups_);
  Register("acme", Certificate(signer, "beta"));
  applied = ApplyPurgeRegister(backups_, data_, {signer.verifier_key()});
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Read()[kBodiesCf], before.at(kBodiesCf));
}

}  // namespace
}  // namespace indelible::store
