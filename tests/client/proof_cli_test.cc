// `indelible verify-receipt`, `prove` and `checkpoint --v2 /
// --consistent-with`, in-process against the fake server.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/cli/cli.h"
#include "client/cli/exit_codes.h"
#include "client/proofs.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"

namespace indelible::cli {
namespace {

using nlohmann::json;
using testing::FakeAuditLog;
using testing::FakeServer;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Cli(std::vector<std::string> args, const std::string& input = "") {
  std::vector<const char*> argv = {"indelible"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

std::string Key() {
  return chain::NoteVerifierKeyString(FakeAuditLog::TestSigner().verifier_key());
}

std::string Append(const FakeServer& s, const std::string& id,
                   const std::string& category = "") {
  std::vector<std::string> args = {"--target", s.target(), "append", "--json",
                                   "--tenant", "acme", "--event-id", id,
                                   "--actor-id", "alice", "--action", "x.read"};
  if (!category.empty()) {
    args.push_back("--category");
    args.push_back(category);
  }
  Result r = Cli(args);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  return r.out;
}

std::string TempPath(const std::string& name) {
  std::string p = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::filesystem::remove(p);
  return p;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(VerifyReceiptCli, AppendJsonCarriesWhatVerificationNeeds) {
  FakeServer s;
  json j = json::parse(Append(s, "e1", "trace"));
  EXPECT_EQ(j["category"], "trace");
  EXPECT_EQ(j["leaf_index"], 0);
  EXPECT_EQ(j["body_digest"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["prev_entry_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(json::parse(Append(s, "e2"))["category"], "access");
}

TEST(VerifyReceiptCli, VerifiesAndRejectsOneChangedByte) {
  FakeServer s;
  const std::string receipt = Append(s, "e1", "trace");
  Append(s, "e2");
  Result ok = Cli({"--target", s.target(), "verify-receipt", "--verifier-key", Key()},
                  receipt);
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  EXPECT_NE(ok.out.find("verified: tenant acme seq 1"), std::string::npos) << ok.out;

  json j = json::parse(receipt);
  for (const char* field : {"entry_hash", "body_digest", "prev_entry_hash"}) {
    json bad = j;
    std::string h = bad[field];
    h[0] = h[0] == '0' ? '1' : '0';
    bad[field] = h;
    Result r = Cli({"--target", s.target(), "verify-receipt", "--key", Key()},
                   bad.dump() + "\n");
    EXPECT_EQ(r.code, kExitNotVerified) << field << r.err;
  }
  json other = j;
  other["category"] = "access";
  EXPECT_EQ(Cli({"--target", s.target(), "verify-receipt", "--key", Key()},
                other.dump()).code,
            kExitNotVerified);

  // From a file, as JSON.
  const std::string file = TempPath("receipt.json");
  WriteFile(file, receipt);
  Result f = Cli({"--target", s.target(), "verify-receipt", file, "--key", Key(), "--json"});
  ASSERT_EQ(f.code, kExitOk) << f.err;
  json out = json::parse(f.out);
  EXPECT_EQ(out["verified"], true);
  EXPECT_GE(out["checkpoint"]["tree_size"].get<uint64_t>(), 1u);
}

TEST(VerifyReceiptCli, NoTrustedKeyIsNotVerified) {
  FakeServer s;
  const std::string receipt = Append(s, "e1");
  Result r = Cli({"--target", s.target(), "verify-receipt"}, receipt);
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_NE(r.err.find("no trusted log verifier key"), std::string::npos) << r.err;
  EXPECT_EQ(Cli({"--target", s.target(), "verify-receipt", "--key", "nonsense"}, receipt).code,
            kExitUsage);
  EXPECT_EQ(Cli({"--target", s.target(), "verify-receipt", "--key", Key()}, "{}\n").code,
            kExitUsage);
}

// The fake signs with TestSigner; the auditor trusts A and is given the
// statement by which A hands over to it.
TEST(VerifyReceiptCli, FollowsRotationStatementsFromTheTrustedKey) {
  FakeServer s;
  const std::string receipt = Append(s, "e1");
  auto signer = [](char seed) {
    return chain::NoteSigner("old-log", *chain::Ed25519PrivateKey::FromSeed(std::string(32, seed)));
  };
  const chain::NoteSigner a = signer('\x0a');
  const chain::NoteSigner c = signer('\x0c');
  auto statement = [](const chain::NoteSigner& from, const std::string& path) {
    chain::KeyRotation r{FakeAuditLog::kFakeLogName, from.verifier_key(),
                         FakeAuditLog::TestSigner().verifier_key(), 1700000000000000000};
    auto note = chain::SignKeyRotation(r, from, FakeAuditLog::TestSigner());
    ASSERT_TRUE(note.ok()) << note.status();
    WriteFile(path, *note);
  };
  const std::string a_to_t = TempPath("a-to-t.txt");
  const std::string c_to_t = TempPath("c-to-t.txt");
  statement(a, a_to_t);
  statement(c, c_to_t);
  const std::string key_a = chain::NoteVerifierKeyString(a.verifier_key());
  const std::vector<std::string> base = {"--target", s.target(), "verify-receipt", "--key",
                                         key_a};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args, receipt);
  };
  Result without = run({});
  EXPECT_EQ(without.code, kExitRejected) << without.err;
  EXPECT_NE(without.err.find("signed by no trusted key"), std::string::npos) << without.err;
  Result with = run({"--rotation", a_to_t});
  EXPECT_EQ(with.code, kExitOk) << with.err;
  Result untrusted = run({"--rotation", c_to_t});
  EXPECT_EQ(untrusted.code, kExitUsage) << untrusted.err;
  EXPECT_NE(untrusted.err.find("a key not trusted here"), std::string::npos) << untrusted.err;
  EXPECT_EQ(run({"--rotation", TempPath("missing.txt")}).code, kExitUsage);
  // The state keeps the learned key with its statement: a resumed run from
  // A needs no --rotation.
  const std::string state = TempPath("rotation-state");
  ASSERT_EQ(run({"--rotation", a_to_t, "--state", state}).code, kExitOk);
  Result resumed = run({"--state", state});
  EXPECT_EQ(resumed.code, kExitOk) << resumed.err;
  auto st = client::TrustedState::Load(state);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->learned_keys().size(), 1u);
}

TEST(VerifyReceiptCli, StateAdvancesAndAnInconsistentServerFails) {
  FakeServer s;
  const std::string state = TempPath("cli-state");
  for (int i = 0; i < 3; ++i) {
    const std::string receipt = Append(s, "e" + std::to_string(i));
    Result r = Cli({"--target", s.target(), "verify-receipt", "--key", Key(),
                    "--state", state},
                   receipt);
    ASSERT_EQ(r.code, kExitOk) << r.err;
    auto st = client::TrustedState::Load(state);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->Find("acme")->checkpoint.size, static_cast<uint64_t>(i + 1));
  }
  const std::string receipt = Append(s, "late");
  s.service().RewriteLeaf("acme", 0);
  Result r = Cli({"--target", s.target(), "verify-receipt", "--key", Key(), "--state", state},
                 receipt);
  EXPECT_EQ(r.code, kExitNotVerified);
  EXPECT_NE(r.err.find("inconsistent with trusted state at size 3"), std::string::npos)
      << r.err;
  EXPECT_EQ(client::TrustedState::Load(state)->Find("acme")->checkpoint.size, 3u);
}

TEST(ProveCli, PrintsProofsThatVerify) {
  FakeServer s;
  for (int i = 0; i < 7; ++i) Append(s, "e" + std::to_string(i));
  Result cp = Cli({"--target", s.target(), "checkpoint", "--v2", "--tenant", "acme",
                   "--key", Key()});
  ASSERT_EQ(cp.code, kExitOk) << cp.err;
  auto c = chain::VerifyCheckpointV2(cp.out, {FakeAuditLog::TestSigner().verifier_key()});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size, 7u);

  Result inc = Cli({"--target", s.target(), "prove", "--tenant", "acme", "--seq", "3"});
  ASSERT_EQ(inc.code, kExitOk) << inc.err;
  auto proof = client::ParseProofFile(inc.out);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_EQ(proof->size(), 3u);
  Result js = Cli({"--target", s.target(), "prove", "--tenant", "acme", "--old-size", "3",
                   "--new-size", "7", "--json"});
  ASSERT_EQ(js.code, kExitOk) << js.err;
  json j = json::parse(js.out);
  EXPECT_EQ(j["type"], "consistency");
  EXPECT_EQ(j["new_size"], 7);
  EXPECT_EQ(Cli({"--target", s.target(), "prove", "--tenant", "acme"}).code, kExitUsage);
  EXPECT_EQ(Cli({"--target", s.target(), "prove", "--tenant", "acme", "--seq", "9"}).code,
            kExitRejected);
}

TEST(CheckpointCli, ConsistentWithAKeptCheckpoint) {
  FakeServer s;
  for (int i = 0; i < 3; ++i) Append(s, "e" + std::to_string(i));
  const std::string kept = TempPath("kept-note");
  Result old = Cli({"--target", s.target(), "checkpoint", "--v2", "--tenant", "acme"});
  ASSERT_EQ(old.code, kExitOk) << old.err;
  WriteFile(kept, old.out);
  for (int i = 3; i < 6; ++i) Append(s, "e" + std::to_string(i));
  std::vector<std::string> args = {"--target", s.target(), "checkpoint", "--tenant", "acme",
                                   "--consistent-with", kept};
  Result no_key = Cli(args);
  EXPECT_EQ(no_key.code, kExitRejected) << no_key.err;
  args.push_back("--key");
  args.push_back(Key());
  Result ok = Cli(args);
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  EXPECT_NE(ok.out.find("\n6\n"), std::string::npos) << ok.out;
  s.service().RewriteLeaf("acme", 1);
  Result bad = Cli(args);
  EXPECT_EQ(bad.code, kExitNotVerified) << bad.err;
  EXPECT_NE(bad.err.find("inconsistent with trusted state at size 3"), std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace indelible::cli
