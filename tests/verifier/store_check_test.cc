#include "verifier/check/store_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "tests/verifier/test_chain.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/retention_policy.h"
#include "verifier/chain/signing.h"
#include "verifier/store/reader.h"

namespace indelible::check {
namespace {

using testing::CollectingReporter;
using testing::MakeChain;
using testing::RawStore;
using testing::TempDir;

std::string Describe(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += ToString(f) + "\n";
  return s;
}

struct Outcome {
  StoreCheckResult result;
  std::vector<Finding> findings;
};

Outcome Check(const std::string& dir, StoreCheckOptions options = {}) {
  auto reader = store::Reader::Open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  CollectingReporter reporter;
  auto result = CheckStore(**reader, options, &reporter);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return {};
  return Outcome{*result, reporter.findings};
}

class StoreCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("data");
    RawStore s(dir_, /*create=*/true);
    acme_ = MakeChain("acme", 100);
    // Record 1 is acme's retention policy (one day), under which the
    // records pruned below expired long ago.
    testing::MakePolicyFirst("acme", &acme_, 86400);
    for (int i : {3, 4, 50}) {
      acme_[i].has_body = false;
      acme_[i].body.clear();
    }
    globex_ = MakeChain("globex", 40);
    s.WriteChain("acme", acme_);
    s.WriteChain("globex", globex_);
  }

  TempDir tmp_;
  std::string dir_;
  std::vector<testing::TestRecord> acme_, globex_;
};

TEST_F(StoreCheckTest, CleanStoreVerifies) {
  Outcome o = Check(dir_);
  EXPECT_TRUE(o.findings.empty()) << Describe(o.findings);
  ASSERT_EQ(o.result.tenants.size(), 2u);
  EXPECT_EQ(o.result.tenants[0].tenant, "acme");
  EXPECT_EQ(o.result.tenants[0].records, 100u);
  EXPECT_EQ(o.result.tenants[0].pruned, 3u);
  EXPECT_EQ(o.result.tenants[0].head_hash, acme_.back().skeleton.entry_hash);
  EXPECT_EQ(o.result.tenants[1].tenant, "globex");
  EXPECT_EQ(o.result.tenants[1].head_seq, 40u);
  EXPECT_EQ(o.result.records, 140u);
  EXPECT_EQ(o.result.pruned, 3u);
  EXPECT_EQ(o.result.findings, 0u);
  EXPECT_TRUE(o.result.signatures_checked);
}

// The pruned records are judged against the chain's policy at the time
// given: half a day after they were received, the one-day policy had not
// allowed it yet.
TEST_F(StoreCheckTest, BodiesPrunedBeforeTheRecordedPolicyAllowedAreEarly) {
  StoreCheckOptions options;
  options.now_ns = acme_[0].skeleton.received_at_ns + 43200ull * 1000000000ull;
  Outcome o = Check(dir_, options);
  ASSERT_EQ(o.findings.size(), 3u) << Describe(o.findings);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(o.findings[i].kind, Kind::kEarlyPrune);
    EXPECT_EQ(o.findings[i].tenant, "acme");
  }
  EXPECT_EQ(o.findings[0].seq, 4u);  // acme_[3]
  EXPECT_EQ(o.findings[2].seq, 51u);
  // A day and a second later, the same store is clean.
  options.now_ns += 43201ull * 1000000000ull;
  EXPECT_TRUE(Check(dir_, options).findings.empty());
}

// As `ldb` could: the received_at copy stored with a body edited to look
// older (so that retention would prune it early) fails the check, naming the
// seq.
TEST_F(StoreCheckTest, EditedBodyTimeCopyIsNamed) {
  {
    RawStore s(dir_);
    auto body = s.GetBody("globex", 7);
    ASSERT_TRUE(body.has_value());
    store::SetBodyReceivedAt(&*body, 1);
    s.PutBody("globex", 7, *body);
  }
  Outcome o = Check(dir_);
  ASSERT_EQ(o.findings.size(), 1u) << Describe(o.findings);
  EXPECT_EQ(o.findings[0].tenant, "globex");
  EXPECT_EQ(o.findings[0].seq, 7u);
  EXPECT_EQ(o.findings[0].kind, Kind::kBodyReceivedAtMismatch);
  EXPECT_EQ(o.result.findings, 1u);
}

