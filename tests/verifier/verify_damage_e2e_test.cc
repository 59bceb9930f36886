// End-to-end damage tests of `indelible-verify check`: an attacker edits
// COPIES of what the real daemon wrote, with RocksDB directly, and the real
// verifier binary must name the tenant, the first bad seq and the kind of
// each damage (docs/VERIFY.md lists the kinds).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/verifier/test_chain.h"
#include "tests/verifier/verify_e2e_fixture.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::RawStore;
using testing::TestRecord;

TEST_F(VerifyE2E, BodyModified) {
  auto dir = Damaged([](RawStore& s) {
    TestRecord r = s.ReadRecord("acme", 7);
    r.body.replace(r.body.find("alice"), 5, "bobby");  // who did it
    s.WriteRecord("acme", r);
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 7, "body_digest_mismatch");
  EXPECT_EQ(v.out["totals"]["findings"], 1);
  EXPECT_EQ(v.out["tenants"][1]["findings"], 0);  // globex untouched
}

// The Merkle tree (format v2): a stored node changed.
TEST_F(VerifyE2E, TreeNodeModified) {
  auto dir = Damaged([](RawStore& s) {
    const std::string key = store::TreeKey("acme", 4, 0);  // leaves 1..16
    std::string node = *s.Get(store::kTreeCf, key);
    node[0] ^= 1;
    s.Put(store::kTreeCf, key, node);
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 16, "tree_node_mismatch");
  EXPECT_NE(v.FirstFinding()["detail"].get<std::string>().find("level 4 index 0"),
            std::string::npos) << v.FirstFinding();
  EXPECT_EQ(v.out["totals"]["findings"], 1);
}

// A row below level 4, where the layout keeps none (leaves and small
// subtrees are hashed from the skeletons).
TEST_F(VerifyE2E, TreeRowBelowTheStoredLevels) {
  auto dir = Damaged([](RawStore& s) {
    const chain::Digest leaf = chain::LeafHash(Hash("acme", 5), "trace");
    s.Put(store::kTreeCf, store::TreeKey("acme", 0, 4), store::EncodeTreeRow(0, leaf, "trace"));
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 5, "tree_node_extra");
  EXPECT_NE(v.FirstFinding()["detail"].get<std::string>().find("level 0 index 4"),
            std::string::npos) << v.FirstFinding();
  EXPECT_EQ(v.out["totals"]["findings"], 1);
}

// Retention's work, done by hand: the bodies and event-id entries of
// acme's seqs 5 and 6 are deleted, their leaves stay.
void Prune5And6(RawStore& s) {
  for (uint64_t seq : {5, 6}) {
    s.DeleteBody("acme", seq);
    s.Delete(store::kEventIdsCf, store::EventIdKey("acme", "acme-" + std::to_string(seq)));
  }
}

// Replaces the category acme's skeleton of `seq` keeps for its leaf.
void KeepCategory(RawStore& s, uint64_t seq, const std::string& category) {
  store::Skeleton sk;
  ASSERT_TRUE(store::DecodeSkeleton(*s.GetSkeleton("acme", seq), &sk));
  ASSERT_EQ(sk.category, "access");
  sk.category = category;
  s.PutSkeleton("acme", seq, store::EncodeSkeleton(sk));
}

// A pruned record's leaf is checked by the category kept with it: the
// tree verifies. But no retention policy is recorded in this chain, so no
// body could lawfully go: both are early_prune.
TEST_F(VerifyE2E, PrunedRecordsVerifyAndNoPolicyAllowedThem) {
  Verify v = Check(Damaged(Prune5And6), KeyArgs());
  EXPECT_EQ(v.run.exit_code, 1) << v.run.out << v.run.err;
  EXPECT_EQ(v.out["tenants"][0]["pruned"], 2);
  EXPECT_EQ(v.out["totals"]["findings"], 2);
  ExpectFirstFinding(v, "acme", 5, "early_prune");
  EXPECT_EQ(v.out["findings"][1]["seq"], 6);
  EXPECT_EQ(v.out["findings"][1]["kind"], "early_prune");
}

// The category kept for a pruned record's leaf, changed (to make an
// "access" record look like a "trace" one, whose pruning came sooner): the
// node over its block of leaves no longer matches, and names the pruned
// records among them.
TEST_F(VerifyE2E, PrunedLeafCategoryChanged) {
  auto dir = Damaged([](RawStore& s) {
    Prune5And6(s);
    KeepCategory(s, 6, "trace");
  });
  Verify v = Check(dir, KeyArgs());
  // The node over leaves 1..16 and the signed root over them disagree with
  // the records; then the two bodies no recorded policy allowed to go.
  ASSERT_EQ(v.out["totals"]["findings"], 4) << v.out.dump();
  const nlohmann::json& tree = v.out["findings"][0];
  EXPECT_EQ(tree["kind"], "tree_node_mismatch") << tree;
  EXPECT_EQ(tree["seq"], 16) << tree;
  EXPECT_NE(tree["detail"].get<std::string>().find("level 4 index 0"), std::string::npos) << tree;
  EXPECT_NE(tree["detail"].get<std::string>().find("seq 5, 6"), std::string::npos) << tree;
  EXPECT_EQ(v.out["findings"][1]["kind"], "checkpoint_root_mismatch");
  EXPECT_EQ(v.out["findings"][2]["kind"], "early_prune");
  EXPECT_EQ(v.out["findings"][3]["kind"], "early_prune");
}

// The category a skeleton keeps while its record still has its body,
// changed: it would stand in for the body's once retention pruned it.
TEST_F(VerifyE2E, KeptCategoryDisagreesWithTheBody) {
  auto dir = Damaged([](RawStore& s) { KeepCategory(s, 9, "trace"); });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 9, "tree_node_mismatch");
  EXPECT_NE(v.FirstFinding()["detail"].get<std::string>().find("keeps category \"trace\""),
            std::string::npos) << v.FirstFinding();
  EXPECT_EQ(v.out["totals"]["findings"], 1);
}

TEST_F(VerifyE2E, TreeNodeDeleted) {
  auto dir = Damaged([](RawStore& s) { s.Delete(store::kTreeCf, store::TreeKey("globex", 4, 0)); });
  ExpectFirstFinding(Check(dir, KeyArgs()), "globex", 16, "tree_node_missing");
}

// A v2 checkpoint validly signed (by the daemon's key) over another root.
TEST_F(VerifyE2E, V2CheckpointOverAnotherRoot) {
  auto dir = Damaged([](RawStore& s) {
    const std::string key = store::SeqKey("acme", kRecords);
    std::string note = *s.Get(store::kCheckpointsV2Cf, key);
    auto cp = chain::ParseCheckpointV2Text(note.substr(0, note.rfind("\n\n") + 1));
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp->root[0] ^= 1;
    s.Put(store::kCheckpointsV2Cf, key, testing::TestSigner().Sign(chain::CheckpointV2Text(*cp)));
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", kRecords, "checkpoint_root_mismatch");
  EXPECT_EQ(v.out["totals"]["findings"], 1);
}

TEST_F(VerifyE2E, SkeletonModified) {
  auto dir = Damaged([](RawStore& s) {
    TestRecord r = s.ReadRecord("acme", 9);
    r.skeleton.received_at_ns += 1;
    s.WriteRecord("acme", r);
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 9, "entry_hash_mismatch");
}

// The received_at copy stored with a body, made older so that retention
// would prune the body early: covered by no hash, but compared.
TEST_F(VerifyE2E, BodyTimeCopyModified) {
  auto dir = Damaged([](RawStore& s) {
    TestRecord r = s.ReadRecord("acme", 6);
    store::SetBodyReceivedAt(&r.body, r.skeleton.received_at_ns - 400ull * 86400 * 1000000000);
    s.WriteRecord("acme", r);
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 6, "body_received_at_mismatch");
  EXPECT_EQ(v.out["totals"]["findings"], 1);
}

TEST_F(VerifyE2E, RecordDeletedInTheMiddle) {
  auto dir = Damaged([](RawStore& s) { s.DeleteRecord("acme", 10); });
  ExpectFirstFinding(Check(dir, KeyArgs()), "acme", 10, "seq_gap");
}

TEST_F(VerifyE2E, TwoConsecutiveRecordsDeleted) {
  auto dir = Damaged([](RawStore& s) {
    s.DeleteRecord("globex", 10);
    s.DeleteRecord("globex", 11);
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "globex", 10, "seq_gap");
  EXPECT_NE(v.FirstFinding()["detail"].get<std::string>().find("10..11"),
            std::string::npos);
}

TEST_F(VerifyE2E, RecordInserted) {
  // A forged record, correctly hashed onto record 7, takes seq 8; the rest
  // move up one seq; the head row is moved too.
  auto dir = Damaged([](RawStore& s) {
    std::vector<TestRecord> moved;
    for (uint64_t seq = 8; seq <= kRecords; ++seq) {
      moved.push_back(s.ReadRecord("acme", seq));
    }
    for (TestRecord r : moved) {
      r.seq += 1;
      s.WriteRecord("acme", r);
    }
    TestRecord seven = s.ReadRecord("acme", 7);
    TestRecord fake;
    fake.seq = 8;
    fake.skeleton.received_at_ns = seven.skeleton.received_at_ns;
    chain::Salt salt{};
    fake.body = store::EncodeBody(fake.skeleton.received_at_ns, salt,
                                  testing::TestEvent("acme", 999));
    std::vector<TestRecord> chain = {seven, fake};
    testing::Rehash("acme", &chain, 1);
    s.WriteRecord("acme", chain[1]);
    const TestRecord& last = moved.back();
    s.WriteHead("acme", store::Head{kRecords + 1, last.skeleton.received_at_ns,
                                    last.skeleton.entry_hash});
  });
  // Findings come in seq order: the tree names the forged record itself
  // (its leaf is not the one stored), the chain the record after it.
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 8, "tree_node_mismatch");
  bool chain_found = false;
  for (const auto& f : v.out["findings"]) {
    if (f["seq"] == 9 && f["kind"] == "entry_hash_mismatch") chain_found = true;
  }
  EXPECT_TRUE(chain_found) << v.out["findings"].dump(2);
}

TEST_F(VerifyE2E, TwoRecordsSwapped) {
  auto dir = Damaged([](RawStore& s) {
    TestRecord a = s.ReadRecord("acme", 12), b = s.ReadRecord("acme", 13);
    std::swap(a.seq, b.seq);
    s.WriteRecord("acme", a);
    s.WriteRecord("acme", b);
  });
  ExpectFirstFinding(Check(dir, KeyArgs()), "acme", 12, "entry_hash_mismatch");
}

TEST_F(VerifyE2E, TailTruncatedBelowTheHeadRow) {
  auto dir = Damaged([](RawStore& s) {
    for (uint64_t seq = 18; seq <= kRecords; ++seq) s.DeleteRecord("acme", seq);
  });
  ExpectFirstFinding(Check(dir, KeyArgs()), "acme", 18, "truncated");
}

// Cuts acme's records after `last`, moves its head back and deletes the v1
// checkpoint of its last record.
void TruncateTo(RawStore& s, uint64_t last) {
  for (uint64_t seq = last + 1; seq <= kRecords; ++seq) s.DeleteRecord("acme", seq);
  TestRecord r = s.ReadRecord("acme", last);
  s.WriteHead("acme", store::Head{last, r.skeleton.received_at_ns, r.skeleton.entry_hash});
  s.Delete(store::kCheckpointsCf, store::SeqKey("acme", kRecords));
}

void TruncateTo17(RawStore& s) { TruncateTo(s, 17); }

// Records cut off the end with the head row moved back and the v1
// checkpoint deleted: the Merkle tree's rows beyond the records (and its
// v2 checkpoint) still show it.
TEST_F(VerifyE2E, TailTruncatedWithItsTreeLeftBehind) {
  // The node over leaves 1..16 outlives records 13..20.
  auto dir = Damaged([](RawStore& s) { TruncateTo(s, 12); });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 16, "tree_node_extra");
  EXPECT_NE(v.run.out.find("checkpoint_root_mismatch"), std::string::npos) << v.run.out;
}

TEST_F(VerifyE2E, TailTruncatedBelowTheAuditorsCheckpoint) {
  // A careful attacker also moves the head row back and deletes the stored
  // checkpoints and the tree nodes beyond the cut: only a checkpoint saved
  // outside the store reveals it.
  auto dir = Damaged([](RawStore& s) {
    TruncateTo17(s);
    s.Delete(store::kCheckpointsV2Cf, store::SeqKey("acme", kRecords));
    for (int level = 0; (1 << level) <= kRecords; ++level) {
      for (uint64_t i = 0; ((i + 1) << level) <= kRecords; ++i) {
        if (((i + 1) << level) > 17) s.Delete(store::kTreeCf, store::TreeKey("acme", level, i));
      }
    }
  });
  // Undetectable alone; the output names acme as pinned by no signature.
  Verify blind = Check(dir, KeyArgs());
  EXPECT_EQ(blind.run.exit_code, 0) << blind.run.out;
  EXPECT_EQ(blind.out["unsigned_tenants"], nlohmann::json::array({"acme"}));

  std::vector<std::string> args = KeyArgs();
  args.insert(args.end(), {"--checkpoint", auditor_checkpoint_});
  ExpectFirstFinding(Check(dir, args), "acme", 18, "truncated");
  ExpectFirstFinding(Check(dir, {"--key-pem", public_key_pem_, "--checkpoint",
                                 auditor_checkpoint_, "--tenant", "acme"}),
                     "acme", 18, "truncated");
}

TEST_F(VerifyE2E, HistoryRewrittenAfterTheAuditorsCheckpoint) {
  // A checkpoint of another history at the same seq: a fork.
  chain::Digest other = Hash("acme", kRecords);
  other[0] ^= 1;
  const std::string note = tmp_->Sub("forked.checkpoint");
  WriteFile(note, testing::SignedCheckpoint(testing::TestSigner(), "acme",
                                            kRecords, other, 1));
  std::vector<std::string> args = KeyArgs();
  args.insert(args.end(), {"--checkpoint", note});
  ExpectFirstFinding(Check(pristine_, args), "acme", kRecords,
                     "checkpoint_mismatch");
}

TEST_F(VerifyE2E, RecordsSplicedFromAnotherTenant) {
  auto dir = Damaged([](RawStore& s) {
    for (uint64_t seq = 5; seq <= 7; ++seq) {
      s.WriteRecord("acme", s.ReadRecord("globex", seq));
    }
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 5, "tenant_mismatch");
}

TEST_F(VerifyE2E, StoredCheckpointForged) {
  auto dir = Damaged([](RawStore& s) {
    const std::string key = store::SeqKey("acme", kRecords);
    std::string note = *s.Get(store::kCheckpointsCf, key);
    // Point the signed head at globex's hash, keeping the signature.
    const std::string mine = chain::Base64Encode(hashes_[{"acme", kRecords}]);
    const std::string theirs =
        chain::Base64Encode(hashes_[{"globex", kRecords}]);
    note.replace(note.find(mine), mine.size(), theirs);
    s.Put(store::kCheckpointsCf, key, note);
  });
  ExpectFirstFinding(Check(dir, KeyArgs()), "acme", kRecords,
                     "checkpoint_signature");
  // The store's own key history catches it too.
  Verify self = Check(dir);
  ExpectFirstFinding(self, "acme", kRecords, "checkpoint_signature");
  EXPECT_EQ(self.out["key_source"], "store");
}

TEST_F(VerifyE2E, StoredCheckpointSignedByAnotherKey) {
  auto dir = Damaged([](RawStore& s) {
    s.Put(store::kCheckpointsCf, store::SeqKey("acme", kRecords),
          testing::SignedCheckpoint(testing::OtherSigner(), "acme", kRecords,
                                    Hash("acme", kRecords), 1));
  });
  ExpectFirstFinding(Check(dir, KeyArgs()), "acme", kRecords,
                     "checkpoint_signature");
}

TEST_F(VerifyE2E, CheckpointHistoryRolledBack) {
  // After the head at seq 20 was signed, the daemon signs seq 10 again: its
  // state went back to an older head.
  auto dir = Damaged([](RawStore& s) {
    auto signed20 = *s.Get(store::kCheckpointsCf, store::SeqKey("acme", 20));
    uint64_t t20 = 0;
    auto lines = chain::Split(signed20, '\n');
    ASSERT_TRUE(chain::ParseDecimal(lines[3], &t20));
    auto signer = testing::TestSigner();
    s.Put(store::kCheckpointsCf, store::SeqKey("acme", 5),
          testing::SignedCheckpoint(signer, "acme", 5, Hash("acme", 5), t20 - 1));
    s.Put(store::kCheckpointsCf, store::SeqKey("acme", 10),
          testing::SignedCheckpoint(signer, "acme", 10, Hash("acme", 10),
                                    t20 + 1'000'000'000));
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 20, "checkpoint_rollback");
  EXPECT_EQ(v.out["totals"]["findings"], 1);
}

}  // namespace
}  // namespace indelible
