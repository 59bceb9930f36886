#include "daemon/ops/retention.h"

#include <filesystem>
#include <future>

#include "daemon/governance/daemon_records.h"
#include "daemon/ops/retention_compaction.h"
#include "daemon/ops/retention_filter.h"
#include "daemon/ops/retention_policy.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "gtest/gtest.h"
#include "tests/verifier/raw_store.h"
#include "verifier/chain/canonical_event.h"

namespace indelible {
namespace {

constexpr uint64_t kNs = 1000000000ull;
constexpr uint64_t kDay = kSecondsPerDay * kNs;
constexpr uint64_t kStart = 1700000000000000000ull;

TEST(RetentionDuration, ParsesAndFormats) {
  EXPECT_EQ(*ParseRetentionDuration("365d"), 365 * kSecondsPerDay);
  EXPECT_EQ(*ParseRetentionDuration("24h"), 86400u);
  EXPECT_EQ(*ParseRetentionDuration("30m"), 1800u);
  EXPECT_EQ(*ParseRetentionDuration("90"), 90u);
  EXPECT_FALSE(ParseRetentionDuration("").ok());
  EXPECT_FALSE(ParseRetentionDuration("1y").ok());
  EXPECT_FALSE(ParseRetentionDuration("-1d").ok());
  EXPECT_FALSE(ParseRetentionDuration("99999999999999999999d").ok());
  EXPECT_EQ(FormatRetentionDuration(90 * kSecondsPerDay), "90d");
  EXPECT_EQ(FormatRetentionDuration(7200), "2h");
}

TEST(RetentionPolicy, Precedence) {
  RetentionConfig c;
  c.tenants["acme"]["trace"] = 30 * kSecondsPerDay;
  c.tenants["acme"]["*"] = 730 * kSecondsPerDay;
  RetentionState state(c);
  auto s = state.Get();
  EXPECT_EQ(s->RetentionSeconds("other", "access"), 365 * kSecondsPerDay);
  EXPECT_EQ(s->RetentionSeconds("other", "trace"), 90 * kSecondsPerDay);
  EXPECT_EQ(s->RetentionSeconds("other", "billing"), 365 * kSecondsPerDay);
  EXPECT_EQ(s->RetentionSeconds("acme", "trace"), 30 * kSecondsPerDay);
  EXPECT_EQ(s->RetentionSeconds("acme", "access"), 730 * kSecondsPerDay);
  state.SetOverride("acme", "trace", kSecondsPerDay);
  EXPECT_EQ(state.Get()->RetentionSeconds("acme", "trace"), kSecondsPerDay);
  EXPECT_EQ(s->RetentionSeconds("acme", "trace"), 30 * kSecondsPerDay)
      << "an old snapshot does not change";
}

// The event-id filter keeps entries younger than this without looking up
// their tenant's policy: every policy must count.
TEST(RetentionPolicy, ShortestRetentionCoversEveryPolicy) {
  RetentionConfig c;
  EXPECT_EQ(RetentionState(c).Get()->ShortestRetentionSeconds(), 90 * kSecondsPerDay);
  c.default_seconds = 60 * kSecondsPerDay;
  EXPECT_EQ(RetentionState(c).Get()->ShortestRetentionSeconds(), 60 * kSecondsPerDay);
  c.tenants["acme"]["*"] = 40 * kSecondsPerDay;
  EXPECT_EQ(RetentionState(c).Get()->ShortestRetentionSeconds(), 40 * kSecondsPerDay);
  c.tenants["acme"]["trace"] = 30 * kSecondsPerDay;
  RetentionState state(c);
  EXPECT_EQ(state.Get()->ShortestRetentionSeconds(), 30 * kSecondsPerDay);
  state.SetOverride("beta", "billing", 2 * kSecondsPerDay);
  EXPECT_EQ(state.Get()->ShortestRetentionSeconds(), 2 * kSecondsPerDay);
}

TEST(RetentionPolicy, ExpiryAndHold) {
  RetentionState state{RetentionConfig()};
  auto s = state.Get();
  EXPECT_FALSE(s->Expired("acme", "trace", kStart, kStart + 90 * kDay - 1));
  EXPECT_TRUE(s->Expired("acme", "trace", kStart, kStart + 90 * kDay));
  state.SetHold("acme", true);
  EXPECT_FALSE(state.Get()->Expired("acme", "trace", kStart, kStart + 1000 * kDay));
  state.SetHold("acme", false);
  EXPECT_TRUE(state.Get()->Expired("acme", "trace", kStart, kStart + 1000 * kDay));
}

TEST(RetentionConfigCheck, RejectsOutOfRange) {
  RetentionConfig c;
  c.categories["trace"] = 3600;  // below the 24 h minimum
  absl::Status s = ValidateRetentionConfig(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("retention.categories.trace"), std::string::npos);
  c = RetentionConfig();
  c.tenants["acme"]["access"] = 4000 * kSecondsPerDay;
  EXPECT_FALSE(ValidateRetentionConfig(c).ok());
  EXPECT_TRUE(ValidateRetentionConfig(RetentionConfig()).ok());
}

// The filters on a real RocksDB, driven by a manual clock.
class RetentionFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/ret-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    StorageOptions o;
    o.bodies_filter = NewRetentionFilterFactory(RetentionTarget::kBodies, &state_, &clock_,
                                                &counters_);
    o.event_ids_filter = NewRetentionFilterFactory(RetentionTarget::kEventIds, &state_,
                                                   &clock_, &counters_);
    storage_ = *Storage::Open(dir_, o);
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, Sequencer::Options());
    ASSERT_TRUE(seq_->Start().ok());
  }
  void TearDown() override {
    seq_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Append(const std::string& tenant, const std::string& id, const std::string& category) {
    AppendAll(tenant, {{id, category}});
  }
  // Appends events (id, category) of `tenant` in one request: their bodies
  // are one row (a run, layout.h).
  void AppendAll(const std::string& tenant,
                 const std::vector<std::pair<std::string, std::string>>& events) {
    std::vector<PreparedEvent> request;
    for (const auto& [id, category] : events) {
      chain::EventFields f;
      f.tenant = tenant;
      f.event_id = id;
      f.actor_id = "a";
      f.action = "x";
      f.category = category;
      std::string ce = *chain::EncodeCanonicalEvent(f);
      PreparedEvent e;
      e.tenant = tenant;
      e.event_id = id;
      e.category = category;
      chain::Salt salt{};
      e.body = store::EncodeBody(0, salt, ce);
      e.body_digest = chain::BodyDigest(salt, ce);
      request.push_back(std::move(e));
    }
    std::promise<void> done;
    seq_->Submit(std::move(request), [&](absl::StatusOr<std::vector<Receipt>> r) {
      EXPECT_TRUE(r.ok()) << r.status();
      done.set_value();
    });
    done.get_future().get();
  }
  // Rows of the bodies column family (runs), live ones only.
  size_t BodyRows() {
    rocksdb::ColumnFamilyHandle* bodies = nullptr;
    for (auto* h : storage_->column_families()) {
      if (h->GetName() == store::kBodiesCf) bodies = h;
    }
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), bodies));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    EXPECT_TRUE(it->status().ok());
    return n;
  }
  std::vector<bool> Pruned(const std::string& tenant) {
    std::vector<bool> out;
    // Named: a range-for over *ReadRecords(...) would iterate a vector whose
    // StatusOr is already destroyed (the temporary lives only until the
    // range is initialised; AddressSanitizer's stack-use-after-scope).
    auto records = storage_->ReadRecords(tenant, 1, 100);
    EXPECT_TRUE(records.ok()) << records.status();
    if (!records.ok()) return out;
    for (const auto& r : *records) out.push_back(r.pruned);
    return out;
  }

  std::string dir_;
  ManualClock clock_{kStart};
  RetentionState state_{RetentionConfig()};
  RetentionCounters counters_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
};