// A store the daemon has not opened since bodies went into runs keeps them
// one per row in "bodies": it checks the same, and a body edited there is
// named at its seq.
TEST_F(StoreCheckTest, AStoreWithBodiesOnePerRowChecksTheSame) {
  {
    RawStore s(dir_);
    rocksdb::ColumnFamilyHandle* legacy = nullptr;
    ASSERT_TRUE(s.db()->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                           store::kLegacyBodiesCf, &legacy).ok());
    for (const auto* chain : {&acme_, &globex_}) {
      const std::string tenant = chain == &acme_ ? "acme" : "globex";
      for (const auto& r : *chain) {
        if (!r.has_body) continue;
        ASSERT_TRUE(s.db()->Put({}, legacy, store::SeqKey(tenant, r.seq), r.body).ok());
        s.DeleteBody(tenant, r.seq);
      }
    }
    s.db()->DestroyColumnFamilyHandle(legacy);
    ASSERT_TRUE(s.db()->DropColumnFamily(s.Handle(store::kBodiesCf)).ok());
  }
  Outcome o = Check(dir_);
  EXPECT_TRUE(o.findings.empty()) << Describe(o.findings);
  EXPECT_EQ(o.result.records, 140u);
  EXPECT_EQ(o.result.pruned, 3u);

  {
    RawStore s(dir_);  // opens "bodies" too: the directory has it
    std::string body = acme_[6].body;
    body.back() ^= 1;
    s.Put(store::kLegacyBodiesCf, store::SeqKey("acme", 7), body);
  }
  o = Check(dir_);
  ASSERT_EQ(o.findings.size(), 1u) << Describe(o.findings);
  EXPECT_EQ(o.findings[0].tenant, "acme");
  EXPECT_EQ(o.findings[0].seq, 7u);
  EXPECT_EQ(o.findings[0].kind, Kind::kBodyDigestMismatch);
}

// A store the daemon has not opened since skeletons went into runs keeps
// them one per row in "skeletons": it checks the same, and a skeleton
// edited there is named at its seq.
TEST_F(StoreCheckTest, AStoreWithSkeletonsOnePerRowChecksTheSame) {
  {
    RawStore s(dir_);
    rocksdb::ColumnFamilyHandle* legacy = nullptr;
    ASSERT_TRUE(s.db()->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                           store::kLegacySkeletonsCf, &legacy).ok());
    for (const auto* chain : {&acme_, &globex_}) {
      const std::string tenant = chain == &acme_ ? "acme" : "globex";
      for (const auto& r : *chain) {
        ASSERT_TRUE(s.db()->Put({}, legacy, store::SeqKey(tenant, r.seq),
                                store::EncodeSkeleton(r.skeleton)).ok());
      }
    }
    s.db()->DestroyColumnFamilyHandle(legacy);
    ASSERT_TRUE(s.db()->DropColumnFamily(s.Handle(store::kSkeletonsCf)).ok());
  }
  Outcome o = Check(dir_);
  EXPECT_TRUE(o.findings.empty()) << Describe(o.findings);
  EXPECT_EQ(o.result.records, 140u);
  EXPECT_EQ(o.result.pruned, 3u);

  {
    RawStore s(dir_);  // opens "skeletons" too: the directory has it
    store::Skeleton sk = globex_[11].skeleton;
    sk.received_at_ns += 1;
    s.Put(store::kLegacySkeletonsCf, store::SeqKey("globex", 12), store::EncodeSkeleton(sk));
  }
  o = Check(dir_);
  ASSERT_FALSE(o.findings.empty());
  EXPECT_EQ(o.findings[0].tenant, "globex");
  EXPECT_EQ(o.findings[0].seq, 12u) << Describe(o.findings);
}

// A row of skeletons cut short (as `ldb put` could): the records before the
// cut verify, the damage is named at the seq where the row stops decoding,
// and none of the row's later records reads as verified.
TEST_F(StoreCheckTest, ARowOfSkeletonsCutShortIsNamedAtTheSeqOfTheCut) {
  {
    RawStore s(dir_);
    // WriteChain put globex's skeletons 1..40 in one row.
    auto row = s.Get(store::kSkeletonsCf, store::SeqKey("globex", 1));
    ASSERT_TRUE(row.has_value());
    store::BodyRun run(1, *row);
    uint64_t seq;
    std::string_view skeleton;
    size_t cut = 0;
    while (run.Next(&seq, &skeleton) && seq < 10) {
      cut = skeleton.data() + skeleton.size() - row->data();
    }
    ASSERT_GT(cut, 0u);
    s.Put(store::kSkeletonsCf, store::SeqKey("globex", 1), row->substr(0, cut + 5));
  }
  Outcome o = Check(dir_);
  ASSERT_FALSE(o.findings.empty());
  EXPECT_EQ(o.findings[0].tenant, "globex");
  EXPECT_EQ(o.findings[0].seq, 10u) << Describe(o.findings);
  EXPECT_EQ(o.findings[0].kind, Kind::kMalformed) << Describe(o.findings);
  for (const auto& f : o.findings) EXPECT_GE(f.seq, 10u) << Describe(o.findings);
  EXPECT_EQ(o.result.tenants[0].findings, 0u) << "acme is untouched";
}

