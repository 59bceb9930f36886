#include "verifier/check/chain_checker.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/verifier/test_chain.h"
#include "verifier/check/sink.h"

namespace indelible::check {
namespace {

using testing::CollectingReporter;
using testing::MakeChain;
using testing::TestRecord;

constexpr char kTenant[] = "acme";

HeadRow Head(const std::vector<TestRecord>& chain) {
  return HeadRow{HeadRow::State::kPresent, testing::HeadOf(chain)};
}

struct Outcome {
  std::vector<Finding> findings;
  TenantSummary summary;
};

Outcome Check(const std::vector<TestRecord>& records, HeadRow head,
          const std::vector<CheckpointClaim>& claims = {},
          const std::string& tenant = kTenant) {
  CollectingReporter reporter;
  InlineSink sink(&reporter);
  ChainChecker checker(tenant, head, &sink);
  for (const CheckpointClaim& c : claims) checker.AddCheckpoint(c);
  for (const TestRecord& r : records) checker.AddRecord(r.view());
  checker.Finish();
  return Outcome{reporter.findings, checker.summary()};
}

std::string Describe(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += ToString(f) + "\n";
  return s;
}

// The first finding: its tenant, seq and kind.
void ExpectFirst(const Outcome& run, uint64_t seq, Kind kind) {
  ASSERT_FALSE(run.findings.empty());
  EXPECT_EQ(run.findings[0].tenant, kTenant);
  EXPECT_EQ(run.findings[0].seq, seq) << Describe(run.findings);
  EXPECT_EQ(run.findings[0].kind, kind) << Describe(run.findings);
}

CheckpointClaim Claim(uint64_t seq, const chain::Digest& head,
                      uint64_t ts = 1,
                      CheckpointClaim::Source source =
                          CheckpointClaim::Source::kSupplied) {
  CheckpointClaim c;
  c.source = source;
  c.checkpoint = chain::Checkpoint{kTenant, seq, head, ts};
  c.signature_verified = true;
  return c;
}

TEST(ChainCheckerTest, CleanChainHasNoFindings) {
  auto chain = MakeChain(kTenant, 10);
  Outcome run = Check(chain, Head(chain));
  EXPECT_TRUE(run.findings.empty()) << Describe(run.findings);
  EXPECT_EQ(run.summary.records, 10u);
  EXPECT_EQ(run.summary.pruned, 0u);
  EXPECT_EQ(run.summary.first_seq, 1u);
  EXPECT_EQ(run.summary.head_seq, 10u);
  EXPECT_EQ(run.summary.head_hash, chain.back().skeleton.entry_hash);
}

TEST(ChainCheckerTest, EmptyChainHeadIsGenesis) {
  Outcome run = Check({}, HeadRow{});
  EXPECT_TRUE(run.findings.empty());
  EXPECT_EQ(run.summary.head_seq, 0u);
  EXPECT_EQ(run.summary.head_hash, chain::Genesis(kTenant));
}

TEST(ChainCheckerTest, PrunedRecordsAreCountedNotReported) {
  auto chain = MakeChain(kTenant, 10);
  for (int i : {0, 3, 4, 9}) {
    chain[i].has_body = false;
    chain[i].body.clear();
  }
  Outcome run = Check(chain, Head(chain));
  EXPECT_TRUE(run.findings.empty()) << Describe(run.findings);
  EXPECT_EQ(run.summary.pruned, 4u);
}

TEST(ChainCheckerTest, ModifiedBodyIsNamed) {
  auto chain = MakeChain(kTenant, 10);
  chain[4].body[chain[4].body.size() - 1] ^= 1;  // last byte of CE
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 5, Kind::kBodyDigestMismatch);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
}

TEST(ChainCheckerTest, ModifiedSaltIsNamed) {
  auto chain = MakeChain(kTenant, 10);
  chain[2].body[store::kBodyHeaderSize] ^= 1;  // first byte of the salt
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 3, Kind::kBodyDigestMismatch);
}