TEST_F(RetentionFilterTest, DropsExpiredBodiesAndIdsKeepsSkeletons) {
  Append("acme", "t1", "trace");
  Append("acme", "a1", "access");
  clock_.Advance(1 * kDay);
  Append("acme", "t2", "trace");
  ASSERT_TRUE(storage_->CompactAll().ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, false, false}));

  clock_.Advance(89 * kDay);  // t1 is 90 days old, t2 89
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false}));
  EXPECT_FALSE(storage_->LookupEventId("acme", "t1")->has_value());
  EXPECT_TRUE(storage_->LookupEventId("acme", "a1")->has_value());
  EXPECT_EQ(counters_.bodies_dropped.load(), 1u);

  clock_.Advance(300 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, true, true}));
  // Skeletons, and so the chain, are all still there.
  EXPECT_EQ(storage_->ReadRecords("acme", 1, 100)->size(), 3u);
  EXPECT_EQ(seq_->GetHead("acme").seq, 3u);
}

// Key rotation records are what verifiers follow to the current key
// (docs/OPERATIONS.md): no policy prunes them.
TEST_F(RetentionFilterTest, KeyRotationRecordsAreNeverPruned) {
  RetentionConfig c;
  c.default_seconds = kSecondsPerDay;
  c.categories.clear();
  state_.SetConfig(c);
  Append("acme", "k1", "indelible.key");
  Append("acme", "a1", "access");
  clock_.Advance(1000 * kDay);
  Append("acme", "a2", "access");
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, true, false}));
  EXPECT_TRUE(storage_->LookupEventId("acme", "k1")->has_value());
}

