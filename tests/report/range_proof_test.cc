// CheckRangeProof against a hand-built chain of five records and a
// checkpoint of its tree signed by a test key: a genuine proof holds, and
// each way of cutting, hiding or changing records is a problem naming the
// seq where it shows.
#include "verifier/report/range_proof.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::report {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kRecords = 5;

class RangeProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entry_.push_back(chain::Genesis("acme"));
    for (uint64_t seq = 1; seq <= kRecords; ++seq) {
      body_.push_back(chain::Sha256("body " + std::to_string(seq)));
      entry_.push_back(
          chain::EntryHash("acme", seq, Received(seq), entry_[seq - 1], body_[seq - 1]));
    }
  }

  static uint64_t Received(uint64_t seq) { return 1000 * seq; }
  static std::string Category(uint64_t seq) { return seq == 3 ? "trace" : "access"; }

  // The proof of [a, kRecords] whose rows are `rows`; the others are leaves,
  // `pruned` among them marked so.
  std::string Proof(uint64_t a, const std::vector<uint64_t>& rows,
                    const std::vector<uint64_t>& pruned = {}) {
    chain::CompactRange before;
    chain::CompactRange all;
    for (uint64_t seq = 1; seq <= kRecords; ++seq) {
      const chain::Digest leaf = chain::LeafHash(entry_[seq], Category(seq));
      if (seq < a) before.Append(leaf);
      all.Append(leaf);
    }
    Json leaves = Json::array();
    for (uint64_t seq = a; seq <= kRecords; ++seq) {
      if (std::find(rows.begin(), rows.end(), seq) != rows.end()) continue;
      leaves.push_back({{"seq", seq},
                        {"entry_hash", chain::ToHex(entry_[seq])},
                        {"category", Category(seq)},
                        {"received_at_ns", std::to_string(Received(seq))},
                        {"body_digest", chain::ToHex(body_[seq - 1])},
                        {"pruned", std::find(pruned.begin(), pruned.end(), seq) != pruned.end()}});
    }
    Json frontier = Json::array();
    for (const auto& h : before.hashes()) frontier.push_back(chain::ToHex(h));
    chain::CheckpointV2 cp{.log_name = "log.test",
                           .tenant = "acme",
                           .size = kRecords,
                           .root = all.Root(),
                           .chain_head = entry_[kRecords],
                           .timestamp_ns = 123};
    const chain::NoteSigner signer("log.test", key_);
    Json p = {{"format", kProofFormat},
              {"tenant", "acme"},
              {"leaves", leaves},
              {"first_seq", a},
              {"last_seq", kRecords},
              {"prev_entry_hash", chain::ToHex(entry_[a - 1])},
              {"frontier", frontier},
              {"checkpoint", signer.Sign(chain::CheckpointV2Text(cp))}};
    return p.dump();
  }

  // JSON-like rows (with prev_entry_hash) of `seqs`.
  std::vector<ProvenRow> Rows(const std::vector<uint64_t>& seqs) {
    std::vector<ProvenRow> out;
    for (uint64_t seq : seqs) out.push_back({seq, entry_[seq], Category(seq), entry_[seq - 1]});
    return out;
  }

  // By default the rows were chosen by a filter (action) that leaves cannot
  // be judged by: any record may be a leaf.
  static RangeWindow ByAction() {
    RangeWindow w;
    w.other_filters = {"action"};
    return w;
  }
  RangeCheck Check(const std::string& proof, std::vector<ProvenRow> rows,
                   const RangeWindow& window = ByAction()) {
    return CheckRangeProof("acme", proof, &rows, window, {key_.PublicKey()});
  }

  static std::string Problems(const RangeCheck& c) {
    std::string all;
    for (const auto& p : c.problems) all += p + "\n";
    return all;
  }

  chain::Ed25519PrivateKey key_ = *chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x09'));
  std::vector<chain::Digest> entry_;  // entry_[seq], entry_[0] = genesis
  std::vector<chain::Digest> body_;   // body_[seq - 1]
};

