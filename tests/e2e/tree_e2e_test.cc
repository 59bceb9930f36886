// End-to-end: the Merkle tree of each tenant over the wire. Every inclusion
// and consistency proof the daemon serves is checked by the C++ library and
// by an RFC 9162 verifier written independently in Python
// (tests/e2e/proof_check.py); receipts carry what they were linked on; a
// data directory written by the v1 release is upgraded in place.
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

chain::Digest D(const std::string& bytes) {
  chain::Digest d{};
  EXPECT_TRUE(chain::DigestFromBytes(bytes, &d)) << "not a 32-byte hash";
  return d;
}

std::string Hex(const std::string& bytes) { return chain::ToHex(bytes); }

v1::Event MakeEvent(const std::string& tenant, const std::string& id,
                    const std::string& category = "") {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.mutable_actor()->set_id("alice");
  e.set_action("customer.read");
  e.set_category(category);
  return e;
}

class Tree {
 public:
  explicit Tree(const std::string& target)
      : stub_(v1::AuditLog::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}

  v1::AuditLog::Stub* stub() { return stub_.get(); }

  std::vector<v1::Receipt> Append(const std::vector<v1::Event>& events) {
    v1::AppendBatchRequest req;
    for (const auto& e : events) *req.add_events() = e;
    v1::AppendBatchResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->AppendBatch(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.receipts().begin(), resp.receipts().end()};
  }

