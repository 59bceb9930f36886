// The real `indelible` CLI against the real daemon.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

class CliE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
  }
  testing::CommandResult Cli(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {BinPath("indelible"), "--target", daemon_->target()});
    return RunCommand(args, in);
  }
  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(CliE2E, AppendHeadReadRoundTrip) {
  auto r = Cli({"append", "--tenant", "acme", "--event-id", "e1", "--actor-id", "alice",
                "--action", "customer.read", "--reason", "ticket 7", "--meta", "region=eu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("seq:         1"), std::string::npos) << r.out;

  r = Cli({"append", "--stdin"},
          "{\"tenant\":\"acme\",\"event_id\":\"e2\",\"actor_id\":\"bob\",\"action\":\"x\"}\n"
          "{\"tenant\":\"acme\",\"event_id\":\"e3\",\"actor_id\":\"bob\",\"action\":\"y\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = Cli({"head", "--tenant", "acme", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto head = nlohmann::json::parse(r.out);
  EXPECT_EQ(head["seq"], 3);

  r = Cli({"read", "--tenant", "acme", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Recompute the chain from what the CLI printed.
  chain::Digest prev = chain::Genesis("acme");
  int n = 0;
  for (std::string_view line : chain::Split(r.out, '\n')) {
    if (line.empty()) continue;
    auto rec = nlohmann::json::parse(line);
    std::string salt, ce;
    ASSERT_TRUE(chain::Base64Decode(rec["salt"].get<std::string>(), &salt));
    ASSERT_TRUE(chain::Base64Decode(rec["canonical_event"].get<std::string>(), &ce));
    chain::Digest body = chain::BodyDigest(salt, ce);
    EXPECT_EQ(chain::ToHex(body), rec["body_digest"]);
    prev = chain::EntryHash("acme", rec["seq"], std::stoull(rec["received_at_ns"].get<std::string>()),
                            prev, body);
    EXPECT_EQ(chain::ToHex(prev), rec["entry_hash"]);
    ++n;
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(chain::ToHex(prev), head["head_hash"]);
}

TEST_F(CliE2E, ExitCodes) {
  // Rejected by the server: 3, with the field named.
  auto r = Cli({"append", "--tenant", "Not Valid", "--event-id", "e", "--actor-id", "a",
                "--action", "x"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("tenant"), std::string::npos) << r.err;
  // Usage error: 2.
  r = Cli({"append", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Unreachable daemon: 4.
  r = RunCommand({BinPath("indelible"), "--target", "127.0.0.1:1", "--timeout", "2s", "head",
                  "--tenant", "acme"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  // A malformed stdin line: 3, naming the line.
  r = Cli({"append", "--stdin"}, "{\"tenant\":\"acme\"\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
}

// An event id reused for a different event: exit 3 (rejected, not worth
// retrying), the error naming ALREADY_EXISTS and the first seq. A repeat of
// the same event stays a success.
TEST_F(CliE2E, ReusedEventIdForAnotherEventExitsThree) {
  const std::vector<std::string> event = {"append", "--tenant", "acme", "--event-id", "e1",
                                          "--actor-id", "alice", "--action", "customer.read"};
  auto r = Cli(event);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli(event);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> changed = event;
  changed.back() = "customer.delete";
  r = Cli(changed);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("event_id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("seq 1"), std::string::npos) << r.err;

  // A batch from stdin is all or none: refused as a whole, the error naming
  // its lines and the event within it.
  r = Cli({"append", "--stdin"},
          "{\"tenant\":\"acme\",\"event_id\":\"e2\",\"actor_id\":\"bob\",\"action\":\"x\"}\n"
          "{\"tenant\":\"acme\",\"event_id\":\"e1\",\"actor_id\":\"bob\",\"action\":\"y\"}\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("lines 1-2: ALREADY_EXISTS: events[1].event_id"), std::string::npos)
      << r.err;
  r = Cli({"head", "--tenant", "acme", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto seq = nlohmann::json::parse(r.out)["seq"];  // a number or a decimal string
  EXPECT_EQ(seq.is_string() ? seq.get<std::string>() : seq.dump(), "1") << r.out;
}

// The auditor's routine: keep a checkpoint and the key from the live daemon,
// later hold the data directory against them offline.
TEST_F(CliE2E, SavedCheckpointVerifiesOfflineWithIndelibleVerify) {
  auto r = Cli({"append", "--stdin", "--tenant", "acme"},
               "{\"event_id\":\"e1\",\"actor_id\":\"alice\",\"action\":\"a\"}\n"
               "{\"event_id\":\"e2\",\"actor_id\":\"alice\",\"action\":\"b\"}\n"
               "{\"event_id\":\"e3\",\"actor_id\":\"alice\",\"action\":\"c\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The daemon signs checkpoints periodically: poll (bounded) until one
  // covers seq 3. Until then the answer is NOT_FOUND, exit code 3.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    r = Cli({"checkpoint", "--tenant", "acme", "--min-seq", "3"});
    if (r.exit_code != 3 || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string note = r.out;
  const std::string note_file = dir_.Sub("acme.checkpoint");
  std::ofstream(note_file, std::ios::binary) << note;

  r = Cli({"public-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  ASSERT_EQ(r.out.back(), '\n');
  const std::string key = r.out.substr(0, r.out.size() - 1);

  // The CLI's own check under the key agrees, byte for byte.
  r = Cli({"checkpoint", "--tenant", "acme", "--min-seq", "3", "--key", key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, note);

  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir_.Sub("data"),
                  "--key", key, "--checkpoint", note_file, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["verified"], true);
  EXPECT_EQ(report["verdict"], "verified");
  EXPECT_EQ(report["signatures_checked"], true);
  ASSERT_EQ(report["tenants"].size(), 1u);
  EXPECT_EQ(report["tenants"][0]["tenant"], "acme");
  EXPECT_EQ(report["tenants"][0]["head_seq"], 3);
  EXPECT_EQ(report["tenants"][0]["checkpoints"]["supplied"], 1);

  // Without the key the same check proves nothing: exit 3, never 0.
  r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir_.Sub("data"),
                  "--checkpoint", note_file});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT VERIFIED: no trusted key was given"), std::string::npos) << r.out;

  // The saved file is what the verdict rests on: an edited copy is refused.
  std::string edited = note;
  const size_t seq_line = edited.find("\n3\n");
  ASSERT_NE(seq_line, std::string::npos) << edited;
  edited[seq_line + 1] = '2';
  std::ofstream(dir_.Sub("edited.checkpoint"), std::ios::binary) << edited;
  r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir_.Sub("data"),
                  "--key", key, "--checkpoint", dir_.Sub("edited.checkpoint")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

// The operator's routine for a closed account, through the CLI only: a
// retention change and a legal hold (each recorded in the chain), a purge
// refused while held, then the purge and its certificate checked offline.
TEST(CliAdminE2E, RetentionHoldPurgeAndCertificate) {
  TempDir dir;
  DaemonProcess::Options options;
  options.data_dir = dir.Sub("data");
  options.extra_args = {"--testing-manual-clock"};
  auto d = DaemonProcess::Start(std::move(options));
  ASSERT_TRUE(d.ok()) << d.status();
  std::unique_ptr<DaemonProcess> daemon = std::move(*d);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {BinPath("indelible"), "--target", daemon->target()});
    return RunCommand(args);
  };
  const std::vector<std::string> who = {"--actor", "carol@ops", "--reason", "ticket OPS-9"};
  auto admin = [&](std::vector<std::string> args, bool with_who = true) {
    args.insert(args.begin(), "admin");
    if (with_who) args.insert(args.end(), who.begin(), who.end());
    return cli(args);
  };

  for (const char* id : {"e1", "e2"}) {
    auto r = cli({"append", "--tenant", "gone", "--event-id", id, "--actor-id", "alice",
                  "--action", "customer.read"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  auto r = admin({"retention", "set", "--tenant", "gone", "--category", "access",
                  "--retention", "30d"});
  ASSERT_EQ(r.exit_code, 0) << r.err << daemon->Log();
  EXPECT_NE(r.out.find("retention:   30d\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("previous:    365d\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seq:         3\n"), std::string::npos) << r.out;

  r = admin({"retention", "get", "--tenant", "gone", "--json"}, /*with_who=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto policy = nlohmann::json::parse(r.out);
  EXPECT_EQ(policy["legal_hold"], false);
  bool found = false;
  for (const auto& e : policy["entries"]) {
    if (e["category"] == "access") {
      found = true;
      EXPECT_EQ(e["retention"], "30d");
    }
  }
  EXPECT_TRUE(found) << r.out;

  r = admin({"hold", "--tenant", "gone", "--place"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string cert = dir.Sub("gone.cert");
  r = admin({"purge", "--tenant", "gone", "--out", cert});  // no --yes
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = admin({"purge", "--tenant", "gone", "--out", cert, "--yes"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("FAILED_PRECONDITION"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(cert));

  r = admin({"hold", "--tenant", "gone", "--lift"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = admin({"purge", "--tenant", "gone", "--out", cert, "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err << daemon->Log();
  // 2 events and 3 recorded changes (retention, hold placed, hold lifted),
  // each followed by the tenant's policy on record (docs/RETENTION.md), and
  // the purge's own record.
  EXPECT_NE(r.out.find("final_seq:   9\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("approvers:   "), std::string::npos) << r.out;
  ASSERT_TRUE(std::filesystem::exists(cert));

  r = cli({"public-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  const std::string key = r.out.substr(0, r.out.size() - 1);
  ASSERT_EQ(daemon->Stop(), 0) << daemon->Log();

  r = RunCommand(
      {BinPath("indelible-verify"), "verify-certificate", "--cert", cert, "--key", key});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("tenant gone"), std::string::npos) << r.out;
  r = RunCommand({BinPath("indelible-verify"), "verify-certificate", "--cert", cert});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("no trusted key"), std::string::npos) << r.err;
  // The same key as a PEM file (no name: its id is computed under the name
  // the certificate's signature line gives).
  const std::string pem = dir.Sub("daemon.pub.pem");
  ASSERT_EQ(RunCommand({"/usr/bin/openssl", "pkey", "-in", dir.Sub("data.signing-key.pem"),
                        "-pubout", "-out", pem}).exit_code, 0);
  r = RunCommand({BinPath("indelible-verify"), "verify-certificate", "--cert", cert,
                  "--key-pem", pem});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(VersionE2E, EveryBinaryPrintsTheSameVersion) {
  for (const char* bin : {"indelibled", "indelible", "indelible-verify"}) {
    auto r = RunCommand({BinPath(bin), "--version"});
    EXPECT_EQ(r.exit_code, 0) << bin << ": " << r.err;
    EXPECT_EQ(r.out, std::string(bin) + " 0.1.0\n") << bin;
  }
}

}  // namespace
}  // namespace indelible