TEST_F(RangeProofTest, GenuineProofHoldsFromOneAndFromAFrontier) {
  RangeCheck c = Check(Proof(1, {2, 4}), Rows({2, 4}));
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  EXPECT_TRUE(c.log_signed);
  EXPECT_EQ(c.leaves, 3u);
  // Starting at 3 (frontier of 2 leaves) and at 4 (frontier of 3: two
  // subtrees), with a received_at window that starts after seq 3.
  RangeWindow w;
  w.from_ns = Received(4);
  c = Check(Proof(3, {4, 5}), Rows({4, 5}), w);
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  c = Check(Proof(4, {5}), Rows({5}), RangeWindow{.from_ns = Received(5)});
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  // An unknown key: no problem, but not signed by a trusted key.
  std::vector<ProvenRow> rows = Rows({2, 4});
  c = CheckRangeProof("acme", Proof(1, {2, 4}), &rows, ByAction(), {});
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  EXPECT_FALSE(c.log_signed);
}

TEST_F(RangeProofTest, MissingRowIsNamed) {
  RangeCheck c = Check(Proof(1, {2, 4}), Rows({2}));
  EXPECT_NE(Problems(c).find("seq 4 is neither a row nor a leaf"), std::string::npos)
      << Problems(c);
}

TEST_F(RangeProofTest, RowAndLeafOfOneSeqIsAProblem) {
  RangeCheck c = Check(Proof(1, {2}), Rows({2, 4}));
  EXPECT_NE(Problems(c).find("seq 4 is both a row and a leaf"), std::string::npos) << Problems(c);
}

TEST_F(RangeProofTest, ChangedRowBreaksTheLinkOrTheRoot) {
  std::vector<ProvenRow> rows = Rows({2, 4});
  rows[0].prev_entry_hash = entry_[0];
  RangeCheck c = Check(Proof(1, {2, 4}), rows);
  EXPECT_NE(Problems(c).find("seq 2: the row's prev_entry_hash"), std::string::npos)
      << Problems(c);
  // A category changed: only the root tells.
  rows = Rows({2, 4});
  rows[1].category = "admin";
  c = Check(Proof(1, {2, 4}), rows);
  EXPECT_NE(Problems(c).find("is not the checkpoint's"), std::string::npos) << Problems(c);
  // A CSV row (no prev, a body digest from its cells) whose cells changed.
  rows = Rows({2, 4});
  rows[0].prev_entry_hash.reset();
  rows[0].received_at_ns = Received(2);
  rows[0].body_digest = body_[1];
  c = Check(Proof(1, {2, 4}), rows);
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  rows[0].body_digest = chain::Sha256("changed");
  c = Check(Proof(1, {2, 4}), rows);
  EXPECT_NE(Problems(c).find("seq 2: the row's cells"), std::string::npos) << Problems(c);
}

TEST_F(RangeProofTest, ShortenedOrWronglyStartedRangeIsAProblem) {
  // The end cut: the checkpoint of 5 with a range claimed to end at 4.
  Json p = Json::parse(Proof(1, {2, 4}));
  p["last_seq"] = 4;
  Json leaves = Json::array();
  for (const auto& l : p["leaves"]) {
    if (l["seq"] != 5) leaves.push_back(l);
  }
  p["leaves"] = leaves;
  RangeCheck c = Check(p.dump(), Rows({2, 4}));
  EXPECT_NE(Problems(c).find("checkpoint: size 5, but the range ends at seq 4"), std::string::npos)
      << Problems(c);
  // The start cut: no window start, so the range must start at 1.
  c = Check(Proof(3, {4}), Rows({4}));
  EXPECT_NE(Problems(c).find("the range starts at seq 3, not 1"), std::string::npos)
      << Problems(c);
  // With a window that seq 3 is inside of.
  c = Check(Proof(3, {4}), Rows({4}), RangeWindow{.from_ns = Received(3)});
  EXPECT_NE(Problems(c).find("seq 3: the range starts inside the time window"), std::string::npos)
      << Problems(c);
  // A wrong frontier.
  p = Json::parse(Proof(3, {4}));
  p["frontier"] = Json::array({chain::ToHex(entry_[1])});
  c = Check(p.dump(), Rows({4}), RangeWindow{.from_ns = Received(4)});
  EXPECT_NE(Problems(c).find("is not the checkpoint's"), std::string::npos) << Problems(c);
  // A frontier of the wrong length.
  p["frontier"] = Json::array();
  c = Check(p.dump(), Rows({4}), RangeWindow{.from_ns = Received(4)});
  EXPECT_NE(Problems(c).find("the frontier is not that of the 2 records"), std::string::npos)
      << Problems(c);
}

