#include "daemon/sequencer.h"

#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "gtest/gtest.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

class SequencerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/seq-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    auto s = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = std::move(*s);
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_,
                                       Sequencer::Options());
    ASSERT_TRUE(seq_->Start().ok());
  }
  void Close() {
    seq_.reset();
    storage_.reset();
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

  absl::StatusOr<std::vector<Receipt>> SubmitSync(std::vector<PreparedEvent> ev) {
    std::promise<absl::StatusOr<std::vector<Receipt>>> p;
    auto f = p.get_future();
    seq_->Submit(std::move(ev), [&p](absl::StatusOr<std::vector<Receipt>> r) {
      p.set_value(std::move(r));
    });
    return f.get();
  }

  // Recomputes the chain from storage and checks it ends at the head.
  void ExpectChainIntact(const std::string& tenant, uint64_t want_len) {
    auto recs = storage_->ReadRecords(tenant, 1, 1 << 20);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), want_len);
    chain::Digest prev = chain::Genesis(tenant);
    uint64_t prev_time = 0;
    for (size_t i = 0; i < recs->size(); ++i) {
      const StoredRecord& r = (*recs)[i];
      ASSERT_EQ(r.seq, i + 1);
      ASSERT_FALSE(r.pruned);
      EXPECT_EQ(chain::BodyDigest(r.salt, r.ce), r.skeleton.body_digest);
      EXPECT_GE(r.skeleton.received_at_ns, prev_time);
      chain::Digest h = chain::EntryHash(tenant, r.seq, r.skeleton.received_at_ns,
                                         prev, r.skeleton.body_digest);
      ASSERT_EQ(h, r.skeleton.entry_hash) << "seq " << r.seq;
      prev = h;
      prev_time = r.skeleton.received_at_ns;
    }
    store::Head head = seq_->GetHead(tenant);
    EXPECT_EQ(head.seq, want_len);
    EXPECT_EQ(head.entry_hash, prev);
  }

  std::string dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
};

TEST_F(SequencerTest, EmptyTenantHeadIsGenesis) {
  store::Head h = seq_->GetHead("nobody");
  EXPECT_EQ(h.seq, 0u);
  EXPECT_EQ(h.entry_hash, chain::Genesis("nobody"));
}

TEST_F(SequencerTest, ConcurrentAppendsAreGaplessPerTenant) {
  const std::vector<std::string> tenants = {"t1", "t2", "t3"};
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<std::string, std::map<uint64_t, chain::Digest>> receipts;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& tenant = tenants[(t + i) % tenants.size()];
        auto r = SubmitSync({Event(tenant, "e" + std::to_string(t) + "-" +
                                               std::to_string(i))});
        ASSERT_TRUE(r.ok()) << r.status();
        std::lock_guard<std::mutex> l(mu);
        ASSERT_TRUE(receipts[tenant].emplace(r->at(0).seq, r->at(0).entry_hash).second)
            << "seq handed out twice";
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t total = 0;
  for (const auto& tenant : tenants) {
    const auto& got = receipts[tenant];
    total += got.size();
    ExpectChainIntact(tenant, got.size());
    auto recs = storage_->ReadRecords(tenant, 1, 1 << 20);
    for (const auto& r : *recs) EXPECT_EQ(got.at(r.seq), r.skeleton.entry_hash);
  }
  EXPECT_EQ(total, size_t{kThreads * kPerThread});
}

TEST_F(SequencerTest, BatchIsAtomicAndOrdered) {
  auto r = SubmitSync({Event("acme", "a"), Event("acme", "b"), Event("other", "c")});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].seq, 1u);
  EXPECT_EQ((*r)[1].seq, 2u);
  EXPECT_EQ((*r)[2].seq, 1u);
  EXPECT_EQ((*r)[2].tenant, "other");
  ExpectChainIntact("acme", 2);
  ExpectChainIntact("other", 1);
}

