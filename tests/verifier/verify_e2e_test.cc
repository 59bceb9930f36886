// End-to-end damage tests of `indelible-verify check`: the real daemon writes
// two tenants' chains, an attacker edits COPIES of its data directory with
// RocksDB directly, and the real verifier binary must name the tenant, the
// first bad seq and the kind of each damage.
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "tests/verifier/test_chain.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using nlohmann::json;
using testing::BinPath;
using testing::CommandResult;
using testing::DaemonProcess;
using testing::RawStore;
using testing::RunCommand;
using testing::TempDir;
using testing::TestRecord;

constexpr int kRecords = 20;

v1::Event MakeEvent(const std::string& tenant, int i) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(tenant + "-" + std::to_string(i));
  e.set_occurred_at_ns(1700000000000000000ull + i);
  e.mutable_actor()->set_id("alice@example.com");
  e.mutable_actor()->set_type("user");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("cus_" + std::to_string(i));
  e.set_reason("support ticket");
  e.set_outcome("allowed");
  e.set_source("crm");
  return e;
}

// A channel of its own, not shared through gRPC's global subchannel pool:
// dropping the stub closes the connection, so the daemon's graceful shutdown
// has no idle client to wait for.
std::unique_ptr<v1::AuditLog::Stub> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::AuditLog::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A daemon configured with the test signing key (docs/FORMAT.md 8.6) and an
// hour between checkpoint rounds, so its checkpoints are deterministic: one
// per tenant, at the head, signed when asked for below or at shutdown.
absl::StatusOr<std::unique_ptr<DaemonProcess>> StartDaemon(
    const TempDir& tmp, const std::string& name, int interval_ms) {
  const std::string key = tmp.Sub(name + "-key.pem");
  WriteFile(key, testing::TestSigner().private_key().PrivateKeyPem());
  chmod(key.c_str(), 0600);
  const std::string config = tmp.Sub(name + ".yaml");
  WriteFile(config, "signing_key_file: " + key +
                        "\nkey_name: indelible-test\ncheckpoint_interval_ms: " +
                        std::to_string(interval_ms) + "\n");
  return DaemonProcess::Start(
      {.data_dir = tmp.Sub(name), .extra_args = {"--config", config}});
}

struct Verify {
  CommandResult run;
  json out;

  const json& FirstFinding() const { return out["findings"].at(0); }
};