TEST_F(RangeProofTest, LeafInTheWindowIsAProblemUnlessPrunedOrUnjudgeable) {
  RangeWindow w{.from_ns = Received(2), .to_ns = Received(5)};
  // Seq 3 (trace) and 4 received inside [2, 5) but leaves.
  RangeCheck c = Check(Proof(1, {2}), Rows({2}), w);
  EXPECT_NE(Problems(c).find("seq 3: a record in the time window"), std::string::npos)
      << Problems(c);
  // Only access asked for: seq 3 (trace) may be a leaf; seq 4 not.
  w.category = "access";
  c = Check(Proof(1, {2}), Rows({2}), w);
  EXPECT_EQ(Problems(c).find("seq 3:"), std::string::npos) << Problems(c);
  EXPECT_NE(Problems(c).find("seq 4: a record in the time window"), std::string::npos)
      << Problems(c);
  // Seq 4 pruned: a note, not a problem.
  c = Check(Proof(1, {2}, {4}), Rows({2}), w);
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  ASSERT_FALSE(c.notes.empty());
  EXPECT_NE(c.notes[0].find("1 record(s) in the window were pruned"), std::string::npos);
  // Another filter: the leaf cannot be judged by it.
  w.other_filters = {"action"};
  c = Check(Proof(1, {2}), Rows({2}), w);
  EXPECT_TRUE(c.problems.empty()) << Problems(c);
  EXPECT_NE(c.notes[0].find("filters action could not be checked"), std::string::npos);
}

TEST_F(RangeProofTest, ChangedLeafIsNamed) {
  Json p = Json::parse(Proof(1, {2, 4}));
  p["leaves"][1]["received_at_ns"] = std::to_string(Received(3) + 1);  // seq 3
  RangeCheck c = Check(p.dump(), Rows({2, 4}));
  EXPECT_NE(Problems(c).find("seq 3: the leaf's entry hash does not follow"), std::string::npos)
      << Problems(c);
}

TEST_F(RangeProofTest, MalformedProofIsAProblemNotACrash) {
  for (const std::string bad : {"", "[]", "{\"format\":\"x\"}",
                                "{\"format\":\"indelible-report-proof/v1\"}"}) {
    RangeCheck c = Check(bad, Rows({2}));
    EXPECT_FALSE(c.problems.empty()) << bad;
  }
  Json p = Json::parse(Proof(1, {2, 4}));
  p["first_seq"] = -1;
  EXPECT_FALSE(Check(p.dump(), Rows({2, 4})).problems.empty());
  p = Json::parse(Proof(1, {2, 4}));
  p["checkpoint"] = "not a note";
  EXPECT_FALSE(Check(p.dump(), Rows({2, 4})).problems.empty());
  // Leaves: a missing field, a mistyped one, something that is no object.
  p = Json::parse(Proof(1, {2, 4}));
  p["leaves"][1].erase("body_digest");
  RangeCheck c = Check(p.dump(), Rows({2, 4}));
  EXPECT_NE(Problems(c).find("malformed leaf 2"), std::string::npos) << Problems(c);
  p = Json::parse(Proof(1, {2, 4}));
  p["leaves"][0]["pruned"] = "no";
  EXPECT_NE(Problems(Check(p.dump(), Rows({2, 4}))).find("malformed leaf 1"), std::string::npos);
  p = Json::parse(Proof(1, {2, 4}));
  p["leaves"].push_back("seq 6");
  EXPECT_NE(Problems(Check(p.dump(), Rows({2, 4}))).find("leaves: want an array of leaf objects"),
            std::string::npos);
}

}  // namespace
}  // namespace indelible::report
