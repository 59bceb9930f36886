// A purge is its own request, queued in order with the appends around it.
#include <filesystem>
#include <future>
#include <vector>

#include "daemon/write/sequencer.h"
#include "gtest/gtest.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

class SequencerPurgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/purge-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    auto s = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = std::move(*s);
    Sequencer::Options o;
    o.max_group_events = 4;  // appends before a purge span several groups
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, o);
    ASSERT_TRUE(seq_->Start().ok());
  }
  void TearDown() override {
    seq_.reset();
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

  // Submits an append without waiting; the future has its outcome.
  std::future<absl::StatusOr<std::vector<Receipt>>> AppendAsync(const std::string& tenant,
                                                                const std::string& id) {
    auto p = std::make_shared<std::promise<absl::StatusOr<std::vector<Receipt>>>>();
    auto f = p->get_future();
    seq_->Submit({Event(tenant, id)},
                 [p](absl::StatusOr<std::vector<Receipt>> r) { p->set_value(std::move(r)); });
    return f;
  }

  // Submits a purge without waiting; `*final_head` gets the head certified.
  std::future<absl::StatusOr<std::string>> PurgeAsync(const std::string& tenant,
                                                       store::Head* final_head) {
    auto p = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
    auto f = p->get_future();
    seq_->SubmitPurge(
        tenant,
        [final_head](const store::Head& h) -> absl::StatusOr<std::string> {
          *final_head = h;
          return "cert:" + std::to_string(h.seq);
        },
        [p](absl::StatusOr<std::string> r) { p->set_value(std::move(r)); });
    return f;
  }

  std::string dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
};

TEST_F(SequencerPurgeTest, PurgeTakesItsPlaceBetweenTheAppendsAroundIt) {
  constexpr int kBefore = 23, kAfter = 9;
  std::vector<std::future<absl::StatusOr<std::vector<Receipt>>>> before, after, other;
  for (int i = 0; i < kBefore; ++i) {
    before.push_back(AppendAsync("acme", "b" + std::to_string(i)));
    other.push_back(AppendAsync("beta", "b" + std::to_string(i)));
  }
  store::Head final_head;
  auto purged = PurgeAsync("acme", &final_head);
  for (int i = 0; i < kAfter; ++i) {
    after.push_back(AppendAsync("acme", "a" + std::to_string(i)));
    other.push_back(AppendAsync("beta", "a" + std::to_string(i)));
  }

  // Every append queued before the purge is stored first and certified by
  // it; every one queued after it is refused; other tenants go on.
  for (int i = 0; i < kBefore; ++i) {
    auto r = before[i].get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->at(0).seq, static_cast<uint64_t>(i + 1));
  }
  auto cert = purged.get();
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(*cert, "cert:" + std::to_string(kBefore));
  EXPECT_EQ(final_head.seq, static_cast<uint64_t>(kBefore));
  for (auto& f : after) {
    EXPECT_EQ(f.get().status().code(), absl::StatusCode::kFailedPrecondition);
  }
  for (size_t i = 0; i < other.size(); ++i) {
    auto r = other[i].get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->at(0).seq, i + 1);
  }
  EXPECT_EQ(seq_->PurgeCertificate("acme"), cert.value());
  // The final head and skeletons stay; the bodies are gone.
  EXPECT_EQ(seq_->GetHead("acme").seq, static_cast<uint64_t>(kBefore));
  auto kept = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->size(), static_cast<size_t>(kBefore));
  for (const auto& r : *kept) EXPECT_TRUE(r.pruned) << r.seq;
  EXPECT_EQ(seq_->GetHead("beta").seq, other.size());
}

TEST_F(SequencerPurgeTest, PurgesInARowAreAnsweredInOrder) {
  auto a = AppendAsync("acme", "1");
  auto b = AppendAsync("beta", "1");
  store::Head acme_head, again_head, beta_head;
  auto purge_acme = PurgeAsync("acme", &acme_head);
  auto purge_again = PurgeAsync("acme", &again_head);
  auto purge_beta = PurgeAsync("beta", &beta_head);
  ASSERT_TRUE(a.get().ok());
  ASSERT_TRUE(b.get().ok());
  EXPECT_EQ(purge_acme.get().value(), "cert:1");
  EXPECT_EQ(purge_again.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(purge_beta.get().value(), "cert:1");
}

TEST_F(SequencerPurgeTest, PurgeAfterStopFailsUnavailable) {
  seq_->Stop();
  store::Head head;
  EXPECT_EQ(PurgeAsync("acme", &head).get().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace indelible