TEST_F(SequencerTest, DuplicateEventIdReturnsFirstReceipt) {
  auto first = SubmitSync({Event("acme", "x")});
  ASSERT_TRUE(first.ok());
  auto again = SubmitSync({Event("acme", "x")});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_EQ((*again)[0].seq, (*first)[0].seq);
  EXPECT_EQ((*again)[0].entry_hash, (*first)[0].entry_hash);
  EXPECT_EQ((*again)[0].received_at_ns, (*first)[0].received_at_ns);
  // Same id within one request, and the same id in another tenant.
  auto mixed = SubmitSync({Event("acme", "y"), Event("acme", "y"), Event("b", "x")});
  ASSERT_TRUE(mixed.ok());
  EXPECT_FALSE((*mixed)[0].duplicate);
  EXPECT_TRUE((*mixed)[1].duplicate);
  EXPECT_EQ((*mixed)[1].seq, (*mixed)[0].seq);
  EXPECT_FALSE((*mixed)[2].duplicate);
  ExpectChainIntact("acme", 2);
  ExpectChainIntact("b", 1);
}

TEST_F(SequencerTest, RacingRetriesStoreOnce) {
  constexpr int kRacers = 16;
  std::vector<std::future<absl::StatusOr<std::vector<Receipt>>>> results;
  for (int i = 0; i < kRacers; ++i) {
    results.push_back(std::async(std::launch::async, [this] {
      return SubmitSync({Event("acme", "same")});
    }));
  }
  int originals = 0;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].seq, 1u);
    originals += (*r)[0].duplicate ? 0 : 1;
  }
  EXPECT_EQ(originals, 1);
  ExpectChainIntact("acme", 1);
}

TEST_F(SequencerTest, ReceivedAtNeverGoesBackwards) {
  auto a = SubmitSync({Event("acme", "1")});
  clock_.Set(kStart - 5000000000ull);  // the wall clock jumps back 5 s
  auto b = SubmitSync({Event("acme", "2")});
  clock_.Set(kStart + 1000);
  auto c = SubmitSync({Event("acme", "3")});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)[0].received_at_ns, kStart);
  EXPECT_EQ((*b)[0].received_at_ns, kStart);
  EXPECT_EQ((*c)[0].received_at_ns, kStart + 1000);
  ExpectChainIntact("acme", 3);
}

TEST_F(SequencerTest, RestartContinuesChain) {
  ASSERT_TRUE(SubmitSync({Event("acme", "1"), Event("acme", "2")}).ok());
  Close();
  clock_.Set(kStart - 1);  // even across a restart, time does not go back
  Open();
  EXPECT_EQ(seq_->GetHead("acme").seq, 2u);
  auto r = SubmitSync({Event("acme", "3"), Event("acme", "1")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].seq, 3u);
  EXPECT_GE((*r)[0].received_at_ns, kStart);
  EXPECT_TRUE((*r)[1].duplicate);
  EXPECT_EQ((*r)[1].seq, 1u);
  ExpectChainIntact("acme", 3);
}

TEST_F(SequencerTest, SubmitAfterStopFailsUnavailable) {
  seq_->Stop();
  auto r = SubmitSync({Event("acme", "late")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SequencerTest, HeadDisagreeingWithItsSkeletonQuarantinesTheTenant) {
  ASSERT_TRUE(SubmitSync({Event("acme", "1"), Event("acme", "2")}).ok());
  ASSERT_TRUE(SubmitSync({Event("globex", "1")}).ok());
  Close();
  {
    // A head that does not match the last skeleton, as a damaged or
    // tampered store would have.
    auto s = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    auto head = (*s)->GetHead("acme");
    ASSERT_TRUE(head.ok());
    head->entry_hash[0] ^= 1;
    rocksdb::WriteBatch batch;
    (*s)->PutHead(&batch, "acme", *head);
    ASSERT_TRUE((*s)->WriteSynced(&batch).ok());
  }
  Open();
  auto reason = seq_->Quarantined("acme");
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("head does not match"), std::string::npos) << *reason;
  EXPECT_FALSE(seq_->Quarantined("globex").has_value());
  auto r = SubmitSync({Event("acme", "3")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("tenant acme"), std::string::npos)
      << r.status();
  // Atomic: a batch touching it stores nothing for the other tenant either.
  r = SubmitSync({Event("globex", "2"), Event("acme", "4")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  auto ok = SubmitSync({Event("globex", "3")});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].seq, 2u);
  EXPECT_EQ(seq_->GetHead("acme").seq, 2u);
}

}  // namespace
}  // namespace indelible
