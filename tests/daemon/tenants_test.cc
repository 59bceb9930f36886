#include "daemon/write/tenants.h"

#include <filesystem>
#include <future>

#include "daemon/write/sequencer.h"
#include "gtest/gtest.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

// A table over a real store; records are written by a real Sequencer,
// stopped before the table under test reads them.
class TenantTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tenants-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    auto s = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = std::move(*s);
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  static PreparedEvent Event(const std::string& tenant, const std::string& id) {
    PreparedEvent e;
    e.tenant = tenant;
    e.event_id = id;
    chain::Salt salt;
    salt.fill(1);
    e.body = store::EncodeBody(0, salt, "ce:" + id);
    e.category = "access";
    e.body_digest = chain::BodyDigest(salt, "ce:" + id);
    return e;
  }

  // Appends `n` events to `tenant` and returns the final receipt.
  Receipt Append(const std::string& tenant, int n) {
    Sequencer seq(storage_.get(), &clock_, Sequencer::Options());
    EXPECT_TRUE(seq.Start().ok());
    Receipt last;
    for (int i = 0; i < n; ++i) {
      std::promise<absl::StatusOr<std::vector<Receipt>>> p;
      seq.Submit({Event(tenant, tenant + std::to_string(i))},
                 [&p](absl::StatusOr<std::vector<Receipt>> r) { p.set_value(std::move(r)); });
      auto r = p.get_future().get();
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) last = r->at(0);
    }
    return last;
  }

  std::string dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
};

TEST_F(TenantTableTest, LoadsStoredHeadsAndFrontiers) {
  const Receipt acme = Append("acme", 5);
  const Receipt beta = Append("beta", 2);
  TenantTable t(storage_.get());
  ASSERT_TRUE(t.LoadHeads().ok());
  ASSERT_TRUE(t.CheckHeads().ok());
  ASSERT_TRUE(t.LoadFrontiers().ok());
  EXPECT_EQ(t.GetHead("acme").seq, 5u);
  EXPECT_EQ(t.GetHead("acme").entry_hash, acme.entry_hash);
  EXPECT_EQ(t.GetHead("beta").entry_hash, beta.entry_hash);
  EXPECT_EQ(t.AllHeads().size(), 2u);
  EXPECT_EQ(t.PendingFrontier("acme").size(), 5u);
  EXPECT_EQ(t.PendingFrontier("acme").Root(), storage_->LoadCompactRange("acme", 5)->Root());
  EXPECT_FALSE(t.Quarantined("acme"));
  EXPECT_TRUE(t.Admit("acme").ok());

  // A tenant without records: genesis head, empty tree.
  EXPECT_EQ(t.GetHead("nobody").seq, 0u);
  EXPECT_EQ(t.GetHead("nobody").entry_hash, chain::Genesis("nobody"));
  EXPECT_EQ(t.PendingFrontier("nobody").size(), 0u);
}

TEST_F(TenantTableTest, PendingHeadsLeadTheDurableOnesUntilCleared) {
  TenantTable t(storage_.get());
  ASSERT_TRUE(t.LoadHeads().ok());
  store::Head h;
  h.seq = 3;
  h.received_at_ns = kStart;
  h.entry_hash.fill(7);
  FrontierMap frontiers;
  frontiers["acme"].Append(chain::Digest{});
  t.Publish({{"acme", h}}, &frontiers);
  EXPECT_TRUE(frontiers.empty()) << "published frontiers move into the table";
  EXPECT_EQ(t.PendingHead("acme").seq, 3u);
  EXPECT_EQ(t.PendingFrontier("acme").size(), 1u);
  EXPECT_EQ(t.GetHead("acme").seq, 0u) << "not durable before SetDurable";
  EXPECT_TRUE(t.AllHeads().empty());

  t.SetDurable({{"acme", h}});
  EXPECT_EQ(t.GetHead("acme").entry_hash, h.entry_hash);
  h.seq = 4;
  t.Publish({{"acme", h}}, &frontiers);
  t.ClearPending();
  EXPECT_EQ(t.PendingHead("acme").seq, 3u) << "cleared: the durable head again";
  EXPECT_EQ(t.PendingFrontier("acme").size(), 1u) << "frontiers are not a pending overlay";
}