// The daemon's own records (policies, holds, approvals, reads, purges,
// keys) are what an auditor judges the rest by: no policy prunes them.
TEST_F(RetentionFilterTest, DaemonRecordsAreNeverPruned) {
  RetentionConfig c;
  c.default_seconds = kSecondsPerDay;
  c.categories.clear();
  c.categories["indelible.admin"] = kSecondsPerDay;  // said, and ignored
  state_.SetConfig(c);
  Append("acme", "p1", "indelible.policy");
  Append("acme", "h1", "indelible.admin");
  Append("acme", "r1", "indelible.access");
  Append("acme", "a1", "access");
  clock_.Advance(1000 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(state_.Get()->PolicyOf("acme").categories.count("indelible.admin"), 0u);
}

// With the gate on, a tenant prunes only under the policy last recorded in
// its chain: none recorded, or a change not recorded yet, prunes nothing.
TEST_F(RetentionFilterTest, GateHoldsTenantsWhosePolicyIsNotOnRecord) {
  Append("acme", "t1", "trace");
  Append("beta", "t1", "trace");
  const std::string acme = chain::FormatRetentionPolicy(state_.Get()->PolicyOf("acme"));
  state_.EnableGate({{"acme", acme}});
  clock_.Advance(100 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true}));
  EXPECT_EQ(Pruned("beta"), (std::vector<bool>{false})) << "no policy on record";
  // A change not on record drops the tenant's horizons at once.
  ASSERT_TRUE(UpdateRetentionHorizons(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_TRUE(state_.Get()->BodyExpired("acme", "trace", 1));
  state_.SetOverride("acme", "access", 30 * kSecondsPerDay);
  EXPECT_FALSE(state_.Get()->BodyExpired("acme", "trace", 1));
  EXPECT_EQ(state_.Get()->horizons.count("acme"), 0u);
}

// The recorder puts each tenant's policy in its chain (category
// indelible.policy, the canonical text) before the compaction prunes, and
// every later change before it applies.
TEST_F(RetentionFilterTest, PoliciesAreRecordedInEachChainBeforeTheyPrune) {
  DaemonRecorder recorder(seq_.get(), storage_.get(), &clock_, IngestLimits());
  RetentionPolicyRecorder policies(&state_, storage_.get(), &recorder);
  Append("acme", "t1", "trace");
  Append("beta", "t1", "trace");
  ASSERT_TRUE(policies.Start(RetentionConfig()).ok());
  EXPECT_EQ(seq_->GetHead("acme").seq, 1u) << "not recorded before a compaction finds it";
  clock_.Advance(100 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  for (const std::string tenant : {"acme", "beta"}) {
    auto records = storage_->ReadRecords(tenant, 1, 100);
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(records->size(), 2u) << tenant;
    EXPECT_TRUE((*records)[0].pruned);
    const auto& policy = (*records)[1];
    auto e = chain::DecodeCanonicalEvent(policy.ce);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->category, "indelible.policy");
    EXPECT_EQ(e->action, "retention.policy");
    std::map<std::string, std::string> m(e->metadata.begin(), e->metadata.end());
    EXPECT_EQ(m["cause"], "retention.compaction");
    EXPECT_EQ(m["policy"], chain::FormatRetentionPolicy(state_.Get()->PolicyOf(tenant)));
  }
  // A hold: recorded in acme's chain only, and on record across restarts.
  state_.RecordHold("acme", true);
  EXPECT_EQ(seq_->GetHead("acme").seq, 3u);
  EXPECT_EQ(seq_->GetHead("beta").seq, 2u);
  EXPECT_TRUE(state_.Get()->PolicyRecorded("acme"));
  auto rows = storage_->ScanMeta(kPolicyRecordPrefix);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_NE((*rows)[0].second.find("legal_hold true"), std::string::npos);
  // A compaction with nothing new records nothing.
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(seq_->GetHead("acme").seq, 3u);
}

TEST_F(RetentionFilterTest, PolicyChangeAppliesToStoredData) {
  Append("acme", "a1", "access");
  clock_.Advance(2 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false}));
  EXPECT_TRUE(storage_->LookupEventId("acme", "a1")->has_value());
  state_.SetOverride("acme", "access", kSecondsPerDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true}));
  EXPECT_FALSE(storage_->LookupEventId("acme", "a1")->has_value());
}

