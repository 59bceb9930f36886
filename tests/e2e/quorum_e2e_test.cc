// End-to-end: witness quorum in the verifiers, with the real indelibled and
// a real indelible-witness on loopback. The daemon's served v2 checkpoints
// are submitted to the witness (tlog-witness `POST /add-checkpoint`, with a
// consistency proof from the size it cosigned), and the cosigned notes are
// checked by `indelible-verify inclusion|consistency`, by `check --data-dir`
// once written into the stopped daemon's checkpoint rows; `verify-receipt`
// and `check --remote` against a daemon without witnesses are below quorum.
// Then a daemon configured with the witness (`witnesses:`) stores and serves
// cosigned notes itself, and every verifier meets the policy on them.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "tests/witness/witness_process.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

extern char** environ;

namespace indelible {
namespace {

using testing::BinPath;
using testing::CommandResult;
using testing::DaemonProcess;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// indelible-witness --config F --port-file P, killed on destruction.
class Witness {
 public:
  ~Witness() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  ::testing::AssertionResult Start(const TempDir& dir, const std::string& log_key) {
    const std::string key = dir.Sub("witness-key.pem");
    CommandResult k = RunCommand(
        {BinPath("indelible-witness"), "keygen", "--name", "witness.test/w1", "--out", key});
    if (k.exit_code != 0) return ::testing::AssertionFailure() << "keygen: " << k.err;
    vkey_ = std::string(chain::Split(k.out, '\n')[0]);
    const std::string config = dir.Sub("witness.yaml");
    Write(config, "name: witness.test/w1\nkey_file: " + key + "\nstate_dir: " +
                      dir.Sub("witness-state") +
                      "\nlisten: 127.0.0.1:0\nlogs:\n  - origin_prefix: indelible.local/\n"
                      "    keys: [" + log_key + "]\n");
    const std::string port_file = dir.Sub("witness.port"), log = dir.Sub("witness.log");
    std::vector<std::string> argv = {BinPath("indelible-witness"), "--config", config,
                                     "--port-file", port_file};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int rc = posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return ::testing::AssertionFailure() << "cannot spawn the witness";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string p = ReadFile(port_file);
      if (!p.empty() && p.back() == '\n') {
        port_ = std::stoi(p);
        return ::testing::AssertionSuccess();
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return ::testing::AssertionFailure() << "witness exited: " << ReadFile(log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return ::testing::AssertionFailure() << "witness did not start: " << ReadFile(log);
  }

  // Submits `note` with the consistency proof from `old_size` (proof file
  // text); returns the cosigned note, or "" (with a failure) if refused.
  std::string Cosign(const std::string& note, uint64_t old_size, const std::string& proof) {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_read_timeout(20);
    auto res = cli.Post("/add-checkpoint",
                        "old " + std::to_string(old_size) + "\n" + proof + "\n" + note,
                        "text/plain");
    if (!res || res->status != 200) {
      ADD_FAILURE() << "witness answered " << (res ? res->status : 0) << ": "
                    << (res ? res->body : "");
      return "";
    }
    return note + res->body;
  }
  const std::string& vkey() const { return vkey_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string vkey_;
};

class QuorumE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    key_ = testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem"));
    ASSERT_TRUE(witness_.Start(dir_, key_));
  }

  CommandResult Cli(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {BinPath("indelible"), "--target", daemon_->target()});
    return RunCommand(args, in);
  }
  CommandResult Verify(std::vector<std::string> args, std::vector<std::string> policy) {
    args.insert(args.begin(), BinPath("indelible-verify"));
    args.insert(args.end(), policy.begin(), policy.end());
    return RunCommand(args);
  }
  std::vector<std::string> Append(int n) {
    std::vector<std::string> receipts;
    for (int i = 0; i < n; ++i) {
      auto r = Cli({"append", "--json", "--tenant", "acme", "--actor-id", "svc", "--action",
                    "doc.read"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      receipts.push_back(r.out);
    }
    return receipts;
  }
  // The daemon's v2 checkpoint note of `size` leaves, polled for (bounded).
  std::string WaitCheckpoint(uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Cli({"checkpoint", "--v2", "--tenant", "acme", "--key", key_});
      if (r.exit_code == 0 && r.out.find("\n" + std::to_string(size) + "\n") != std::string::npos) {
        return r.out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no v2 checkpoint of size " << size;
    return "";
  }
  std::vector<std::string> Policy(const std::string& quorum) {
    std::vector<std::string> p = {"--key", key_, "--witness", witness_.vkey(), "--witness",
                                  chain::CosignerKeyString(absent_.key()), "--quorum", quorum};
    // 1 of 2 is no majority: refused unless explicitly allowed.
    if (quorum == "1") p.push_back("--allow-minority-quorum");
    return p;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string key_;
  Witness witness_;
  // A witness the policy lists that never cosigns anything.
  chain::Cosigner absent_{"witness.test/absent", *chain::Ed25519PrivateKey::Generate()};
};

TEST_F(QuorumE2E, WitnessCosignedCheckpointsMeetThePolicy) {
  const std::vector<std::string> receipts = Append(3);
  const std::string note3 = WaitCheckpoint(3);
  const std::string cosigned3 = witness_.Cosign(note3, 0, "");
  ASSERT_FALSE(cosigned3.empty());
  Write(dir_.Sub("cp3.note"), cosigned3);
  Write(dir_.Sub("cp3-bare.note"), note3);

  // Inclusion of seq 2 in the cosigned checkpoint: quorum 1 of the two
  // listed witnesses is met, 2 is not, and the daemon's note alone is below.
  auto p = Cli({"prove", "--tenant", "acme", "--seq", "2", "--tree-size", "3"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  Write(dir_.Sub("incl.proof"), p.out);
  const nlohmann::json r2 = nlohmann::json::parse(receipts[1]);
  const std::vector<std::string> incl = {
      "inclusion", "--checkpoint", dir_.Sub("cp3.note"), "--proof", dir_.Sub("incl.proof"),
      "--seq", "2", "--entry-hash", r2["entry_hash"], "--category", "access"};
  auto v = Verify(incl, Policy("1"));
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  v = Verify(incl, Policy("2"));
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  EXPECT_NE(v.out.find("missing: witness.test/absent"), std::string::npos) << v.out;
  std::vector<std::string> bare = incl;
  bare[2] = dir_.Sub("cp3-bare.note");
  EXPECT_EQ(Verify(bare, Policy("1")).exit_code, 3);

  // The log grows; the witness cosigns the extension, given the proof from
  // the size it cosigned; the cosigned notes are consistent under quorum.
  Append(2);
  const std::string note5 = WaitCheckpoint(5);
  auto cp = Cli({"prove", "--tenant", "acme", "--old-size", "3", "--new-size", "5"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::string cosigned5 = witness_.Cosign(note5, 3, cp.out);
  ASSERT_FALSE(cosigned5.empty());
  Write(dir_.Sub("cp5.note"), cosigned5);
  Write(dir_.Sub("cons.proof"), cp.out);
  v = Verify({"consistency", "--old", dir_.Sub("cp3-bare.note"), "--new", dir_.Sub("cp5.note"),
              "--proof", dir_.Sub("cons.proof")},
             Policy("1"));
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("VERIFIED: indelible.local/acme at size 5 extends size 3"),
            std::string::npos)
      << v.out;

  // verify-receipt and check --remote read the daemon's served checkpoint,
  // which carries no cosignature: below quorum, exit 3 in both binaries.
  auto vr = Cli({"verify-receipt", "--key", key_, "--witness", witness_.vkey()}, receipts[0]);
  EXPECT_EQ(vr.exit_code, 3) << vr.out << vr.err;
  EXPECT_NE(vr.err.find("below witness quorum"), std::string::npos) << vr.err;
  EXPECT_EQ(Cli({"verify-receipt", "--key", key_}, receipts[0]).exit_code, 0);
  v = Verify({"check", "--remote", daemon_->target(), "--tenant", "acme"}, Policy("1"));
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  EXPECT_NE(v.out.find("NOT VERIFIED: the served checkpoint is below witness quorum"),
            std::string::npos)
      << v.out;

  // The data directory with the cosigned note in the daemon's newest
  // checkpoint row (as a daemon with witnesses stores it).
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  {
    testing::RawStore raw(dir_.Sub("data"));
    const std::string row = store::SeqKey("acme", 5);
    ASSERT_EQ(raw.Get(store::kCheckpointsV2Cf, row), note5);
    raw.Put(store::kCheckpointsV2Cf, row, cosigned5);
  }
  v = Verify({"check", "--data-dir", dir_.Sub("data")}, Policy("1"));
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  v = Verify({"check", "--data-dir", dir_.Sub("data"), "--json"}, Policy("2"));
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["verdict"], "below_quorum");
  EXPECT_EQ(j["tenants"][0]["witnesses"]["cosigned"], nlohmann::json{"witness.test/w1"});
}

// The daemon's own cosigned checkpoints (witnesses: in its config).
TEST(QuorumDaemonE2E, TheDaemonsCosignedNotesMeetEveryVerifiersPolicy) {
  TempDir dir;
  const std::string log_key_file = dir.Sub("log.pem");
  auto k = RunCommand({BinPath("indelible-witness"), "keygen", "--name", "log", "--out",
                       log_key_file});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string log_vkey_name = "audit.test";
  // The witness.
  const std::string wkey = dir.Sub("witness.pem");
  k = RunCommand({BinPath("indelible-witness"), "keygen", "--name", "witness.test/w1", "--out",
                  wkey});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string wvkey = k.out.substr(0, k.out.size() - 1);
  const std::string log_vkey = testing::VerifierKeyOf(log_key_file, log_vkey_name);
  Write(dir.Sub("witness.yaml"),
        "name: witness.test/w1\nkey_file: " + wkey + "\nstate_dir: " + dir.Sub("wstate") +
            "\nlisten: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\nlogs:\n"
            "  - origin_prefix: audit.test/\n    keys: [\"" + log_vkey + "\"]\n");
  witness::testing::WitnessProcess w(dir.Sub("witness.yaml"), dir.Sub("witness.port"),
                                     dir.Sub("witness.log"));
  ASSERT_TRUE(w.Start());
  Write(dir.Sub("daemon.yaml"),
        "log_name: audit.test\nkey_name: " + log_vkey_name + "\nsigning_key_file: " +
            log_key_file + "\ncheckpoint_interval_ms: 50\nwitnesses:\n  - name: witness.test/w1\n"
            "    url: \"http://127.0.0.1:" + std::to_string(w.port()) + "\"\n    key: \"" + wvkey +
            "\"\n");
  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--config", dir.Sub("daemon.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  auto cli = [&](std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {BinPath("indelible"), "--target", (*d)->target()});
    return RunCommand(args, in);
  };
  std::string receipt;
  for (int i = 0; i < 4; ++i) {
    auto r = cli({"append", "--json", "--tenant", "acme", "--actor-id", "svc", "--action",
                  "doc.read"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    receipt = r.out;
  }
  const chain::Cosigner absent("witness.test/absent", *chain::Ed25519PrivateKey::Generate());
  const std::vector<std::string> policy1 = {"--key", log_vkey, "--witness", wvkey};
  const std::vector<std::string> policy2 = {"--key", log_vkey, "--witness", wvkey, "--witness",
                                            chain::CosignerKeyString(absent.key()),
                                            "--quorum", "2"};
  // verify-receipt waits (bounded) for the served checkpoint to be cosigned.
  std::vector<std::string> vr = {"verify-receipt", "--wait", "30s"};
  vr.insert(vr.end(), policy1.begin(), policy1.end());
  auto r = cli(vr, receipt);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The served note of size 4 is cosigned by the witness.
  auto cp = cli({"checkpoint", "--v2", "--tenant", "acme", "--key", log_vkey});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_NE(cp.out.find("\xe2\x80\x94 witness.test/w1 "), std::string::npos) << cp.out;
  // check --remote on the daemon's served note.
  std::vector<std::string> remote = {BinPath("indelible-verify"), "check", "--remote",
                                     (*d)->target(), "--tenant", "acme"};
  std::vector<std::string> args = remote;
  args.insert(args.end(), policy1.begin(), policy1.end());
  r = RunCommand(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  args = remote;
  args.insert(args.end(), policy2.begin(), policy2.end());
  r = RunCommand(args);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("missing: witness.test/absent"), std::string::npos) << r.out;
  // check --data-dir on the daemon's stored cosigned rows, once the newest
  // stored checkpoint is the cosigned one (the daemon stores cosignatures as
  // they arrive; stop it after that).
  ASSERT_EQ((*d)->Stop(), 0) << (*d)->Log();
  args = {BinPath("indelible-verify"), "check", "--data-dir", dir.Sub("data"), "--json"};
  args.insert(args.end(), policy1.begin(), policy1.end());
  r = RunCommand(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  args = {BinPath("indelible-verify"), "check", "--data-dir", dir.Sub("data"), "--json"};
  args.insert(args.end(), policy2.begin(), policy2.end());
  r = RunCommand(args);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["below_quorum_tenants"], nlohmann::json{"acme"});
  EXPECT_EQ(j["tenants"][0]["witnesses"]["cosigned"], nlohmann::json{"witness.test/w1"});
}

}  // namespace
}  // namespace indelible
