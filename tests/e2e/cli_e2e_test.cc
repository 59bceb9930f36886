// The real `indelible` CLI against the real daemon.
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

}  // namespace
}  // namespace indelible