// An index entry is judged by its own tenant's policy: one tenant's short
// retention drops its entries and keeps the others' of the same age.
TEST_F(RetentionFilterTest, EachTenantsIdsExpireByItsOwnPolicy) {
  Append("acme", "a1", "access");
  Append("beta", "b1", "access");
  clock_.Advance(1 * kDay);
  Append("acme", "a2", "access");
  clock_.Advance(1 * kDay);
  state_.SetOverride("acme", "access", kSecondsPerDay + kSecondsPerDay / 2);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_FALSE(storage_->LookupEventId("acme", "a1")->has_value());  // 2 days old
  EXPECT_TRUE(storage_->LookupEventId("acme", "a2")->has_value());   // 1 day old
  EXPECT_TRUE(storage_->LookupEventId("beta", "b1")->has_value());   // 365-day policy
  EXPECT_EQ(counters_.event_ids_dropped.load(), 1u);
}

TEST_F(RetentionFilterTest, LegalHoldBlocksPruningUntilLifted) {
  Append("acme", "t1", "trace");
  Append("beta", "t1", "trace");
  state_.SetHold("acme", true);
  clock_.Advance(100 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false}));
  EXPECT_EQ(Pruned("beta"), (std::vector<bool>{true}));
  state_.SetHold("acme", false);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true}));
}

// The received_at stored with each body is covered by no hash: retention
// must judge by the skeletons. A copy edited to look older does not get its
// body pruned early, one edited to look newer does not keep it, and bodies
// that did expire are still pruned.
TEST_F(RetentionFilterTest, EditedBodyTimeDoesNotChangeWhatIsPruned) {
  Append("acme", "t1", "trace");
  clock_.Advance(1 * kDay);
  Append("acme", "t2", "trace");
  Append("acme", "t3", "trace");
  rocksdb::ColumnFamilyHandle* bodies = nullptr;
  for (auto* h : storage_->column_families()) {
    if (h->GetName() == store::kBodiesCf) bodies = h;
  }
  ASSERT_NE(bodies, nullptr);
  auto edit = [&](uint64_t seq, uint64_t received_at) {
    auto v = testing::GetBody(storage_->db(), bodies, "acme", seq);
    ASSERT_TRUE(v.has_value());
    store::SetBodyReceivedAt(&*v, received_at);
    testing::PutBody(storage_->db(), bodies, "acme", seq, *v);
  };
  edit(1, kStart + 1000 * kDay);  // t1 claims to be from the future
  edit(2, kStart - 1000 * kDay);  // t2 claims to be ancient
  clock_.Advance(89 * kDay);      // t1 is 90 days old, t2 and t3 89
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false}));
  // A compaction RocksDB runs on its own uses the same horizons.
  edit(3, kStart - 1000 * kDay);
  ASSERT_TRUE(storage_->CompactAll().ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false}));
  clock_.Advance(1 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, true, true}));
}