TEST(ChainCheckerTest, ModifiedSkeletonTimeBreaksOnlyItsOwnLink) {
  auto chain = MakeChain(kTenant, 10);
  chain[6].skeleton.received_at_ns += 1;
  store::SetBodyReceivedAt(&chain[6].body, chain[6].skeleton.received_at_ns);
  Outcome run = Check(chain, HeadRow{});
  ExpectFirst(run, 7, Kind::kEntryHashMismatch);
  // And the missing head row, at the end.
  ASSERT_EQ(run.findings.size(), 2u) << Describe(run.findings);
  EXPECT_EQ(run.findings[1].kind, Kind::kHeadMismatch);
}

// The body's copy of received_at is covered by no hash: only comparing it
// with the skeleton shows that it was edited.
TEST(ChainCheckerTest, ModifiedBodyTimeCopyIsNamed) {
  auto chain = MakeChain(kTenant, 10);
  store::SetBodyReceivedAt(&chain[4].body, chain[4].skeleton.received_at_ns - 1);
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 5, Kind::kBodyReceivedAtMismatch);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
  EXPECT_NE(run.findings[0].detail.find(
                std::to_string(chain[4].skeleton.received_at_ns - 1)),
            std::string::npos)
      << run.findings[0].detail;
}

TEST(ChainCheckerTest, ModifiedEntryHashBreaksTwoLinks) {
  auto chain = MakeChain(kTenant, 10);
  chain[6].skeleton.entry_hash[0] ^= 1;
  Outcome run = Check(chain, Head(chain));
  ASSERT_EQ(run.findings.size(), 2u) << Describe(run.findings);
  ExpectFirst(run, 7, Kind::kEntryHashMismatch);
  EXPECT_EQ(run.findings[1].seq, 8u);
}

TEST(ChainCheckerTest, RehashedBodyIsCaughtAtTheNextLink) {
  // The attacker changes record 4's event and recomputes its digest and
  // entry hash: record 5 no longer links to it.
  auto chain = MakeChain(kTenant, 10);
  std::string_view salt, ce;
  ASSERT_TRUE(store::DecodeBody(chain[3].body, &salt, &ce));
  chain::Salt s;
  ASSERT_TRUE(chain::SaltFromBytes(salt, &s));
  chain[3].body = store::EncodeBody(chain[3].skeleton.received_at_ns, s,
                                    testing::TestEvent(kTenant, 99));
  auto rehashed = chain;
  testing::Rehash(kTenant, &rehashed, 3);
  for (size_t i = 4; i < chain.size(); ++i) rehashed[i] = chain[i];
  Outcome run = Check(rehashed, Head(chain));
  ExpectFirst(run, 5, Kind::kEntryHashMismatch);
}

TEST(ChainCheckerTest, DeletedRecordIsAGap) {
  auto chain = MakeChain(kTenant, 10);
  chain.erase(chain.begin() + 4);  // seq 5
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 5, Kind::kSeqGap);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
}

TEST(ChainCheckerTest, TwoDeletedRecordsAreOneGap) {
  auto chain = MakeChain(kTenant, 10);
  chain.erase(chain.begin() + 4, chain.begin() + 6);  // seq 5, 6
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 5, Kind::kSeqGap);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
  EXPECT_NE(run.findings[0].detail.find("5..6"), std::string::npos);
}

TEST(ChainCheckerTest, MissingFirstRecordIsAGapAtOne) {
  auto chain = MakeChain(kTenant, 5);
  chain.erase(chain.begin());
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 1, Kind::kSeqGap);
}

TEST(ChainCheckerTest, RepeatedSeqIsOutOfOrder) {
  auto chain = MakeChain(kTenant, 6);
  chain.insert(chain.begin() + 3, chain[2]);  // seq 3 twice
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 3, Kind::kSeqOutOfOrder);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
}

TEST(ChainCheckerTest, SwappedValuesBreakTheFirstSwappedSeq) {
  // In the store, keys are seqs: swapping two records swaps the values
  // under keys 4 and 5.
  auto chain = MakeChain(kTenant, 8);
  std::swap(chain[3].skeleton, chain[4].skeleton);
  std::swap(chain[3].body, chain[4].body);
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 4, Kind::kEntryHashMismatch);
}

