// The retention policy text (docs/FORMAT.md section 15) and the judgement
// of pruned records against the policy history of a chain
// (verifier/check/policy_history.h).
#include "verifier/check/policy_history.h"

#include "gtest/gtest.h"
#include "verifier/chain/canonical_event.h"

namespace indelible::check {
namespace {

constexpr uint64_t kDay = 86400;
constexpr uint64_t kDayNs = kDay * 1000000000ull;

chain::RetentionPolicy Policy(uint64_t trace_days, bool hold = false) {
  chain::RetentionPolicy p;
  p.tenant = "acme";
  p.default_seconds = 365 * kDay;
  p.min_seconds = kDay;
  p.max_seconds = 3650 * kDay;
  p.legal_hold = hold;
  p.categories = {{"access", 365 * kDay}, {"trace", trace_days * kDay}};
  return p;
}

std::string PolicyCe(const chain::RetentionPolicy& p) {
  chain::EventFields e;
  e.tenant = p.tenant;
  e.event_id = "policy";
  e.actor_id = "indelibled";
  e.action = std::string(chain::kPolicyAction);
  e.category = std::string(chain::kPolicyCategory);
  e.metadata = {{"policy", chain::FormatRetentionPolicy(p)}};
  return *chain::EncodeCanonicalEvent(e);
}

std::vector<uint64_t> Seqs(const std::vector<PolicyHistory::Early>& early) {
  std::vector<uint64_t> out;
  for (const auto& e : early) out.push_back(e.seq);
  return out;
}

TEST(RetentionPolicyText, IsCanonicalAndRoundTrips) {
  const std::string text = chain::FormatRetentionPolicy(Policy(90));
  EXPECT_EQ(text,
            "indelible/v1/retention-policy\ntenant acme\ndefault 31536000\nmin 86400\n"
            "max 315360000\nlegal_hold false\ncategory access 31536000\n"
            "category trace 7776000\n");
  auto back = chain::ParseRetentionPolicy(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == Policy(90));
  // Not canonical: a leading zero, categories out of order, a missing line.
  EXPECT_FALSE(chain::ParseRetentionPolicy(
                   "indelible/v1/retention-policy\ntenant acme\ndefault 031536000\nmin 86400\n"
                   "max 315360000\nlegal_hold false\n")
                   .ok());
  EXPECT_FALSE(chain::ParseRetentionPolicy(
                   "indelible/v1/retention-policy\ntenant acme\ndefault 1\nmin 1\nmax 1\n"
                   "legal_hold false\ncategory trace 1\ncategory access 1\n")
                   .ok());
  EXPECT_FALSE(chain::ParseRetentionPolicy(
                   "indelible/v1/retention-policy\ntenant acme\ndefault 1\nmin 1\nmax 1\n")
                   .ok());
  // indelible.* is never pruned: a policy cannot name it.
  chain::RetentionPolicy p = Policy(90);
  p.categories["indelible.admin"] = kDay;
  EXPECT_EQ(chain::FormatRetentionPolicy(p), text);
}

TEST(PolicyHistory, PruningAfterTheRecordedRetentionIsLawful) {
  PolicyHistory h("acme");
  EXPECT_EQ(h.AddRecord(1, 0, PolicyCe(Policy(90))), "");
  h.AddPruned(2, 1 * kDayNs, "trace");
  h.AddPruned(3, 2 * kDayNs, "trace");
  EXPECT_TRUE(h.Finish(92 * kDayNs).empty());
}

TEST(PolicyHistory, ABodyMissingBeforeItsRetentionIsEarly) {
  PolicyHistory h("acme");
  h.AddRecord(1, 0, PolicyCe(Policy(90)));
  h.AddPruned(2, 1 * kDayNs, "trace");   // expired at day 91
  h.AddPruned(3, 10 * kDayNs, "trace");  // expires at day 100
  h.AddPruned(4, 1 * kDayNs, "access");  // expires after a year
  auto early = h.Finish(95 * kDayNs);
  EXPECT_EQ(Seqs(early), (std::vector<uint64_t>{3, 4}));
  EXPECT_NE(early[0].detail.find("category \"trace\""), std::string::npos) << early[0].detail;
}

TEST(PolicyHistory, NoRecordedPolicyAllowsNothing) {
  PolicyHistory h("acme");
  h.AddPruned(1, 0, "trace");
  auto early = h.Finish(1000 * kDayNs);
  ASSERT_EQ(Seqs(early), std::vector<uint64_t>{1});
  EXPECT_NE(early[0].detail.find("no retention policy"), std::string::npos);
}

TEST(PolicyHistory, APolicyCountsOnlyWhileInForce) {
  // 30 days from day 0 to day 10, then 90 days: a trace received at day 0
  // expired under neither while each was in force until day 50.
  PolicyHistory h("acme");
  h.AddRecord(1, 0, PolicyCe(Policy(30)));
  h.AddPruned(2, 0, "trace");
  h.AddRecord(3, 10 * kDayNs, PolicyCe(Policy(90)));
  EXPECT_EQ(Seqs(h.Finish(50 * kDayNs)), std::vector<uint64_t>{2});
  // The same, judged at day 91: the second policy allowed it by then.
  PolicyHistory later("acme");
  later.AddRecord(1, 0, PolicyCe(Policy(30)));
  later.AddPruned(2, 0, "trace");
  later.AddRecord(3, 10 * kDayNs, PolicyCe(Policy(90)));
  EXPECT_TRUE(later.Finish(91 * kDayNs).empty());
  // A shorter policy that ended after the body expired under it settles it.
  PolicyHistory settled("acme");
  settled.AddRecord(1, 0, PolicyCe(Policy(30)));
  settled.AddPruned(2, 0, "trace");
  settled.AddRecord(3, 40 * kDayNs, PolicyCe(Policy(90)));
  EXPECT_TRUE(settled.Finish(41 * kDayNs).empty());
}

TEST(PolicyHistory, NothingIsPrunedLawfullyUnderALegalHold) {
  // A hold from day 5 to day 200: a trace of day 0 expired at day 90 while
  // held; lawful only once the hold is lifted.
  PolicyHistory h("acme");
  h.AddRecord(1, 0, PolicyCe(Policy(90)));
  h.AddPruned(2, 0, "trace");
  h.AddRecord(3, 5 * kDayNs, PolicyCe(Policy(90, /*hold=*/true)));
  EXPECT_EQ(Seqs(h.Finish(150 * kDayNs)), std::vector<uint64_t>{2});
  PolicyHistory lifted("acme");
  lifted.AddRecord(1, 0, PolicyCe(Policy(90)));
  lifted.AddPruned(2, 0, "trace");
  lifted.AddRecord(3, 5 * kDayNs, PolicyCe(Policy(90, true)));
  lifted.AddRecord(4, 200 * kDayNs, PolicyCe(Policy(90)));
  EXPECT_TRUE(lifted.Finish(201 * kDayNs).empty());
}

TEST(PolicyHistory, IndelibleRecordsAreNeverPrunedLawfully) {
  PolicyHistory h("acme");
  h.AddRecord(1, 0, PolicyCe(Policy(90)));
  h.AddPruned(2, 0, "indelible.admin");
  auto early = h.Finish(10000 * kDayNs);
  ASSERT_EQ(Seqs(early), std::vector<uint64_t>{2});
  EXPECT_NE(early[0].detail.find("never pruned"), std::string::npos);
}

TEST(PolicyHistory, AnUnknownCategoryIsJudgedByTheShortestRetention) {
  PolicyHistory h("acme");
  h.AddRecord(1, 0, PolicyCe(Policy(90)));
  h.AddPruned(2, 0, "");
  EXPECT_TRUE(h.Finish(91 * kDayNs).empty());
  PolicyHistory early("acme");
  early.AddRecord(1, 0, PolicyCe(Policy(90)));
  early.AddPruned(2, 0, "");
  EXPECT_EQ(Seqs(early.Finish(89 * kDayNs)), std::vector<uint64_t>{2});
}

TEST(PolicyHistory, AnUnreadablePolicyIsNamedAndNotTaken) {
  PolicyHistory h("acme");
  chain::EventFields e;
  e.tenant = "acme";
  e.category = std::string(chain::kPolicyCategory);
  e.metadata = {{"policy", "indelible/v1/retention-policy\n"}};
  EXPECT_NE(h.AddRecord(1, 0, *chain::EncodeCanonicalEvent(e)), "");
  chain::RetentionPolicy other = Policy(90);
  other.tenant = "globex";
  EXPECT_NE(h.AddRecord(2, 0, PolicyCe(other)), "");
  EXPECT_EQ(h.policies(), 0u);
  // Other records are not policies, whatever they say.
  e.category = "access";
  EXPECT_EQ(h.AddRecord(3, 0, *chain::EncodeCanonicalEvent(e)), "");
  EXPECT_EQ(h.policies(), 0u);
}

}  // namespace
}  // namespace indelible::check