// Bodies of one request share a row: the filter rewrites it without the
// expired ones, keeping the others readable, and drops it once none is left.
TEST_F(RetentionFilterTest, ARowLosesOnlyItsExpiredBodies) {
  AppendAll("acme", {{"a1", "access"}, {"t1", "trace"}, {"a2", "access"}, {"t2", "trace"}});
  ASSERT_TRUE(storage_->CompactAll().ok());
  EXPECT_EQ(BodyRows(), 1u);
  auto before = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(before.ok()) << before.status();

  clock_.Advance(90 * kDay);  // the traces expire, the access events stay
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(counters_.bodies_dropped.load(), 2u);
  EXPECT_EQ(BodyRows(), 1u);
  auto after = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(after.ok()) << after.status();
  for (size_t i : {0u, 2u}) {
    EXPECT_EQ((*after)[i].ce, (*before)[i].ce);
    EXPECT_EQ((*after)[i].salt, (*before)[i].salt);
  }
  // Point reads agree with the scan.
  EXPECT_FALSE(storage_->GetBody("acme", 2)->has_value());
  ASSERT_TRUE(storage_->GetBody("acme", 3)->has_value());
  EXPECT_EQ(storage_->GetBody("acme", 3)->value().substr(store::kBodyHeaderSize + chain::kSaltSize),
            (*before)[2].ce);

  clock_.Advance(300 * kDay);
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, true, true, true}));
  EXPECT_EQ(counters_.bodies_dropped.load(), 4u);
  EXPECT_EQ(BodyRows(), 0u);
}

// A row that does not decode is kept whole, expired bodies and all:
// retention never deletes what it does not understand.
TEST_F(RetentionFilterTest, ARowThatDoesNotDecodeIsKeptAsItIs) {
  AppendAll("acme", {{"t1", "trace"}, {"a1", "access"}});
  rocksdb::ColumnFamilyHandle* bodies = nullptr;
  for (auto* h : storage_->column_families()) {
    if (h->GetName() == store::kBodiesCf) bodies = h;
  }
  ASSERT_NE(bodies, nullptr);
  std::string row;
  ASSERT_TRUE(storage_->db()->Get({}, bodies, store::SeqKey("acme", 1), &row).ok());
  row += "junk";
  ASSERT_TRUE(storage_->db()->Put({}, bodies, store::SeqKey("acme", 1), row).ok());
  clock_.Advance(90 * kDay);  // the trace has expired
  ASSERT_TRUE(CompactForRetention(storage_.get(), &state_, clock_.NowNanos()).ok());
  std::string after;
  ASSERT_TRUE(storage_->db()->Get({}, bodies, store::SeqKey("acme", 1), &after).ok());
  EXPECT_EQ(after, row);
  EXPECT_EQ(counters_.bodies_dropped.load(), 0u);
}

