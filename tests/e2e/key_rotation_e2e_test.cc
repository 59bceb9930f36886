// Rotating the checkpoint signing key (docs/OPERATIONS.md): checkpoints
// signed before the rotation stay verifiable with the old public key, the
// verifier accepts a key history, and leaving a key out is a finding.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::CommandResult;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

class KeyRotationE2E : public ::testing::Test {
 protected:
  CommandResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinPath("indelible"), "--target", daemon_->target()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  // Starts the daemon signing with `key_file`; returns its verifier key.
  std::string StartWith(const std::string& key_file) {
    std::ofstream(dir_.Sub("config.yaml"))
        << "signing_key_file: " << key_file << "\ncheckpoint_interval_ms: 50\n";
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data"),
                                   .extra_args = {"--config", dir_.Sub("config.yaml")}});
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return "";
    daemon_ = std::move(*d);
    CommandResult k = Cli({"public-key"});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    return std::string(absl::StripTrailingAsciiWhitespace(k.out));
  }

  void Append(int n, const std::string& prefix) {
    for (int i = 0; i < n; ++i) {
      CommandResult r = Cli({"append", "--tenant", "acme", "--event-id",
                             prefix + std::to_string(i), "--actor-id", "alice", "--action",
                             "customer.read"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  // Polls (bounded) for a checkpoint covering `seq`; returns the note.
  std::string CheckpointAt(uint64_t seq) {
    for (int i = 0; i < 200; ++i) {
      CommandResult r = Cli({"checkpoint", "--tenant", "acme", "--min-seq", std::to_string(seq)});
      if (r.exit_code == 0) return r.out;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no checkpoint at seq " << seq;
    return "";
  }

  CommandResult Check(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "check", "--data-dir",
                                     dir_.Sub("data"), "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(KeyRotationE2E, OldCheckpointsStayVerifiableAcrossARotation) {
  for (const char* k : {"old.pem", "new.pem"}) {
    CommandResult g = RunCommand({BinPath("indelible"), "keygen", "--out", dir_.Sub(k)});
    ASSERT_EQ(g.exit_code, 0) << g.err;
  }
  const std::string old_key = StartWith(dir_.Sub("old.pem"));
  ASSERT_FALSE(old_key.empty());
  Append(5, "before-");
  const std::string old_note = CheckpointAt(5);
  std::ofstream(dir_.Sub("old-checkpoint.txt")) << old_note;
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  const std::string new_key = StartWith(dir_.Sub("new.pem"));
  ASSERT_FALSE(new_key.empty());
  ASSERT_NE(new_key, old_key);
  Append(5, "after-");
  CheckpointAt(10);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // The key history: every checkpoint verifies, the auditor's saved one too.
  CommandResult both = Check({"--key", old_key, "--key", new_key, "--checkpoint",
                              dir_.Sub("old-checkpoint.txt")});
  EXPECT_EQ(both.exit_code, 0) << both.out << both.err;
  auto j = nlohmann::json::parse(both.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << both.out;
  EXPECT_EQ(j["key_source"], "given");

  // Without the old key, the checkpoints it signed are findings.
  CommandResult only_new = Check({"--key", new_key});
  EXPECT_NE(only_new.exit_code, 0) << only_new.out;
  EXPECT_TRUE(absl::StrContains(only_new.out, "checkpoint_signature")) << only_new.out;

  // The store recorded both keys itself; they verify its checkpoints, but
  // are no trusted key: not verified (exit 3).
  CommandResult store = Check({});
  EXPECT_EQ(store.exit_code, 3) << store.out << store.err;
  EXPECT_TRUE(absl::StrContains(store.out, "\"key_source\":\"store\"") ||
              absl::StrContains(store.out, "\"key_source\": \"store\""))
      << store.out;
}

}  // namespace
}  // namespace indelible
