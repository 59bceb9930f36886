// Format v2 proofs against the real daemon: a service verifying its own
// receipt (library and CLI), the trusted state, offline verification of kept
// checkpoints, `indelible-verify check --remote` fresh and resumed, and every
// proof the CLI prints checked by an independent RFC 9162 verifier in Python
// (tests/e2e/rfc9162_check.py).
#include <chrono>
#include <fstream>
#include <thread>

#include "client/client.h"
#include "client/proofs.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using nlohmann::json;
using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

class ProofsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    key_ = testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem"));
  }

  testing::CommandResult Cli(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {BinPath("indelible"), "--target", daemon_->target()});
    return RunCommand(args, in);
  }
  testing::CommandResult Verify(std::vector<std::string> args) {
    args.insert(args.begin(), BinPath("indelible-verify"));
    return RunCommand(args);
  }

  // Appends `n` events to `tenant` with --json; returns the receipt lines.
  std::vector<std::string> Append(const std::string& tenant, int n,
                                  const std::string& category = "") {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> args = {"append", "--json", "--tenant", tenant,
                                       "--actor-id", "svc", "--action", "doc.read"};
      if (!category.empty()) {
        args.push_back("--category");
        args.push_back(category);
      }
      auto r = Cli(args);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      out.push_back(r.out);
    }
    return out;
  }

  // The newest v2 checkpoint note of at least `size` leaves, polled for with
  // a bound (the daemon signs every checkpoint_interval_ms).
  std::string WaitCheckpoint(const std::string& tenant, uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Cli({"checkpoint", "--v2", "--tenant", tenant, "--key", key_});
      if (r.exit_code == 0 && r.out.find("\n" + std::to_string(size) + "\n") != std::string::npos) {
        return r.out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no v2 checkpoint of size " << size;
    return "";
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.Sub(name), std::ios::binary) << text;
    return dir_.Sub(name);
  }

  // The independent Python verifier on `query`: true if it says ok.
  bool PythonVerifies(const json& query) {
    auto r = RunCommand({INDELIBLE_PYTHON3, std::string(INDELIBLE_SOURCE_DIR) + "/tests/e2e/rfc9162_check.py"},
                        query.dump());
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    return r.exit_code == 0;
  }

  static json ProofLines(const std::string& text) {
    json a = json::array();
    for (std::string_view l : chain::Split(text, '\n')) {
      if (!l.empty()) a.push_back(std::string(l));
    }
    return a;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string key_;
};

TEST_F(ProofsE2E, ServiceVerifiesItsOwnReceiptWithTheLibrary) {
  client::ClientOptions o;
  o.target = daemon_->target();
  auto c = client::Client::Connect(o);
  ASSERT_TRUE(c.ok());
  v1::Event e;
  e.set_tenant("acme");
  e.set_event_id("lib-1");
  e.mutable_actor()->set_id("svc");
  e.set_action("doc.read");
  e.set_category("trace");
  auto r = (*c)->Append(e);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->leaf_index(), r->seq() - 1);
  auto vk = chain::ParseNoteVerifierKey(key_);
  ASSERT_TRUE(vk.ok());
  const std::string state = dir_.Sub("lib-state");
  client::LogVerifier v(c->get(), {*vk}, {}, state);
  WaitCheckpoint("acme", r->seq());
  auto ok = v.VerifyReceipt(*r, client::StoredCategory(e));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->checkpoint.tenant, "acme");
  // One byte changed: not verified.
  v1::Receipt bad = *r;
  std::string body = bad.body_digest();
  body[0] ^= 1;
  bad.set_body_digest(body);
  EXPECT_EQ(v.VerifyReceipt(bad, "trace").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(v.VerifyReceipt(*r, "access").status().code(), absl::StatusCode::kDataLoss);
  // Without a key: fails closed.
  client::LogVerifier none(c->get(), {});
  EXPECT_EQ(none.VerifyReceipt(*r, "trace").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ProofsE2E, CliVerifiesReceiptsAndTheStateAdvances) {
  const std::string state = dir_.Sub("cli-state");
  uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    const std::vector<std::string> receipts = Append("acme", 2, round == 1 ? "trace" : "");
    const std::string receipt = receipts.back();
    auto r = Cli({"verify-receipt", "--verifier-key", key_, "--state", state, "--wait", "30s"},
                 receipt);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto st = client::TrustedState::Load(state);
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_NE(st->Find("acme"), nullptr);
    const uint64_t size = st->Find("acme")->checkpoint.size;
    EXPECT_GT(size, last);
    last = size;

    // The inclusion proof the CLI prints, checked in Python.
    json j = json::parse(receipt);
    const std::string note = WaitCheckpoint("acme", size);
    auto p = Cli({"prove", "--tenant", "acme", "--seq", std::to_string(j["seq"].get<uint64_t>()),
                  "--tree-size", std::to_string(size)});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    json q{{"kind", "inclusion"}, {"note", note}, {"seq", j["seq"]},
           {"entry_hash", j["entry_hash"]}, {"category", j["category"]},
           {"proof", ProofLines(p.out)}};
    EXPECT_TRUE(PythonVerifies(q)) << p.out;
    q["category"] = "other";
    EXPECT_FALSE(PythonVerifies(q));
  }
  // One byte changed in the receipt: exit 1.
  std::string receipt = Append("acme", 1).back();
  json j = json::parse(receipt);
  std::string h = j["entry_hash"];
  h[10] = h[10] == 'a' ? 'b' : 'a';
  j["entry_hash"] = h;
  auto r = Cli({"verify-receipt", "--verifier-key", key_, "--wait", "30s"}, j.dump());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // No trusted key: exit 3, nothing verified.
  r = Cli({"verify-receipt"}, receipt);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // append --json | verify-receipt, as the README shows.
  r = Cli({"verify-receipt", "--key", key_, "--wait", "30s", "--json"}, receipt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["verified"], true);
}