TEST_F(RetentionFilterTest, HorizonsFollowTheSkeletonsTimes) {
  Append("acme", "a1", "access");
  clock_.Advance(10 * kDay);
  Append("acme", "a2", "access");
  Append("acme", "t1", "trace");
  clock_.Advance(90 * kDay);
  ASSERT_TRUE(UpdateRetentionHorizons(storage_.get(), &state_, clock_.NowNanos()).ok());
  auto s = state_.Get();
  // 100 days after a1, 90 after a2 and t1.
  EXPECT_EQ(s->horizons.at("acme").at(90 * kSecondsPerDay), 3u);
  EXPECT_EQ(s->horizons.at("acme").at(365 * kSecondsPerDay), 0u);
  EXPECT_TRUE(s->BodyExpired("acme", "trace", 3));
  EXPECT_FALSE(s->BodyExpired("acme", "access", 1));
  EXPECT_FALSE(s->BodyExpired("other", "trace", 1)) << "no horizon: kept";
  // The filter's shortcut: at or below some horizon of the tenant the body
  // is read for its category; above all of them, or without one, it is not.
  EXPECT_TRUE(s->BodyMayExpire("acme", 1));
  EXPECT_TRUE(s->BodyMayExpire("acme", 3));
  EXPECT_FALSE(s->BodyMayExpire("acme", 4));
  EXPECT_FALSE(s->BodyMayExpire("other", 1));
  state_.SetOverride("acme", "access", 95 * kSecondsPerDay);
  EXPECT_FALSE(state_.Get()->BodyExpired("acme", "access", 1))
      << "a retention without a computed horizon keeps everything";
  ASSERT_TRUE(UpdateRetentionHorizons(storage_.get(), &state_, clock_.NowNanos()).ok());
  EXPECT_TRUE(state_.Get()->BodyExpired("acme", "access", 1));
  EXPECT_FALSE(state_.Get()->BodyExpired("acme", "access", 2));
}

TEST_F(RetentionFilterTest, PurgeDeletesContentKeepsHashesAndRefusesReuse) {
  Append("acme", "a1", "access");
  Append("acme", "a2", "access");
  Append("beta", "b1", "access");
  std::promise<absl::StatusOr<std::string>> p;
  seq_->SubmitPurge(
      "acme", [](const store::Head& h) { return "cert:" + std::to_string(h.seq); },
      [&](absl::StatusOr<std::string> r) { p.set_value(std::move(r)); });
  auto cert = p.get_future().get();
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(*cert, "cert:2");
  // Bodies are gone; skeletons, leaves and the head stay. The event ids go
  // in a scan of the index after the commit (AdminService's purge calls it).
  EXPECT_TRUE(storage_->LookupEventId("acme", "a1")->has_value());
  ASSERT_TRUE(storage_->DeleteTenantEventIds("acme").ok());
  auto kept = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(kept.ok()) << kept.status();
  ASSERT_EQ(kept->size(), 2u);
  for (const auto& r : *kept) {
    EXPECT_TRUE(r.pruned);
    EXPECT_TRUE(r.salt.empty() && r.ce.empty());
    EXPECT_EQ(r.leaf_category, "access");
  }
  EXPECT_FALSE(storage_->LookupEventId("acme", "a1")->has_value());
  EXPECT_FALSE(storage_->LookupEventId("acme", "a2")->has_value());
  EXPECT_TRUE(storage_->LookupEventId("beta", "b1")->has_value());
  EXPECT_EQ(storage_->GetHead("acme")->seq, 2u);
  EXPECT_EQ(storage_->LoadCompactRange("acme", 2)->size(), 2u);
  EXPECT_FALSE(storage_->ReadRecords("beta", 1, 100)->at(0).pruned);
  EXPECT_EQ(seq_->PurgeCertificate("acme"), "cert:2");

  // Appending to the purged id fails; the certificate survives a restart.
  std::promise<absl::Status> q;
  PreparedEvent e;
  e.tenant = "acme";
  e.event_id = "again";
  e.body = store::EncodeBody(0, chain::Salt{}, "x");
  seq_->Submit({e}, [&](absl::StatusOr<std::vector<Receipt>> r) { q.set_value(r.status()); });
  EXPECT_EQ(q.get_future().get().code(), absl::StatusCode::kFailedPrecondition);
  seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, Sequencer::Options());
  ASSERT_TRUE(seq_->Start().ok());
  EXPECT_EQ(seq_->PurgeCertificate("acme"), "cert:2");

  // Purging again, or an unknown tenant, is refused.
  std::promise<absl::StatusOr<std::string>> again, unknown;
  seq_->SubmitPurge("acme", [](const store::Head&) { return std::string(); },
                    [&](absl::StatusOr<std::string> r) { again.set_value(std::move(r)); });
  seq_->SubmitPurge("nobody", [](const store::Head&) { return std::string(); },
                    [&](absl::StatusOr<std::string> r) { unknown.set_value(std::move(r)); });
  EXPECT_EQ(again.get_future().get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(unknown.get_future().get().status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace indelible