TEST(ChainCheckerTest, InsertedRecordBreaksTheLinkAfterIt) {
  // Records 4.. shift up by one; a forged record, properly hashed, takes
  // seq 4.
  auto chain = MakeChain(kTenant, 8);
  auto forged = MakeChain(kTenant, 8);
  std::vector<TestRecord> tampered(chain.begin(), chain.begin() + 3);
  TestRecord fake = forged[3];
  tampered.push_back(fake);
  testing::Rehash(kTenant, &tampered, 3);
  for (size_t i = 3; i < chain.size(); ++i) {
    TestRecord r = chain[i];
    r.seq += 1;
    tampered.push_back(r);
  }
  Outcome run = Check(tampered, Head(chain));
  ExpectFirst(run, 5, Kind::kEntryHashMismatch);
}

TEST(ChainCheckerTest, DecreasingTimeIsNamed) {
  auto chain = MakeChain(kTenant, 6);
  chain[3].skeleton.received_at_ns = chain[1].skeleton.received_at_ns - 5;
  store::SetBodyReceivedAt(&chain[3].body, chain[3].skeleton.received_at_ns);
  testing::Rehash(kTenant, &chain, 3);
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 4, Kind::kReceivedAtDecreased);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
}

TEST(ChainCheckerTest, RecordOfAnotherTenantIsSpliced) {
  auto chain = MakeChain(kTenant, 6);
  auto other = MakeChain("globex", 6);
  chain[2] = other[2];
  Outcome run = Check(chain, Head(chain));
  ExpectFirst(run, 3, Kind::kTenantMismatch);
  ASSERT_GE(run.findings.size(), 2u);
  EXPECT_EQ(run.findings[1].kind, Kind::kEntryHashMismatch);
}

TEST(ChainCheckerTest, WholeChainOfAnotherTenantFailsEveryLink) {
  auto other = MakeChain("globex", 3);
  Outcome run = Check(other, Head(other));
  ExpectFirst(run, 1, Kind::kTenantMismatch);
}

TEST(ChainCheckerTest, MalformedBodies) {
  auto chain = MakeChain(kTenant, 4);
  std::string salt = chain[2].body.substr(0, 16);
  chain[2].body = salt + "not a canonical event";
  testing::Rehash(kTenant, &chain, 0);  // the digest matches the junk
  chain[1].body = "short";
  Outcome run = Check(chain, Head(chain));
  ASSERT_GE(run.findings.size(), 2u) << Describe(run.findings);
  ExpectFirst(run, 2, Kind::kMalformed);
  EXPECT_EQ(run.findings[1].seq, 3u);
  EXPECT_EQ(run.findings[1].kind, Kind::kMalformed);
}

TEST(ChainCheckerTest, InvalidTenantId) {
  Outcome run = Check({}, HeadRow{}, {}, "Not A Tenant");
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_EQ(run.findings[0].kind, Kind::kMalformed);
  EXPECT_EQ(run.findings[0].seq, 0u);
}

TEST(ChainCheckerTest, HeadRowBehindTheChainIsTruncation) {
  auto chain = MakeChain(kTenant, 10);
  HeadRow head = Head(chain);
  chain.resize(7);
  Outcome run = Check(chain, head);
  ExpectFirst(run, 8, Kind::kTruncated);
}

TEST(ChainCheckerTest, RecordsBeyondTheHeadRow) {
  auto chain = MakeChain(kTenant, 10);
  auto shorter = chain;
  shorter.resize(8);
  Outcome run = Check(chain, Head(shorter));
  ExpectFirst(run, 9, Kind::kHeadMismatch);
}

TEST(ChainCheckerTest, HeadRowWithAnotherHash) {
  auto chain = MakeChain(kTenant, 10);
  HeadRow head = Head(chain);
  head.head.entry_hash[3] ^= 1;
  Outcome run = Check(chain, head);
  ExpectFirst(run, 10, Kind::kHeadMismatch);
}

TEST(ChainCheckerTest, MissingHeadRow) {
  auto chain = MakeChain(kTenant, 3);
  Outcome run = Check(chain, HeadRow{});
  ExpectFirst(run, 1, Kind::kHeadMismatch);
}

