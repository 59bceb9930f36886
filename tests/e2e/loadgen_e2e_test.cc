// End-to-end, the real indelible-loadgen against the real indelibled: runs
// that share tenants (--tenant-prefix) append after each other's records,
// and each run's full check reads its part of every chain from the record
// before it (one anchor per tenant), verifying every receipt and link; a
// prefix that makes no valid tenant id, or one given to proofs mode, is a
// usage error. --event-ids uuid4|uuid7 sends UUIDs of that version, read
// back through the client. Stream mode's hand-encoded messages are stored
// and verified as sent.
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

class LoadgenE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
  }

  testing::CommandResult Loadgen(const std::vector<std::string>& extra,
                                 const std::string& mode = "batch") {
    std::vector<std::string> argv = {BinPath("indelible-loadgen"), "--target", daemon_->target(),
                                     "--mode", mode, "--batch", "50", "--inflight", "4",
                                     "--count", "1000", "--duration", "60", "--warmup", "0",
                                     "--tenants", "2", "--verify", "full", "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, "", std::chrono::seconds(120));
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(LoadgenE2E, RunsSharingTenantsEachVerifyTheirPartOfTheChains) {
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE(run);
    auto r = Loadgen({"--tenant-prefix", "bench"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    const auto& v = j["verify"];
    EXPECT_TRUE(v["ok"].get<bool>()) << v.dump();
    EXPECT_EQ(v["verified"], j["acknowledged_events"]);
    EXPECT_GE(j["acknowledged_events"].get<uint64_t>(), 1000u);
    EXPECT_EQ(v["chain_errors"], 0);
    EXPECT_EQ(v["unacknowledged_records"], 0);
    // The first run reads both chains from seq 1; later runs read one
    // earlier record per tenant, not the earlier runs' events.
    const uint64_t anchors = run == 0 ? 0 : 2;
    EXPECT_EQ(v["records"].get<uint64_t>(), v["receipts"].get<uint64_t>() + anchors);
  }
  // A run of its own tenants still starts both chains at seq 1.
  auto r = Loadgen({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["verify"]["ok"].get<bool>());
  EXPECT_EQ(j["verify"]["records"], j["verify"]["receipts"]);
}

// The ids of every stored event, read back with `indelible read --json`.
std::vector<std::string> StoredIds(const std::string& target, const std::string& tenant) {
  auto r = RunCommand({BinPath("indelible"), "--target", target, "read", "--tenant", tenant,
                       "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> ids;
  for (std::string_view line : chain::Split(r.out, '\n')) {
    if (!line.empty()) ids.push_back(nlohmann::json::parse(line)["event"]["event_id"]);
  }
  return ids;
}

// Stream mode sends hand-encoded messages (EventFactory::AppendEncoded):
// the daemon takes every event, and every receipt checks out against the
// chains read back.
TEST_F(LoadgenE2E, StreamRunsVerifyEveryReceipt) {
  for (const std::string ids : {"counter", "uuid7"}) {
    SCOPED_TRACE(ids);
    auto r = Loadgen({"--streams", "2", "--window", "3", "--tenant-prefix", "s-" + ids,
                      "--event-ids", ids},
                     "stream");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    const auto& v = j["verify"];
    EXPECT_TRUE(v["ok"].get<bool>()) << v.dump();
    EXPECT_GE(j["acknowledged_events"].get<uint64_t>(), 1000u);
    EXPECT_EQ(j["error_count"], 0) << j.dump();
    EXPECT_EQ(v["verified"], j["acknowledged_events"]);
    EXPECT_EQ(v["records"], v["receipts"]);
    EXPECT_EQ(v["chain_errors"], 0);
    EXPECT_EQ(StoredIds(daemon_->target(), "s-" + ids + "-0").size() +
                  StoredIds(daemon_->target(), "s-" + ids + "-1").size(),
              j["acknowledged_events"].get<size_t>());
  }
}

TEST_F(LoadgenE2E, SendsUuidsOfTheVersionAsked) {
  const auto now_ms = [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  };
  for (const std::string version : {"4", "7"}) {
    SCOPED_TRACE(version);
    const uint64_t before = now_ms();
    auto r = Loadgen({"--tenant-prefix", "v" + version, "--event-ids", "uuid" + version});
    const uint64_t after = now_ms();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["verify"]["ok"].get<bool>()) << j["verify"].dump();
    std::vector<std::string> ids = StoredIds(daemon_->target(), "v" + version + "-0");
    for (const std::string& id : StoredIds(daemon_->target(), "v" + version + "-1")) {
      ids.push_back(id);
    }
    ASSERT_EQ(ids.size(), j["acknowledged_events"].get<size_t>());
    const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-" + version +
                          "[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> distinct;
    for (const std::string& id : ids) {
      ASSERT_TRUE(std::regex_match(id, uuid)) << id;
      distinct.insert(id);
      if (version == "7") {
        const uint64_t ms = std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
        EXPECT_GE(ms, before) << id;
        EXPECT_LE(ms, after) << id;
      }
    }
    EXPECT_EQ(distinct.size(), ids.size());
  }
  auto r = Loadgen({"--event-ids", "uuid5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--event-ids"), std::string::npos) << r.err;
}

TEST_F(LoadgenE2E, BadTenantPrefixIsAUsageError) {
  // A prefix that makes no valid tenant id.
  auto r = Loadgen({"--tenant-prefix", "not a tenant"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--tenant-prefix"), std::string::npos) << r.err;
  // Proofs preload a tenant of their own; a shared one would hold more.
  r = RunCommand({BinPath("indelible-loadgen"), "--target", daemon_->target(), "--mode",
                  "proofs", "--preload", "10", "--duration", "1", "--tenant-prefix", "bench"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--mode proofs"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace indelible