// Two rows of skeletons joined into one (as `ldb` could), every hash still
// holding: the daemon would not find the skeletons 64 or more seqs above
// the row's key (SkeletonRunFloor), so the check names the first of them.
TEST_F(StoreCheckTest, ARowOfSkeletonsPastItsReachIsNamedWhereItsReachEnds) {
  {
    RawStore s(dir_);
    // WriteChain put acme's skeletons 1..64 in one row and 65..100 in another.
    auto first = s.Get(store::kSkeletonsCf, store::SeqKey("acme", 1));
    auto second = s.Get(store::kSkeletonsCf, store::SeqKey("acme", 65));
    ASSERT_TRUE(first.has_value() && second.has_value());
    s.Delete(store::kSkeletonsCf, store::SeqKey("acme", 65));
    s.Put(store::kSkeletonsCf, store::SeqKey("acme", 1), *first + *second);
  }
  Outcome o = Check(dir_);
  ASSERT_FALSE(o.findings.empty());
  EXPECT_EQ(o.findings[0].tenant, "acme");
  EXPECT_EQ(o.findings[0].seq, 65u) << Describe(o.findings);
  EXPECT_EQ(o.findings[0].kind, Kind::kMalformed) << Describe(o.findings);
  for (const auto& f : o.findings) {
    if (f.tenant == "acme") EXPECT_GE(f.seq, 65u) << Describe(o.findings);
  }
}

// A row of bodies cut short (as `ldb put` could): the bodies before the cut
// verify, the damage is named at the seq where the row stops decoding, and
// the seqs after it read as pruned (lawfully here: acme's policy of one day
// expired long ago).
TEST_F(StoreCheckTest, ARowOfBodiesCutShortIsNamedAtTheSeqOfTheCut) {
  {
    RawStore s(dir_);
    // WriteChain put acme's bodies 6..50 in one row (4 and 5 pruned).
    auto row = s.Get(store::kBodiesCf, store::SeqKey("acme", 6));
    ASSERT_TRUE(row.has_value());
    store::BodyRun run(6, *row);
    uint64_t seq;
    std::string_view body;
    size_t cut = 0;
    while (run.Next(&seq, &body) && seq < 10) cut = body.data() + body.size() - row->data();
    ASSERT_GT(cut, 0u);
    s.Put(store::kBodiesCf, store::SeqKey("acme", 6), row->substr(0, cut + 5));
  }
  Outcome o = Check(dir_);
  ASSERT_FALSE(o.findings.empty());
  EXPECT_EQ(o.findings[0].tenant, "acme");
  EXPECT_EQ(o.findings[0].seq, 10u) << Describe(o.findings);
  EXPECT_EQ(o.result.tenants[0].pruned, 3u + 40u) << "seqs 11..50 read as pruned";
}

TEST_F(StoreCheckTest, OpensEveryColumnFamily) {
  auto reader = store::Reader::Open(dir_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto cfs = (*reader)->column_families();
  for (const char* cf : {"default", "skeletons_v2", "bodies_v2", "heads",
                         store::kEventIdsCf, "checkpoints"}) {
    EXPECT_NE(std::find(cfs.begin(), cfs.end(), cf), cfs.end()) << cf;
  }
}

TEST_F(StoreCheckTest, FindingsComeInTenantAndSeqOrderWhateverTheThreads) {
  {
    RawStore s(dir_);
    auto r = s.ReadRecord("acme", 10);
    r.body.back() ^= 1;
    s.WriteRecord("acme", r);
    s.DeleteRecord("globex", 20);
    auto g = s.ReadRecord("globex", 5);
    g.skeleton.received_at_ns += 1;
    store::SetBodyReceivedAt(&g.body, g.skeleton.received_at_ns);
    s.WriteRecord("globex", g);
  }
  std::vector<std::string> first;
  for (int threads : {0, 1, 3}) {
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{65536}}) {
      StoreCheckOptions o;
      o.parallel.threads = threads;
      o.parallel.chunk_records = chunk;
      Outcome out = Check(dir_, o);
      ASSERT_EQ(out.findings.size(), 3u) << Describe(out.findings);
      EXPECT_EQ(out.findings[0].tenant, "acme");
      EXPECT_EQ(out.findings[0].seq, 10u);
      EXPECT_EQ(out.findings[0].kind, Kind::kBodyDigestMismatch);
      EXPECT_EQ(out.findings[1].tenant, "globex");
      EXPECT_EQ(out.findings[1].seq, 5u);
      EXPECT_EQ(out.findings[1].kind, Kind::kEntryHashMismatch);
      EXPECT_EQ(out.findings[2].seq, 20u);
      EXPECT_EQ(out.findings[2].kind, Kind::kSeqGap);
      EXPECT_EQ(out.result.tenants[0].findings, 1u);
      EXPECT_EQ(out.result.tenants[1].findings, 2u);
    }
  }
}