TEST(ChainCheckerTest, CheckpointsConfirmedByTheChain) {
  auto chain = MakeChain(kTenant, 10);
  Outcome run = Check(chain, Head(chain),
                  {Claim(0, chain::Genesis(kTenant)),
                   Claim(4, chain[3].skeleton.entry_hash),
                   Claim(10, chain[9].skeleton.entry_hash)});
  EXPECT_TRUE(run.findings.empty()) << Describe(run.findings);
  EXPECT_EQ(run.summary.checkpoints_confirmed, 3u);
  EXPECT_EQ(run.summary.supplied_checkpoints, 3u);
}

TEST(ChainCheckerTest, CheckpointOfAnotherHistory) {
  auto chain = MakeChain(kTenant, 10);
  chain::Digest forked = chain[5].skeleton.entry_hash;
  forked[0] ^= 1;
  Outcome run = Check(chain, Head(chain), {Claim(6, forked)});
  ExpectFirst(run, 6, Kind::kCheckpointMismatch);
}

TEST(ChainCheckerTest, CheckpointBeyondTheEndIsTruncation) {
  auto chain = MakeChain(kTenant, 10);
  auto claim = Claim(10, chain[9].skeleton.entry_hash);
  chain.resize(6);
  Outcome run = Check(chain, Head(chain), {claim});
  ExpectFirst(run, 7, Kind::kTruncated);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
}

TEST(ChainCheckerTest, CheckpointOfADeletedRecord) {
  auto chain = MakeChain(kTenant, 10);
  auto claim = Claim(5, chain[4].skeleton.entry_hash);
  chain.erase(chain.begin() + 4);
  Outcome run = Check(chain, Head(chain), {claim});
  ExpectFirst(run, 5, Kind::kSeqGap);
  ASSERT_EQ(run.findings.size(), 2u) << Describe(run.findings);
  EXPECT_EQ(run.findings[1].kind, Kind::kCheckpointMismatch);
  EXPECT_EQ(run.findings[1].seq, 5u);
}

TEST(ChainCheckerTest, StoredCheckpointHistoryGoingBackInTime) {
  auto chain = MakeChain(kTenant, 20);
  auto stored = CheckpointClaim::Source::kStored;
  Outcome run = Check(chain, Head(chain),
                  {Claim(5, chain[4].skeleton.entry_hash, 1000, stored),
                   Claim(10, chain[9].skeleton.entry_hash, 3000, stored),
                   Claim(15, chain[14].skeleton.entry_hash, 2000, stored)});
  ExpectFirst(run, 15, Kind::kCheckpointRollback);
  EXPECT_EQ(run.findings.size(), 1u) << Describe(run.findings);
  EXPECT_EQ(run.summary.stored_checkpoints, 3u);
  EXPECT_EQ(run.summary.checkpoints_confirmed, 3u);
}

TEST(ChainCheckerTest, UnreadableSkeletonBreaksItsLinks) {
  CollectingReporter reporter;
  InlineSink sink(&reporter);
  auto chain = MakeChain(kTenant, 5);
  ChainChecker checker(kTenant, Head(chain), &sink);
  checker.AddRecord(chain[0].view());
  checker.AddUnreadableRecord(2, "the skeleton is 3 bytes, want 72");
  for (size_t i = 2; i < chain.size(); ++i) checker.AddRecord(chain[i].view());
  checker.Finish();
  ASSERT_EQ(reporter.findings.size(), 1u) << Describe(reporter.findings);
  EXPECT_EQ(reporter.findings[0].kind, Kind::kMalformed);
  EXPECT_EQ(reporter.findings[0].seq, 2u);
}

TEST(FindingTest, KindNamesRoundTrip) {
  for (int i = 0; i < kNumKinds; ++i) {
    Kind k = static_cast<Kind>(i);
    EXPECT_EQ(KindFromName(KindName(k)), k) << KindName(k);
  }
  EXPECT_EQ(KindFromName("nonsense"), std::nullopt);
  EXPECT_EQ(KindName(Kind::kEntryHashMismatch), "entry_hash_mismatch");
}

}  // namespace
}  // namespace indelible::check
