// End-to-end, the real indelible-loadgen against the real indelibled: runs
// that share tenants (--tenant-prefix) append after each other's records,
// and each run's full check reads its part of every chain from the record
// before it (one anchor per tenant), verifying every receipt and link; a
// prefix that makes no valid tenant id, or one given to proofs mode, is a
// usage error.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"

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

  testing::CommandResult Loadgen(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {BinPath("indelible-loadgen"), "--target", daemon_->target(),
                                     "--mode", "batch", "--batch", "50", "--inflight", "4",
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
