// End-to-end with the Daemon object in the test's own process: the real
// gRPC server on 127.0.0.1 port 0, the real client, a temporary data
// directory, and the real verifier over the store once the daemon stopped.
// Binary-level tests (daemon_e2e_test and others) keep signals, crash and
// start-up of indelibled itself.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "daemon/governance/config.h"
#include "daemon/daemon.h"
#include "daemon/ops/metrics.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/verifier/test_chain.h"
#include "verifier/check/store_check.h"
#include "verifier/store/reader.h"

namespace indelible {
namespace {

using testing::TempDir;

DaemonOptions InProcessOptions(const std::string& data_dir) {
  DaemonOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.data_dir = data_dir;
  return o;
}

v1::Event MakeEvent(const std::string& tenant, int i) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(absl::StrCat("evt-", i));
  e.mutable_actor()->set_id("alice@example.com");
  e.set_action("customer.read");
  return e;
}

std::unique_ptr<client::Client> ConnectTo(const Daemon& daemon) {
  client::ClientOptions o;
  o.target = absl::StrCat("127.0.0.1:", daemon.port());
  auto c = client::Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(DaemonInProcessE2E, AppendsStopAndVerify) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  DaemonOptions options = InProcessOptions(data);
  ASSERT_TRUE(ValidateConfig(options.config).ok());
  constexpr int kEvents = 25;
  {
    Daemon daemon;
    ASSERT_TRUE(daemon.Start(std::move(options)).ok());
    EXPECT_EQ(daemon.exit_code(), kExitOk);
    ASSERT_NE(daemon.port(), 0);
    EXPECT_EQ(daemon.metrics_port(), 0);  // metrics_listen not set
    auto client = ConnectTo(daemon);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < kEvents; ++i) {
      auto r = client->Append(MakeEvent(i % 2 == 0 ? "acme" : "globex", i));
      ASSERT_TRUE(r.ok()) << r.status();
    }
    // Every receipt means synced: the daemon's own count agrees, no polling.
    EXPECT_EQ(daemon.metrics()->OkAppends(), static_cast<uint64_t>(kEvents));
    daemon.Stop();  // drains, signs the final heads, closes the store
    daemon.Wait();  // returns at once: Stop has completed
    EXPECT_EQ(daemon.storage(), nullptr);
  }
  // The lock on the data directory is released: the verifier opens it.
  auto reader = store::Reader::Open(data);
  ASSERT_TRUE(reader.ok()) << reader.status();
  testing::CollectingReporter reporter;
  auto result = check::CheckStore(**reader, {}, &reporter);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->findings, 0u);
  EXPECT_TRUE(reporter.findings.empty());
  EXPECT_EQ(result->records, static_cast<uint64_t>(kEvents));
  ASSERT_EQ(result->tenants.size(), 2u);
  // Stop signed each tenant's final head, with the key the store lists.
  EXPECT_EQ(result->key_source, check::KeySource::kStore);
  EXPECT_TRUE(result->signatures_checked);
  for (const check::TenantSummary& t : result->tenants) {
    EXPECT_GE(t.stored_checkpoints, 1u) << t.tenant;
  }
}

TEST(DaemonInProcessE2E, StopFromAnotherThreadEndsWait) {
  TempDir dir;
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(InProcessOptions(dir.Sub("data"))).ok());
  std::thread stopper([&daemon] { daemon.Stop(); });
  daemon.Wait();
  stopper.join();
  EXPECT_EQ(daemon.storage(), nullptr);
}

TEST(DaemonInProcessE2E, SecondDaemonOnTheSameDataDirFailsToStart) {
  TempDir dir;
  Daemon first;
  ASSERT_TRUE(first.Start(InProcessOptions(dir.Sub("data"))).ok());
  Daemon second;
  const absl::Status s = second.Start(InProcessOptions(dir.Sub("data")));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(second.exit_code(), kExitRuntime);
  second.Stop();  // a no-op: it never started
  // The first one still serves.
  auto client = ConnectTo(first);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Append(MakeEvent("acme", 1)).ok());
  first.Stop();
}

TEST(DaemonInProcessE2E, PortInUseFailsWithTheRuntimeExitCode) {
  TempDir dir;
  Daemon first;
  ASSERT_TRUE(first.Start(InProcessOptions(dir.Sub("a"))).ok());
  DaemonOptions o = InProcessOptions(dir.Sub("b"));
  o.config.listen = absl::StrCat("127.0.0.1:", first.port());
  Daemon second;
  EXPECT_FALSE(second.Start(std::move(o)).ok());
  EXPECT_EQ(second.exit_code(), kExitRuntime);
  first.Stop();
}

}  // namespace
}  // namespace indelible
