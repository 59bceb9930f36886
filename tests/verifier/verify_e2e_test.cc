// End-to-end tests of `indelible-verify check` on intact data: what the real
// daemon wrote verifies (with given keys, a PEM key, or the store's own key
// history), a check next to a running daemon neither fails nor disturbs it,
// and bad usage exits 2.
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/verifier/test_chain.h"
#include "tests/verifier/verify_e2e_fixture.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

using nlohmann::json;
using testing::BinPath;
using testing::CommandResult;
using testing::RawStore;
using testing::RunCommand;

TEST_F(VerifyE2E, CleanDataVerifies) {
  std::vector<std::string> args = KeyArgs();
  args.insert(args.end(), {"--checkpoint", auditor_checkpoint_});
  Verify v = Check(pristine_, args);
  ASSERT_EQ(v.run.exit_code, 0) << v.run.out << v.run.err;
  EXPECT_TRUE(v.out["verified"].get<bool>());
  EXPECT_EQ(v.out["verdict"], "verified");
  EXPECT_EQ(v.out["trusted_signatures"], 3);  // 2 stored, 1 supplied
  EXPECT_EQ(v.out["unsigned_tenants"], json::array());
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
  // Nanoseconds are strings (a JSON number loses digits in jq).
  ASSERT_TRUE(acme["head_received_at_ns"].is_string()) << acme.dump();
  EXPECT_GT(std::stoull(acme["head_received_at_ns"].get<std::string>()), 0u);
  EXPECT_EQ(acme["checkpoints"]["stored"], 1);
  EXPECT_EQ(acme["checkpoints"]["signatures_verified"], 1);
  EXPECT_EQ(acme["checkpoints"]["supplied"], 1);
  EXPECT_EQ(acme["checkpoints"]["confirmed"], 2);
  EXPECT_EQ(v.out["tenants"][1]["head_hash"],
            chain::ToHex(Hash("globex", kRecords)));
}

TEST_F(VerifyE2E, CleanDataVerifiesWithAPemKey) {
  Verify pem = Check(pristine_, {"--key-pem", public_key_pem_});
  ASSERT_EQ(pem.run.exit_code, 0) << pem.run.out << pem.run.err;
  EXPECT_EQ(pem.out["tenants"][0]["checkpoints"]["signatures_verified"], 1);
}

// Fail closed: the store's own key history is not independent evidence, so
// without --key/--key-pem clean data is checked but not "verified" (exit 3).
TEST_F(VerifyE2E, WithoutATrustedKeyCleanDataIsNotVerified) {
  Verify store = Check(pristine_);
  ASSERT_EQ(store.run.exit_code, 3) << store.run.out << store.run.err;
  EXPECT_FALSE(store.out["verified"].get<bool>());
  EXPECT_EQ(store.out["verdict"], "no_trusted_key");
  EXPECT_EQ(store.out["key_source"], "store");
  EXPECT_EQ(store.out["trusted_keys"][0], verifier_key_);
  EXPECT_EQ(store.out["trusted_signatures"], 0);
  EXPECT_EQ(store.out["totals"]["findings"], 0);

  CommandResult human =
      RunCommand({BinPath("indelible-verify"), "check", "--data-dir", pristine_});
  EXPECT_EQ(human.exit_code, 3) << human.err;
  EXPECT_NE(human.out.find("NOT VERIFIED: no trusted key was given"), std::string::npos)
      << human.out;
  EXPECT_EQ(human.out.find("\nVERIFIED"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("not independent"), std::string::npos) << human.out;
}

// A given key that verified no checkpoint signature proves nothing either:
// here every stored checkpoint is gone.
TEST_F(VerifyE2E, NoSignatureVerifiedByTheGivenKeyIsNotVerified) {
  auto dir = Damaged([](RawStore& s) {
    for (const char* tenant : {"acme", "globex"}) {
      s.Delete(store::kCheckpointsCf, store::SeqKey(tenant, kRecords));
    }
  });
  Verify v = Check(dir, KeyArgs());
  ASSERT_EQ(v.run.exit_code, 3) << v.run.out << v.run.err;
  EXPECT_FALSE(v.out["verified"].get<bool>());
  EXPECT_EQ(v.out["verdict"], "no_trusted_key");
  EXPECT_EQ(v.out["key_source"], "given");
  EXPECT_EQ(v.out["trusted_signatures"], 0);
  EXPECT_EQ(v.out["unsigned_tenants"], json::array({"acme", "globex"}));

  CommandResult human = RunCommand(
      {BinPath("indelible-verify"), "check", "--data-dir", dir, "--key", verifier_key_});
  EXPECT_EQ(human.exit_code, 3) << human.err;
  EXPECT_NE(human.out.find("NOT VERIFIED: no checkpoint signature was verified"),
            std::string::npos)
      << human.out;

  // A checkpoint the auditor saved, signed by the trusted key, pins acme;
  // globex, which nothing pins, is named.
  std::vector<std::string> args = KeyArgs();
  args.insert(args.end(), {"--checkpoint", auditor_checkpoint_});
  Verify one = Check(dir, args);
  ASSERT_EQ(one.run.exit_code, 0) << one.run.out << one.run.err;
  EXPECT_EQ(one.out["trusted_signatures"], 1);
  EXPECT_EQ(one.out["unsigned_tenants"], json::array({"globex"}));
  human = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir, "--key",
                      verifier_key_, "--checkpoint", auditor_checkpoint_});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("note: no checkpoint signature by a trusted key covers globex"),
            std::string::npos)
      << human.out;
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

TEST_F(VerifyE2E, VersionPrintsTheVersion) {
  CommandResult r = RunCommand({BinPath("indelible-verify"), "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "indelible-verify 0.1.0\n");
}

}  // namespace
}  // namespace indelible