TEST_F(ProofsE2E, KeptCheckpointAndNewerOneVerifyOffline) {
  Append("acme", 3);
  const std::string old_note = WaitCheckpoint("acme", 3);
  const std::string kept = Write("kept.note", old_note);
  Append("acme", 4);
  const std::string new_note = WaitCheckpoint("acme", 7);
  const std::string newer = Write("new.note", new_note);

  auto online = Cli({"checkpoint", "--tenant", "acme", "--consistent-with", kept, "--key", key_});
  EXPECT_EQ(online.exit_code, 0) << online.err;

  auto p = Cli({"prove", "--tenant", "acme", "--old-size", "3", "--new-size", "7"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string proof = Write("consistency.proof", p.out);
  auto v = Verify({"consistency", "--old", kept, "--new", newer, "--proof", proof, "--key", key_});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_TRUE(PythonVerifies({{"kind", "consistency"}, {"old_note", old_note},
                              {"note", new_note}, {"proof", ProofLines(p.out)}}));
  // --json prints the same hashes.
  auto pj = Cli({"prove", "--tenant", "acme", "--old-size", "3", "--new-size", "7", "--json"});
  ASSERT_EQ(pj.exit_code, 0) << pj.err;
  EXPECT_EQ(json::parse(pj.out)["hashes"], ProofLines(p.out));

  // A damaged proof, or the notes swapped: not append-only, exit 1.
  std::string damaged = p.out;
  damaged[0] = damaged[0] == 'A' ? 'B' : 'A';
  v = Verify({"consistency", "--old", kept, "--new", newer, "--proof",
              Write("bad.proof", damaged), "--key", key_});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  v = Verify({"consistency", "--old", newer, "--new", kept, "--proof", proof, "--key", key_});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  v = Verify({"consistency", "--old", kept, "--new", newer, "--proof", proof});
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;

  // Inclusion of seq 2 in the kept tree of 7, offline.
  auto rec = Cli({"read", "--tenant", "acme", "--from", "2", "--limit", "1", "--json"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const std::string entry = json::parse(rec.out)["entry_hash"];
  auto ip = Cli({"prove", "--tenant", "acme", "--seq", "2", "--tree-size", "7"});
  ASSERT_EQ(ip.exit_code, 0) << ip.err;
  const std::string iproof = Write("inclusion.proof", ip.out);
  v = Verify({"inclusion", "--checkpoint", newer, "--proof", iproof, "--seq", "2",
              "--entry-hash", entry, "--category", "access", "--key", key_});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  v = Verify({"inclusion", "--checkpoint", newer, "--proof", iproof, "--seq", "3",
              "--entry-hash", entry, "--category", "access", "--key", key_});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  EXPECT_TRUE(PythonVerifies({{"kind", "inclusion"}, {"note", new_note}, {"seq", 2},
                              {"entry_hash", entry}, {"category", "access"},
                              {"proof", ProofLines(ip.out)}}));
}

TEST_F(ProofsE2E, RemoteCheckFreshAndResumedFromState) {
  Append("acme", 5);
  Append("other", 2);
  WaitCheckpoint("acme", 5);
  const std::string state = dir_.Sub("audit-state");
  auto v = Verify({"check", "--remote", daemon_->target(), "--tenant", "acme", "--key", key_,
                   "--state", state, "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  json j = json::parse(v.out);
  EXPECT_EQ(j["records_from"], 1);
  EXPECT_EQ(j["records_to"], 5);
  auto st = client::TrustedState::Load(state);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->Find("acme")->checkpoint.size, 5u);
  EXPECT_FALSE(st->Find("acme")->frontier.empty());

  Append("acme", 4, "trace");
  WaitCheckpoint("acme", 9);
  v = Verify({"check", "--remote", daemon_->target(), "--tenant", "acme", "--key", key_,
              "--state", state, "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  j = json::parse(v.out);
  EXPECT_EQ(j["records_from"], 6);  // only the records after the state
  EXPECT_EQ(j["records_to"], 9);
  EXPECT_EQ(client::TrustedState::Load(state)->Find("acme")->checkpoint.size, 9u);

  // A bad key is a usage error (2); no key, not verified (3).
  ASSERT_EQ(Verify({"check", "--remote", daemon_->target(), "--tenant", "acme", "--key", "x"})
                .exit_code,
            2);
  v = Verify({"check", "--remote", daemon_->target(), "--tenant", "acme"});
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  // A kept checkpoint of another tenant's log is no checkpoint of this one.
  const std::string other_note = Write("other.note", WaitCheckpoint("other", 2));
  v = Verify({"check", "--remote", daemon_->target(), "--tenant", "acme", "--key", key_,
              "--checkpoint", other_note});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
}

}  // namespace
}  // namespace indelible