TEST_F(TenantTableTest, PurgedTenantIsRefusedAndKeepsItsCertificate) {
  Append("acme", 2);
  TenantTable t(storage_.get());
  ASSERT_TRUE(t.LoadHeads().ok());
  ASSERT_TRUE(t.LoadFrontiers().ok());
  t.Purged("acme", "cert");
  // The final head stays (checkpoints and witnessing see it); nothing links
  // onto it again.
  EXPECT_EQ(t.GetHead("acme").seq, 2u);
  EXPECT_EQ(t.AllHeads().size(), 1u);
  EXPECT_EQ(t.PendingFrontier("acme").size(), 0u);
  EXPECT_EQ(t.PurgeCertificate("acme"), "cert");
  absl::Status s = t.Admit("acme");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("tenant acme was purged"), std::string::npos) << s;
  EXPECT_TRUE(t.Admit("beta").ok());
}

TEST_F(TenantTableTest, LoadHeadsReadsStoredPurges) {
  rocksdb::WriteBatch batch;
  storage_->PutMeta(&batch, std::string(store::kPurgedPrefix) + "gone", "certificate of gone");
  ASSERT_TRUE(storage_->WriteSynced(&batch).ok());
  TenantTable t(storage_.get());
  ASSERT_TRUE(t.LoadHeads().ok());
  EXPECT_EQ(t.PurgeCertificate("gone"), "certificate of gone");
  EXPECT_FALSE(t.PurgeCertificate("acme"));
  EXPECT_EQ(t.Admit("gone").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TenantTableTest, QuarantinedTenantIsRefusedWithDataLossNamingIt) {
  TenantTable t(storage_.get());
  t.Quarantine("acme", "checksum mismatch");
  EXPECT_EQ(t.Quarantined("acme"), "checksum mismatch");
  absl::Status s = t.Admit("acme");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("tenant acme is quarantined"), std::string::npos) << s;
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s;
  EXPECT_EQ(s, TenantTable::QuarantineError("acme", "checksum mismatch"));
  EXPECT_TRUE(t.Admit("beta").ok());
}

TEST_F(TenantTableTest, CheckHeadsQuarantinesAHeadThatDisagreesWithItsRecord) {
  Append("acme", 3);
  Append("beta", 1);
  store::Head wrong = *storage_->GetHead("acme");
  wrong.entry_hash[0] ^= 1;
  rocksdb::WriteBatch batch;
  storage_->PutHead(&batch, "acme", wrong);
  ASSERT_TRUE(storage_->WriteSynced(&batch).ok());
  TenantTable t(storage_.get());
  ASSERT_TRUE(t.LoadHeads().ok());
  ASSERT_TRUE(t.CheckHeads().ok());
  EXPECT_TRUE(t.Quarantined("acme"));
  EXPECT_FALSE(t.Quarantined("beta"));
}

TEST_F(TenantTableTest, MissingTreeQuarantinesTheTenantWhenFrontiersLoad) {
  Append("acme", 16);
  Append("beta", 1);
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* tree = nullptr;
  for (auto* h : storage_->column_families()) {
    if (h->GetName() == store::kTreeCf) tree = h;
  }
  ASSERT_NE(tree, nullptr);
  ASSERT_TRUE(batch.Delete(tree, store::TreeKey("acme", 4, 0)).ok());
  ASSERT_TRUE(storage_->WriteSynced(&batch).ok());
  // As at a start: nothing of the tree in memory.
  storage_.reset();
  auto reopened = Storage::Open(dir_, StorageOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  storage_ = std::move(*reopened);
  TenantTable t(storage_.get());
  ASSERT_TRUE(t.LoadHeads().ok());
  ASSERT_TRUE(t.LoadFrontiers().ok());
  EXPECT_TRUE(t.Quarantined("acme"));
  EXPECT_EQ(t.PendingFrontier("acme").size(), 0u);
  EXPECT_FALSE(t.Quarantined("beta"));
  EXPECT_EQ(t.PendingFrontier("beta").size(), 1u);
}

}  // namespace
}  // namespace indelible