TEST_F(StoreCheckTest, OrphanBodiesAndMalformedRows) {
  {
    RawStore s(dir_);
    s.DeleteSkeleton("acme", 20);
    s.PutSkeleton("acme", 30, "short");
    // Sorts after every seq below 2^56: reported at the end of acme's rows.
    s.Put(store::kSkeletonsCf, std::string("acme\0\x01", 6), "x");
  }
  Outcome o = Check(dir_);
  ASSERT_EQ(o.findings.size(), 4u) << Describe(o.findings);
  EXPECT_EQ(o.findings[0].kind, Kind::kOrphanBody);
  EXPECT_EQ(o.findings[0].seq, 20u);
  EXPECT_EQ(o.findings[1].kind, Kind::kSeqGap);
  EXPECT_EQ(o.findings[1].seq, 20u);
  EXPECT_EQ(o.findings[2].kind, Kind::kMalformed);
  EXPECT_EQ(o.findings[2].seq, 30u);
  EXPECT_EQ(o.findings[3].kind, Kind::kMalformed);  // the mangled key
  EXPECT_EQ(o.findings[3].seq, 0u);
  EXPECT_EQ(o.findings[3].tenant, "acme");
}

TEST_F(StoreCheckTest, HeadsWithoutRecordsAndRecordsWithoutHeads) {
  {
    RawStore s(dir_);
    s.WriteChain("nohead", MakeChain("nohead", 3), /*head=*/false);
    s.WriteHead("ghost", store::Head{9, 1, {}});
    s.Put(store::kHeadsCf, "badhead", "xyz");
  }
  Outcome o = Check(dir_);
  ASSERT_EQ(o.findings.size(), 3u) << Describe(o.findings);
  EXPECT_EQ(o.findings[0].tenant, "badhead");
  EXPECT_EQ(o.findings[0].kind, Kind::kMalformed);
  EXPECT_EQ(o.findings[1].tenant, "ghost");
  EXPECT_EQ(o.findings[1].kind, Kind::kTruncated);
  EXPECT_EQ(o.findings[1].seq, 1u);
  EXPECT_EQ(o.findings[2].tenant, "nohead");
  EXPECT_EQ(o.findings[2].kind, Kind::kHeadMismatch);
  EXPECT_EQ(o.findings[2].seq, 1u);
  EXPECT_EQ(o.result.tenants.size(), 5u);
}