  std::vector<v1::Record> Records(const std::string& tenant) {
    v1::ReadRecordsRequest req;
    req.set_tenant(tenant);
    req.set_reason("tree test");
    grpc::ClientContext ctx;
    auto reader = stub_->ReadRecords(&ctx, req);
    std::vector<v1::Record> out;
    v1::Record r;
    while (reader->Read(&r)) out.push_back(r);
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Checkpoint(const std::string& tenant, uint64_t min_size, v1::Checkpoint* out) {
    v1::GetCheckpointRequest req;
    req.set_tenant(tenant);
    req.set_min_seq(min_size);
    req.set_version(2);
    req.set_reason("tree test");
    grpc::ClientContext ctx;
    return stub_->GetCheckpoint(&ctx, req, out);
  }

  // Polls (bounded) until a v2 checkpoint of at least `size` is signed.
  v1::Checkpoint AwaitCheckpoint(const std::string& tenant, uint64_t size) {
    v1::Checkpoint cp;
    for (int i = 0; i < 300; ++i) {
      cp.Clear();
      if (Checkpoint(tenant, size, &cp).ok()) return cp;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no v2 checkpoint of size " << size << " for " << tenant;
    return cp;
  }

  grpc::Status Inclusion(const std::string& tenant, uint64_t seq, uint64_t size,
                         bool with_checkpoint, v1::GetInclusionProofResponse* out) {
    v1::GetInclusionProofRequest req;
    req.set_tenant(tenant);
    req.set_seq(seq);
    req.set_tree_size(size);
    req.set_with_checkpoint(with_checkpoint);
    grpc::ClientContext ctx;
    return stub_->GetInclusionProof(&ctx, req, out);
  }

  grpc::Status Consistency(const std::string& tenant, uint64_t old_size, uint64_t new_size,
                           bool with_checkpoint, v1::GetConsistencyProofResponse* out) {
    v1::GetConsistencyProofRequest req;
    req.set_tenant(tenant);
    req.set_old_size(old_size);
    req.set_new_size(new_size);
    req.set_with_checkpoint(with_checkpoint);
    grpc::ClientContext ctx;
    return stub_->GetConsistencyProof(&ctx, req, out);
  }

  chain::NoteVerifierKey Key() {
    v1::GetPublicKeyResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetPublicKey(&ctx, v1::GetPublicKeyRequest(), &resp).ok());
    auto k = chain::ParseNoteVerifierKey(resp.verifier_key());
    EXPECT_TRUE(k.ok()) << k.status();
    return *k;
  }

 private:
  std::unique_ptr<v1::AuditLog::Stub> stub_;
};

// The category a record's leaf commits to: its event's, or for a pruned
// record the one the server keeps for its leaf.
std::string CategoryOf(const v1::Record& r) {
  EXPECT_TRUE(!r.pruned() || r.has_leaf_category()) << r.seq();
  return r.pruned() ? r.leaf_category() : r.event().category();
}

std::vector<chain::Digest> LeavesOf(const std::vector<v1::Record>& records) {
  std::vector<chain::Digest> leaves;
  for (const auto& r : records) leaves.push_back(chain::LeafHash(D(r.entry_hash()), CategoryOf(r)));
  return leaves;
}

// Fetches every inclusion proof and every consistency proof up to `sizes`,
// checks each with the C++ library and writes them for proof_check.py,
// which must accept them all.
void CheckAllProofs(Tree* tree, const std::string& tenant, const std::vector<uint64_t>& sizes,
                    const std::string& json_path) {
  const std::vector<v1::Record> records = tree->Records(tenant);
  const std::vector<chain::Digest> leaves = LeavesOf(records);
  nlohmann::json j;
  j["leaves"] = nlohmann::json::array();
  for (const auto& r : records) {
    j["leaves"].push_back({{"entry_hash", Hex(r.entry_hash())}, {"category", CategoryOf(r)}});
  }
  j["roots"] = nlohmann::json::object();
  j["inclusion"] = nlohmann::json::array();
  j["consistency"] = nlohmann::json::array();
  for (uint64_t size : sizes) {
    ASSERT_LE(size, leaves.size());
    const chain::Digest root = chain::MerkleRoot(leaves.data(), size);
    for (uint64_t seq = 1; seq <= size; ++seq) {
      v1::GetInclusionProofResponse p;
      grpc::Status s = tree->Inclusion(tenant, seq, size, false, &p);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(p.leaf_index(), seq - 1);
      EXPECT_EQ(p.tree_size(), size);
      std::vector<chain::Digest> proof;
      nlohmann::json hex = nlohmann::json::array();
      for (const auto& h : p.hashes()) {
        proof.push_back(D(h));
        hex.push_back(Hex(h));
      }
      EXPECT_TRUE(chain::VerifyInclusion(seq - 1, size, leaves[seq - 1], proof, root).ok())
          << "inclusion of seq " << seq << " in " << size;
      j["inclusion"].push_back({{"index", seq - 1}, {"size", size}, {"proof", hex}});
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      v1::GetConsistencyProofResponse p;
      grpc::Status s = tree->Consistency(tenant, old_size, size, false, &p);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(p.new_size(), size);
      std::vector<chain::Digest> proof;
      nlohmann::json hex = nlohmann::json::array();
      for (const auto& h : p.hashes()) {
        proof.push_back(D(h));
        hex.push_back(Hex(h));
      }
      EXPECT_TRUE(chain::VerifyConsistency(old_size, size, proof,
                                           chain::MerkleRoot(leaves.data(), old_size), root)
                      .ok())
          << "consistency " << old_size << " -> " << size;
      j["consistency"].push_back({{"old", old_size}, {"new", size}, {"proof", hex}});
    }
  }
  // The newest checkpoint's root, as served.
  v1::Checkpoint cp;
  ASSERT_TRUE(tree->Checkpoint(tenant, 0, &cp).ok());
  j["roots"][std::to_string(cp.seq())] = Hex(cp.root_hash());
  std::ofstream(json_path) << j.dump();
  testing::CommandResult r =
      RunCommand({"/usr/bin/python3", std::string(INDELIBLE_SOURCE_DIR) + "/tests/e2e/proof_check.py",
                  json_path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "0 failed")) << r.out;
}

class TreeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DaemonProcess::Start(
        {.data_dir = dir_.Sub("data"),
         .extra_args = {"--config", Config(), "--metrics-listen", "127.0.0.1:0"}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    tree_ = std::make_unique<Tree>(daemon_->target());
  }
  std::string Config() {
    const std::string path = dir_.Sub("config.yaml");
    std::ofstream(path) << "log_name: audit.example.com\ncheckpoint_interval_ms: 50\n";
    return path;
  }

  // The value of one sample of the Prometheus scrape.
  double Metric(const std::string& sample) {
    int port = 0;
    std::ifstream(dir_.Sub("data") + ".port.metrics") >> port;
    httplib::Client http("127.0.0.1", port);
    auto res = http.Get("/metrics");
    EXPECT_TRUE(res);
    if (!res) return -1;
    const size_t at = res->body.find("\n" + sample + " ");
    EXPECT_NE(at, std::string::npos) << sample;
    if (at == std::string::npos) return -1;
    return std::stod(res->body.substr(at + sample.size() + 2));
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Tree> tree_;
};

TEST_F(TreeE2E, EveryServedProofVerifiesInCppAndPython) {
  // 37 records in batches of different sizes, in two categories.
  int n = 0;
  for (int batch : {1, 2, 5, 8, 13, 8}) {
    std::vector<v1::Event> events;
    for (int i = 0; i < batch; ++i, ++n) {
      events.push_back(MakeEvent("acme", "e" + std::to_string(n), n % 4 == 0 ? "trace" : ""));
    }
    tree_->Append(events);
  }
  tree_->Append({MakeEvent("globex", "g")});
  v1::Checkpoint cp = tree_->AwaitCheckpoint("acme", 37);
  ASSERT_EQ(cp.seq(), 37u);
  EXPECT_EQ(cp.version(), 2u);
  EXPECT_EQ(cp.origin(), "audit.example.com/acme");
  auto verified = chain::VerifyCheckpointV2(cp.note(), {tree_->Key()});
  ASSERT_TRUE(verified.ok()) << verified.status() << "\n" << cp.note();
  const std::vector<chain::Digest> leaves = LeavesOf(tree_->Records("acme"));
  EXPECT_EQ(verified->root, chain::MerkleRoot(leaves));
  EXPECT_EQ(D(cp.root_hash()), verified->root);
  EXPECT_EQ(verified->chain_head, D(tree_->Records("acme").back().entry_hash()));

  CheckAllProofs(tree_.get(), "acme", {1, 2, 3, 4, 5, 7, 8, 16, 31, 37},
                 dir_.Sub("proofs.json"));

  // tree_size 0: the newest checkpoint's, and its note on request.
  v1::GetInclusionProofResponse p;
  ASSERT_TRUE(tree_->Inclusion("acme", 5, 0, true, &p).ok());
  EXPECT_EQ(p.tree_size(), 37u);
  EXPECT_EQ(p.checkpoint().note(), cp.note());
  v1::GetConsistencyProofResponse c;
  ASSERT_TRUE(tree_->Consistency("acme", 3, 0, true, &c).ok());
  EXPECT_EQ(c.new_size(), 37u);
  EXPECT_EQ(c.checkpoint().root_hash(), cp.root_hash());
}

TEST_F(TreeE2E, BadProofRequestsNameTheField) {
  tree_->Append({MakeEvent("acme", "1"), MakeEvent("acme", "2"), MakeEvent("acme", "3")});
  tree_->AwaitCheckpoint("acme", 3);
  struct Case {
    grpc::Status status;
    grpc::StatusCode code;
    std::string want;
  };
  v1::GetInclusionProofResponse p;
  v1::GetConsistencyProofResponse c;
  const std::vector<Case> cases = {
      {tree_->Inclusion("acme", 0, 3, false, &p), grpc::StatusCode::INVALID_ARGUMENT, "seq"},
      {tree_->Inclusion("acme", 4, 3, false, &p), grpc::StatusCode::OUT_OF_RANGE, "seq"},
      {tree_->Inclusion("acme", 1, 9, false, &p), grpc::StatusCode::OUT_OF_RANGE, "tree_size"},
      {tree_->Inclusion("nobody", 1, 0, false, &p), grpc::StatusCode::NOT_FOUND, "tree_size"},
      {tree_->Inclusion("Bad!", 1, 1, false, &p), grpc::StatusCode::INVALID_ARGUMENT, "tenant"},
      {tree_->Consistency("acme", 0, 3, false, &c), grpc::StatusCode::INVALID_ARGUMENT,
       "old_size"},
      {tree_->Consistency("acme", 3, 2, false, &c), grpc::StatusCode::OUT_OF_RANGE, "old_size"},
      {tree_->Consistency("acme", 1, 4, false, &c), grpc::StatusCode::OUT_OF_RANGE, "new_size"},
  };
  for (const Case& k : cases) {
    EXPECT_EQ(k.status.error_code(), k.code) << k.want << ": " << k.status.error_message();
    EXPECT_TRUE(absl::StartsWith(k.status.error_message(), k.want)) << k.status.error_message();
  }
  EXPECT_EQ(Metric("indelible_proofs_total{outcome=\"refused\"}"), 8);
  EXPECT_EQ(Metric("indelible_proofs_total{outcome=\"served\"}"), 0);
  ASSERT_TRUE(tree_->Inclusion("acme", 1, 3, false, &p).ok());
  EXPECT_EQ(Metric("indelible_proofs_total{outcome=\"served\"}"), 1);
  // A size no checkpoint was signed at: the proof, but no checkpoint.
  tree_->Append({MakeEvent("acme", "4")});
  tree_->AwaitCheckpoint("acme", 4);
  tree_->Append({MakeEvent("acme", "5")});
  tree_->AwaitCheckpoint("acme", 5);
  v1::Checkpoint at2;
  if (!tree_->Checkpoint("acme", 2, &at2).ok() || at2.seq() != 2) {
    grpc::Status s = tree_->Inclusion("acme", 1, 2, true, &p);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "with_checkpoint")) << s.error_message();
  }
}