class VerifyE2E : public ::testing::Test {
 protected:
  // One daemon run for the whole suite: 20 records in each of two tenants.
  static void SetUpTestSuite() {
    tmp_ = new TempDir;
    auto daemon = StartDaemon(*tmp_, "pristine", 50);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    auto stub = Connect((*daemon)->target());
    // One batch per tenant: the chain goes from 0 to 20 at once, so the
    // only checkpoint the daemon can sign is the head.
    for (const char* tenant : {"acme", "globex"}) {
      v1::AppendBatchRequest req;
      for (int i = 1; i <= kRecords; ++i) {
        *req.add_events() = MakeEvent(tenant, i);
      }
      v1::AppendBatchResponse resp;
      grpc::ClientContext ctx;
      grpc::Status s = stub->AppendBatch(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(resp.receipts_size(), kRecords);
      for (const auto& r : resp.receipts()) {
        hashes_[{tenant, r.seq()}] = r.entry_hash();
      }
    }
    // The auditor saves acme's checkpoint (waiting, bounded, for the
    // checkpointer's round) and the daemon's public key.
    v1::Checkpoint cp;
    for (int i = 0; i < 200 && cp.seq() != kRecords; ++i) {
      grpc::ClientContext ctx;
      v1::GetCheckpointRequest req;
      req.set_tenant("acme");
      req.set_min_seq(kRecords);
      if (!stub->GetCheckpoint(&ctx, req, &cp).ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    ASSERT_EQ(cp.seq(), static_cast<uint64_t>(kRecords));
    auditor_checkpoint_ = tmp_->Sub("acme-20.checkpoint");
    WriteFile(auditor_checkpoint_, cp.note());
    v1::GetPublicKeyResponse key;
    {
      grpc::ClientContext ctx;  // released before shutdown, like the call
      ASSERT_TRUE(stub->GetPublicKey(&ctx, {}, &key).ok());
    }
    verifier_key_ = key.verifier_key();
    ASSERT_EQ(verifier_key_, chain::NoteVerifierKeyString(
                                 testing::TestSigner().verifier_key()));
    public_key_pem_ = tmp_->Sub("daemon.pub.pem");
    WriteFile(public_key_pem_, key.public_key_pem());
    stub.reset();
    ASSERT_EQ((*daemon)->Stop(), 0) << (*daemon)->Log();
    pristine_ = tmp_->Sub("pristine");
  }

  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  // A copy of the pristine data directory, damaged by `attack` (which edits
  // it read-write with RocksDB, as an attacker with file access would).
  std::string Damaged(const std::function<void(RawStore&)>& attack) {
    const std::string dir =
        tmp_->Sub(::testing::UnitTest::GetInstance()->current_test_info()->name());
    testing::CopyTree(pristine_, dir);
    RawStore store(dir);
    attack(store);
    return dir;
  }

  static Verify Check(const std::string& dir,
                      std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "check",
                                     "--data-dir", dir, "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Verify v;
    v.run = RunCommand(argv);
    if (!v.run.out.empty()) {
      v.out = json::parse(v.run.out, nullptr, /*allow_exceptions=*/false);
    }
    return v;
  }

  static std::vector<std::string> KeyArgs() { return {"--key", verifier_key_}; }

  // Asserts exit code 1 and the first finding.
  static void ExpectFirstFinding(const Verify& v, const std::string& tenant,
                                 uint64_t seq, const std::string& kind) {
    ASSERT_EQ(v.run.exit_code, 1) << v.run.out << v.run.err;
    ASSERT_FALSE(v.out.is_discarded()) << v.run.out;
    ASSERT_FALSE(v.out["verified"].get<bool>());
    const json& f = v.FirstFinding();
    EXPECT_EQ(f["tenant"], tenant) << v.out["findings"].dump(2);
    EXPECT_EQ(f["seq"], seq) << v.out["findings"].dump(2);
    EXPECT_EQ(f["kind"], kind) << v.out["findings"].dump(2);
  }

  static chain::Digest Hash(const std::string& tenant, uint64_t seq) {
    chain::Digest d;
    EXPECT_TRUE(chain::DigestFromBytes(hashes_[{tenant, seq}], &d));
    return d;
  }

  static TempDir* tmp_;
  static std::string pristine_;
  static std::string auditor_checkpoint_;
  static std::string verifier_key_;
  static std::string public_key_pem_;
  static std::map<std::pair<std::string, uint64_t>, std::string> hashes_;
};

TempDir* VerifyE2E::tmp_ = nullptr;
std::string VerifyE2E::pristine_;
std::string VerifyE2E::auditor_checkpoint_;
std::string VerifyE2E::verifier_key_;
std::string VerifyE2E::public_key_pem_;
std::map<std::pair<std::string, uint64_t>, std::string> VerifyE2E::hashes_;

TEST_F(VerifyE2E, CleanDataVerifies) {
  std::vector<std::string> args = KeyArgs();
  args.insert(args.end(), {"--checkpoint", auditor_checkpoint_});
  Verify v = Check(pristine_, args);
  ASSERT_EQ(v.run.exit_code, 0) << v.run.out << v.run.err;
  EXPECT_TRUE(v.out["verified"].get<bool>());
  EXPECT_EQ(v.out["key_source"], "given");
  EXPECT_TRUE(v.out["signatures_checked"].get<bool>());
  EXPECT_EQ(v.out["totals"]["records"], 2 * kRecords);
  EXPECT_EQ(v.out["totals"]["findings"], 0);
  ASSERT_EQ(v.out["tenants"].size(), 2u);
  const json& acme = v.out["tenants"][0];
  EXPECT_EQ(acme["tenant"], "acme");
  EXPECT_EQ(acme["records"], kRecords);
  EXPECT_EQ(acme["pruned"], 0);
  EXPECT_EQ(acme["head_seq"], kRecords);
  EXPECT_EQ(acme["head_hash"], chain::ToHex(Hash("acme", kRecords)));
  EXPECT_EQ(acme["checkpoints"]["stored"], 1);
  EXPECT_EQ(acme["checkpoints"]["signatures_verified"], 1);
  EXPECT_EQ(acme["checkpoints"]["supplied"], 1);
  EXPECT_EQ(acme["checkpoints"]["confirmed"], 2);
  EXPECT_EQ(v.out["tenants"][1]["head_hash"],
            chain::ToHex(Hash("globex", kRecords)));
}

TEST_F(VerifyE2E, CleanDataVerifiesWithAPemKeyOrTheStoresOwnKeys) {
  Verify pem = Check(pristine_, {"--key-pem", public_key_pem_});
  ASSERT_EQ(pem.run.exit_code, 0) << pem.run.out << pem.run.err;
  EXPECT_EQ(pem.out["tenants"][0]["checkpoints"]["signatures_verified"], 1);

  Verify store = Check(pristine_);
  ASSERT_EQ(store.run.exit_code, 0) << store.run.out << store.run.err;
  EXPECT_EQ(store.out["key_source"], "store");
  EXPECT_EQ(store.out["trusted_keys"][0], verifier_key_);

  CommandResult human =
      RunCommand({BinPath("indelible-verify"), "check", "--data-dir", pristine_});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("VERIFIED"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("not independent"), std::string::npos) << human.out;
}

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

TEST_F(VerifyE2E, SkeletonModified) {
  auto dir = Damaged([](RawStore& s) {
    TestRecord r = s.ReadRecord("acme", 9);
    r.skeleton.received_at_ns += 1;
    s.WriteRecord("acme", r);
  });
  Verify v = Check(dir, KeyArgs());
  ExpectFirstFinding(v, "acme", 9, "entry_hash_mismatch");
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
    fake.body = store::EncodeBody(salt, testing::TestEvent("acme", 999));
    std::vector<TestRecord> chain = {seven, fake};
    testing::Rehash("acme", &chain, 1);
    s.WriteRecord("acme", chain[1]);
    const TestRecord& last = moved.back();
    s.WriteHead("acme", store::Head{kRecords + 1, last.skeleton.received_at_ns,
                                    last.skeleton.entry_hash});
  });
  ExpectFirstFinding(Check(dir, KeyArgs()), "acme", 9, "entry_hash_mismatch");
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

TEST_F(VerifyE2E, TailTruncatedBelowTheAuditorsCheckpoint) {
  // A careful attacker also moves the head row back and deletes the stored
  // checkpoint: only a checkpoint saved outside the store reveals it.
  auto dir = Damaged([](RawStore& s) {
    for (uint64_t seq = 18; seq <= kRecords; ++seq) s.DeleteRecord("acme", seq);
    TestRecord r = s.ReadRecord("acme", 17);
    s.WriteHead("acme", store::Head{17, r.skeleton.received_at_ns,
                                    r.skeleton.entry_hash});
    s.Delete(store::kCheckpointsCf, store::SeqKey("acme", kRecords));
  });
  Verify blind = Check(dir, KeyArgs());
  EXPECT_EQ(blind.run.exit_code, 0) << blind.run.out;  // undetectable alone

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

TEST_F(VerifyE2E, ChecksWhileTheDaemonRuns) {
  auto daemon = StartDaemon(*tmp_, "live", 20);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  auto stub = Connect((*daemon)->target());
  auto append = [&stub](const std::string& tenant, int i) {
    v1::AppendRequest req;
    *req.mutable_event() = MakeEvent(tenant, i);
    v1::AppendResponse resp;
    grpc::ClientContext ctx;
    return stub->Append(&ctx, req, &resp);
  };
  for (int i = 1; i <= kRecords; ++i) {
    ASSERT_TRUE(append(i % 2 ? "acme" : "globex", i).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> appended{kRecords}, failed{0};
  std::thread writer([&] {
    for (int i = kRecords + 1; !stop; ++i) {
      if (append(i % 2 ? "acme" : "globex", i).ok()) {
        ++appended;
      } else {
        ++failed;
      }
    }
  });
  const std::string live = tmp_->Sub("live");
  for (int round = 0; round < 3; ++round) {
    Verify v = Check(live, KeyArgs());
    EXPECT_EQ(v.run.exit_code, 0) << v.run.out << v.run.err;
    EXPECT_GE(v.out["totals"]["records"].get<int>(), kRecords);
  }
  stop = true;
  writer.join();
  EXPECT_EQ(failed, 0);
  // The daemon is undisturbed: it still appends, and stops cleanly.
  ASSERT_TRUE(append("acme", 100000).ok());
  ++appended;
  stub.reset();
  ASSERT_EQ((*daemon)->Stop(), 0) << (*daemon)->Log();
  Verify after = Check(live, KeyArgs());
  ASSERT_EQ(after.run.exit_code, 0) << after.run.out << after.run.err;
  EXPECT_EQ(after.out["totals"]["records"], appended.load());
}

TEST_F(VerifyE2E, BadUsageExitsTwo) {
  const std::string bin = BinPath("indelible-verify");
  const std::string not_a_store = tmp_->Sub("empty");
  std::filesystem::create_directory(not_a_store);
  const std::string foreign = tmp_->Sub("foreign.checkpoint");
  WriteFile(foreign, testing::SignedCheckpoint(testing::OtherSigner(), "acme",
                                               kRecords, Hash("acme", kRecords),
                                               1));
  const std::vector<std::vector<std::string>> cases = {
      {bin},
      {bin, "frobnicate"},
      {bin, "check"},
      {bin, "check", "--data-dir", pristine_, "--no-such-flag"},
      {bin, "check", "--data-dir", tmp_->Sub("missing")},
      {bin, "check", "--data-dir", not_a_store},
      {bin, "check", "--data-dir", pristine_, "--key", "not-a-key"},
      {bin, "check", "--data-dir", pristine_, "--key-pem", foreign},
      {bin, "check", "--data-dir", pristine_, "--key", verifier_key_,
       "--checkpoint", foreign},
      {bin, "check", "--data-dir", pristine_, "--tenant", "Not Valid"},
      {bin, "check", "--data-dir", pristine_, "--tenant", "initech"},
      {bin, "check", "--data-dir", pristine_, "--tenant", "globex",
       "--checkpoint", auditor_checkpoint_},
  };
  for (const auto& argv : cases) {
    CommandResult r = RunCommand(argv);
    std::string line;
    for (const auto& a : argv) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.out << r.err;
    EXPECT_FALSE(r.err.empty()) << line;
  }
  EXPECT_EQ(RunCommand({bin, "--help"}).exit_code, 0);
}

}  // namespace
}  // namespace indelible