TEST_F(StoreCheckTest, OneTenant) {
  {
    RawStore s(dir_);
    s.DeleteRecord("acme", 10);
  }
  StoreCheckOptions o;
  o.tenant = "globex";
  Outcome out = Check(dir_, o);
  EXPECT_TRUE(out.findings.empty()) << Describe(out.findings);
  ASSERT_EQ(out.result.tenants.size(), 1u);
  EXPECT_EQ(out.result.tenants[0].records, 40u);

  auto reader = store::Reader::Open(dir_);
  ASSERT_TRUE(reader.ok());
  CollectingReporter reporter;
  o.tenant = "initech";
  EXPECT_EQ(CheckStore(**reader, o, &reporter).status().code(),
            absl::StatusCode::kNotFound);

  o.tenant = "acme";
  CheckpointClaim claim;
  claim.source = CheckpointClaim::Source::kSupplied;
  claim.checkpoint = chain::Checkpoint{"globex", 1, {}, 1};
  o.supplied.push_back(claim);
  EXPECT_EQ(CheckStore(**reader, o, &reporter).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreCheckTest, StoredCheckpoints) {
  auto signer = testing::TestSigner();
  {
    RawStore s(dir_);
    for (uint64_t seq : {10, 20, 100}) {
      s.Put(store::kCheckpointsCf, store::SeqKey("acme", seq),
            testing::SignedCheckpoint(signer, "acme", seq,
                                      acme_[seq - 1].skeleton.entry_hash,
                                      seq * 1000));
    }
  }
  Outcome unkeyed = Check(dir_);
  EXPECT_TRUE(unkeyed.findings.empty()) << Describe(unkeyed.findings);
  EXPECT_FALSE(unkeyed.result.signatures_checked);
  EXPECT_EQ(unkeyed.result.stored_checkpoints, 3u);
  EXPECT_EQ(unkeyed.result.tenants[0].checkpoints_unverified, 3u);

  StoreCheckOptions o;
  ASSERT_TRUE(o.keys.AddVerifierKey(chain::NoteVerifierKeyString(
                         signer.verifier_key()))
                  .ok());
  Outcome keyed = Check(dir_, o);
  EXPECT_TRUE(keyed.findings.empty()) << Describe(keyed.findings);
  EXPECT_TRUE(keyed.result.signatures_checked);
  EXPECT_EQ(keyed.result.tenants[0].checkpoints_signed, 3u);
  EXPECT_EQ(keyed.result.tenants[0].checkpoints_confirmed, 3u);

  // Truncate the chain (records and head) below the newest checkpoint.
  {
    RawStore s(dir_);
    for (uint64_t seq = 91; seq <= 100; ++seq) s.DeleteRecord("acme", seq);
    s.WriteHead("acme", testing::HeadOf({acme_.begin(), acme_.begin() + 90}));
  }
  Outcome cut = Check(dir_, o);
  ASSERT_EQ(cut.findings.size(), 1u) << Describe(cut.findings);
  EXPECT_EQ(cut.findings[0].kind, Kind::kTruncated);
  EXPECT_EQ(cut.findings[0].seq, 91u);
}

TEST_F(StoreCheckTest, ReadsWhileAWriterHasTheStoreOpen) {
  RawStore writer(dir_);  // holds the LOCK, like a running daemon
  auto more = MakeChain("acme", 120);
  testing::MakePolicyFirst("acme", &more, 86400);
  // 101..120: the same chain, so they link to the stored 100.
  writer.WriteChain("acme", {more.begin() + 100, more.end()});
  Outcome o = Check(dir_);
  EXPECT_TRUE(o.findings.empty()) << Describe(o.findings);
  ASSERT_EQ(o.result.tenants.size(), 2u);
  EXPECT_EQ(o.result.tenants[0].head_seq, 120u);
  // The writer is undisturbed.
  writer.WriteChain("globex", MakeChain("globex", 41));
  writer.Flush();
  Outcome after = Check(dir_);
  EXPECT_TRUE(after.findings.empty()) << Describe(after.findings);
  EXPECT_EQ(after.result.tenants[1].head_seq, 41u);
}

TEST_F(StoreCheckTest, ReadsFlushedTablesAndCopies) {
  {
    RawStore s(dir_);
    s.Flush();
  }
  const std::string copy = tmp_.Sub("copy");
  testing::CopyTree(dir_, copy);
  Outcome o = Check(copy);
  EXPECT_TRUE(o.findings.empty()) << Describe(o.findings);
  EXPECT_EQ(o.result.records, 140u);
}

TEST_F(StoreCheckTest, CorruptTableFileIsAFinding) {
  std::vector<std::string> skeleton_files;
  {
    RawStore s(dir_);
    s.Flush();
    std::vector<rocksdb::LiveFileMetaData> files;
    s.db()->GetLiveFilesMetaData(&files);
    for (const auto& f : files) {
      if (f.column_family_name == store::kSkeletonsCf) {
        skeleton_files.push_back(f.db_path + "/" + f.name);
      }
    }
  }
  ASSERT_FALSE(skeleton_files.empty());
  // Flip bytes inside the first data block: below the database, where only
  // RocksDB's block checksums see it.
  for (const auto& path : skeleton_files) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("\xff\xff\xff\xff", 4);
  }
  auto reader = store::Reader::Open(dir_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  CollectingReporter reporter;
  auto result = CheckStore(**reader, {}, &reporter);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_FALSE(reporter.findings.empty());
  EXPECT_EQ(reporter.findings.back().kind, Kind::kStoreCorruption)
      << Describe(reporter.findings);
}

TEST(ReaderTest, RefusesWhatIsNotAStore) {
  TempDir tmp;
  EXPECT_EQ(store::Reader::Open(tmp.Sub("missing")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store::Reader::Open(tmp.path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  {
    RawStore s(tmp.Sub("noformat"), /*create=*/true);
    s.Delete("default", store::kFormatKey);
  }
  EXPECT_EQ(store::Reader::Open(tmp.Sub("noformat")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReaderTest, LeavesNoScratchFilesBehind) {
  TempDir tmp;
  { RawStore s(tmp.Sub("data"), /*create=*/true); }
  store::ReaderOptions o;
  o.scratch_dir = tmp.Sub("scratch");
  std::filesystem::create_directory(o.scratch_dir);
  {
    auto reader = store::Reader::Open(tmp.Sub("data"), o);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_FALSE(std::filesystem::is_empty(o.scratch_dir));
  }
  EXPECT_TRUE(std::filesystem::is_empty(o.scratch_dir));
}

}  // namespace
}  // namespace indelible::check

namespace indelible::check {
namespace {

// A purged tenant (erasure.h): bodies missing up to the certificate's final
// seq are erased, not pruned, and no finding; the certificate is held
// against the chain and the trusted keys.
class PurgedTenantCheckTest : public StoreCheckTest {
 protected:
  void Purge(uint64_t final_seq, const chain::NoteSigner& signer) {
    RawStore s(dir_);
    for (uint64_t seq = 1; seq <= 40; ++seq) s.DeleteBody("globex", seq);
    const chain::Digest head =
        globex_[std::min<uint64_t>(final_seq, 40) - 1].skeleton.entry_hash;
    s.Put("default", std::string(store::kPurgedPrefix) + "globex",
          signer.Sign(chain::DeletionCertificateText({"globex", final_seq, head, 5})));
  }
  StoreCheckOptions Keyed() {
    StoreCheckOptions o;
    EXPECT_TRUE(
        o.keys.AddVerifierKey(chain::NoteVerifierKeyString(testing::TestSigner().verifier_key()))
            .ok());
    return o;
  }
};

TEST_F(PurgedTenantCheckTest, ErasedBodiesAreNoFinding) {
  Purge(40, testing::TestSigner());
  Outcome o = Check(dir_, Keyed());
  EXPECT_TRUE(o.findings.empty()) << Describe(o.findings);
  const TenantSummary& g = o.result.tenants[1];
  EXPECT_EQ(g.erased_by, "purge");
  EXPECT_EQ(g.erased_through, 40u);
  EXPECT_EQ(g.erased, 40u);
  EXPECT_EQ(g.pruned, 0u);
  EXPECT_TRUE(g.erasure_verified);
  EXPECT_TRUE(o.result.tenants[0].erased_by.empty());
  EXPECT_EQ(o.result.pruned, 3u) << "acme's pruned bodies only";
}

TEST_F(PurgedTenantCheckTest, ABodyLeftOrACertificateThatDoesNotHoldIsAFinding) {
  Purge(40, testing::TestSigner());
  {
    RawStore s(dir_);
    s.WriteRecord("globex", globex_[6]);  // seq 7 with its body
  }
  Outcome left = Check(dir_, Keyed());
  ASSERT_EQ(left.findings.size(), 1u) << Describe(left.findings);
  EXPECT_EQ(left.findings[0].kind, Kind::kPurge);
  EXPECT_EQ(left.findings[0].seq, 7u);

  // A certificate by another key under the same name.
  chain::NoteSigner mallory(testing::TestSigner().verifier_key().name,
                            *chain::Ed25519PrivateKey::FromSeed(std::string(32, 'm')));
  Purge(40, mallory);
  Outcome forged = Check(dir_, Keyed());
  ASSERT_EQ(forged.findings.size(), 1u) << Describe(forged.findings);
  EXPECT_EQ(forged.findings[0].kind, Kind::kPurge);
  EXPECT_EQ(forged.findings[0].seq, 0u);
  EXPECT_FALSE(forged.result.tenants[1].erasure_verified);

  // A certificate stating a later final seq than the chain has.
  Purge(45, testing::TestSigner());
  Outcome cut = Check(dir_, Keyed());
  ASSERT_EQ(cut.findings.size(), 1u) << Describe(cut.findings);
  EXPECT_EQ(cut.findings[0].kind, Kind::kPurge);
  EXPECT_EQ(cut.findings[0].seq, 41u);
}

}  // namespace
}  // namespace indelible::check