TEST_F(TreeE2E, ReceiptsCarryLeafIndexBodyDigestAndPreviousHash) {
  std::vector<v1::Receipt> r =
      tree_->Append({MakeEvent("acme", "a"), MakeEvent("acme", "b"), MakeEvent("acme", "a")});
  ASSERT_EQ(r.size(), 3u);
  const std::vector<v1::Record> records = tree_->Records("acme");
  ASSERT_EQ(records.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(r[i].leaf_index(), static_cast<uint64_t>(i));
    EXPECT_EQ(r[i].body_digest(), records[i].body_digest());
    // The entry hash follows from what the receipt says it was linked on.
    EXPECT_EQ(chain::EntryHash("acme", r[i].seq(), r[i].received_at_ns(),
                               D(r[i].prev_entry_hash()), D(r[i].body_digest())),
              D(r[i].entry_hash()));
  }
  EXPECT_EQ(D(r[0].prev_entry_hash()), chain::Genesis("acme"));
  EXPECT_EQ(r[1].prev_entry_hash(), r[0].entry_hash());
  // Duplicates, in the same call and later: the first record's values.
  EXPECT_TRUE(r[2].duplicate());
  std::vector<v1::Receipt> again = tree_->Append({MakeEvent("acme", "b")});
  ASSERT_EQ(again.size(), 1u);
  for (const v1::Receipt& dup : {r[2], again[0]}) {
    const v1::Receipt& first = dup.seq() == 1 ? r[0] : r[1];
    EXPECT_EQ(dup.leaf_index(), first.leaf_index());
    EXPECT_EQ(dup.body_digest(), first.body_digest());
    EXPECT_EQ(dup.prev_entry_hash(), first.prev_entry_hash());
  }
  // Unary and stream receipts carry them too.
  v1::AppendRequest one;
  *one.mutable_event() = MakeEvent("acme", "c");
  v1::AppendResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(tree_->stub()->Append(&ctx, one, &resp).ok());
  EXPECT_EQ(resp.receipt().leaf_index(), 2u);
  EXPECT_EQ(resp.receipt().prev_entry_hash(), r[1].entry_hash());
  grpc::ClientContext sctx;
  auto stream = tree_->stub()->AppendStream(&sctx);
  v1::AppendBatchRequest sreq;
  *sreq.add_events() = MakeEvent("acme", "d");
  ASSERT_TRUE(stream->Write(sreq));
  v1::AppendBatchResponse sresp;
  ASSERT_TRUE(stream->Read(&sresp));
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(sresp.receipts_size(), 1);
  EXPECT_EQ(sresp.receipts(0).leaf_index(), 3u);
  EXPECT_EQ(sresp.receipts(0).prev_entry_hash(), resp.receipt().entry_hash());
  EXPECT_EQ(sresp.receipts(0).body_digest(), tree_->Records("acme")[3].body_digest());
}

// tests/data/v1-store.tar.gz: a data directory written by the release
// before the tree (13 records of acme, 6 of globex, v1 checkpoints). The
// first start builds the trees; the store then checks, serves proofs and
// takes appends.
TEST(TreeUpgradeE2E, UpgradesADataDirectoryWrittenByTheV1Release) {
  TempDir dir;
  testing::CommandResult untar =
      RunCommand({"/bin/tar", "-xzf",
                  std::string(INDELIBLE_SOURCE_DIR) + "/tests/data/v1-store.tar.gz", "-C",
                  dir.path()});
  ASSERT_EQ(untar.exit_code, 0) << untar.err;
  // That release kept its development key inside the data directory: the
  // daemon refuses to start (exit 2) until it is moved out, and says how.
  testing::CommandResult refused = RunCommand(
      {BinPath("indelibled"), "--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  const std::string move_hint =
      "mv " + dir.Sub("data/signing-key.pem") + " " + dir.Sub("data.signing-key.pem");
  EXPECT_TRUE(absl::StrContains(refused.out + refused.err, move_hint))
      << refused.out << refused.err;
  ASSERT_EQ(RunCommand({"/bin/mv", dir.Sub("data/signing-key.pem"),
                        dir.Sub("data.signing-key.pem")})
                .exit_code,
            0);
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data")});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(absl::StrContains((*d)->Log(), "event=tree_upgrade_done")) << (*d)->Log();
  EXPECT_TRUE(absl::StrContains((*d)->Log(), "tree_upgrade_tenant tenant=acme leaves=13"))
      << (*d)->Log();
  Tree tree((*d)->target());
  // After the upgrade the start puts the configuration on record (the v1
  // store has none applied): the daemon's own indelible.* records follow
  // the release's, and the tree covers them all.
  uint64_t acme_size = 0;
  for (const auto& [tenant, n] : std::map<std::string, uint64_t>{{"acme", 13}, {"globex", 6}}) {
    const std::vector<v1::Record> records = tree.Records(tenant);
    ASSERT_GE(records.size(), n) << tenant;
    for (size_t i = n; i < records.size(); ++i) {
      EXPECT_TRUE(absl::StartsWith(records[i].event().category(), "indelible."))
          << tenant << " seq " << records[i].seq();
    }
    if (tenant == "acme") acme_size = records.size();
    v1::Checkpoint cp = tree.AwaitCheckpoint(tenant, records.size());
    EXPECT_EQ(D(cp.root_hash()), chain::MerkleRoot(LeavesOf(records))) << tenant;
    auto v = chain::VerifyCheckpointV2(cp.note(), {tree.Key()});
    EXPECT_TRUE(v.ok()) << v.status();
  }
  CheckAllProofs(&tree, "acme", {1, 6, 13}, dir.Sub("proofs.json"));
  // Appends continue on the upgraded tree.
  std::vector<v1::Receipt> r = tree.Append({MakeEvent("acme", "after-upgrade")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq(), acme_size + 1);
  v1::Checkpoint cp = tree.AwaitCheckpoint("acme", acme_size + 1);
  EXPECT_EQ(D(cp.root_hash()), chain::MerkleRoot(LeavesOf(tree.Records("acme"))));
  // A second start finds the tree marked and builds nothing (the log file
  // holds both starts).
  ASSERT_EQ((*d)->Stop(), 0);
  ASSERT_TRUE((*d)->Restart().ok());
  const std::string log = (*d)->Log();
  size_t upgrades = 0;
  for (size_t at = log.find("event=tree_upgrade_start"); at != std::string::npos;
       at = log.find("event=tree_upgrade_start", at + 1)) {
    ++upgrades;
  }
  EXPECT_EQ(upgrades, 1u) << log;
  ASSERT_EQ((*d)->Stop(), 0);
  testing::CommandResult check =
      RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir.Sub("data"), "--key",
                  testing::VerifierKeyOf(dir.Sub("data.signing-key.pem"))});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// tests/data/tree-v1-store.tar.gz: a data directory written by the release
// whose tree stored every node, leaves with their categories (acme:
// nine traces pruned after 91 days of its test clock, accesses, its policy and
// later records; globex: accesses). `check` verifies it as written; the
// first start moves the leaves' categories into the skeletons and drops the
// rows below level 4, and the store then checks, serves the same roots and
// proofs, and takes appends.
TEST(TreeUpgradeE2E, UpgradesADataDirectoryInThePreviousTreeLayout) {
  TempDir dir;
  testing::CommandResult untar =
      RunCommand({"/bin/tar", "-xzf",
                  std::string(INDELIBLE_SOURCE_DIR) + "/tests/data/tree-v1-store.tar.gz", "-C",
                  dir.path()});
  ASSERT_EQ(untar.exit_code, 0) << untar.err;
  const std::string key = testing::VerifierKeyOf(dir.Sub("data.signing-key.pem"));
  auto check = [&] {
    testing::CommandResult r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir",
                                           dir.Sub("data"), "--key", key, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  const nlohmann::json before = check();
  ASSERT_FALSE(before.is_discarded());
  EXPECT_EQ(before["totals"]["pruned"], 9) << before.dump();
  EXPECT_EQ(before["totals"]["findings"], 0) << before.dump();

  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data")});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(absl::StrContains((*d)->Log(), "event=tree_layout_upgrade_done")) << (*d)->Log();
  Tree tree((*d)->target());
  std::map<std::string, uint64_t> sizes;
  for (const std::string tenant : {"acme", "globex"}) {
    const std::vector<v1::Record> records = tree.Records(tenant);
    sizes[tenant] = records.size();
    EXPECT_TRUE(absl::StrContains((*d)->Log(), absl::StrCat("tree_layout_upgrade_tenant tenant=",
                                                            tenant, " leaves=", records.size())))
        << (*d)->Log();
    v1::Checkpoint cp = tree.AwaitCheckpoint(tenant, records.size());
    EXPECT_EQ(D(cp.root_hash()), chain::MerkleRoot(LeavesOf(records))) << tenant;
  }
  // The pruned traces keep their categories, now from their skeletons.
  const std::vector<v1::Record> acme = tree.Records("acme");
  size_t pruned = 0;
  for (const auto& r : acme) {
    if (!r.pruned()) continue;
    ++pruned;
    EXPECT_EQ(r.leaf_category(), "trace") << r.seq();
  }
  EXPECT_EQ(pruned, 9u);
  ASSERT_GE(acme.size(), 16u);  // a node at level 4 is stored, the rest is hashed from leaves
  CheckAllProofs(&tree, "acme", {1, 6, 15, 16, acme.size()}, dir.Sub("proofs.json"));
  std::vector<v1::Receipt> r = tree.Append({MakeEvent("acme", "after-upgrade")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq(), sizes["acme"] + 1);
  tree.AwaitCheckpoint("acme", sizes["acme"] + 1);
  ASSERT_EQ((*d)->Stop(), 0);
  ASSERT_TRUE((*d)->Restart().ok());
  const std::string log = (*d)->Log();
  EXPECT_EQ(log.find("event=tree_layout_upgrade_start"),
            log.rfind("event=tree_layout_upgrade_start"))
      << log;
  ASSERT_EQ((*d)->Stop(), 0);
  // Rows left below level 4 would be findings.
  const nlohmann::json after = check();
  EXPECT_EQ(after["totals"]["findings"], 0) << after.dump();
  EXPECT_EQ(after["totals"]["pruned"], 9) << after.dump();
}

}  // namespace
}  // namespace indelible
