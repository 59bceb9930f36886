// The shipped indelibled has no test hooks: no --testing-manual-clock flag,
// no testing_manual_clock config key, and Admin.AdvanceTestClock answers
// UNIMPLEMENTED without moving the clock. Only indelibled-testing (built
// from the same sources with INDELIBLE_TESTING_HOOKS) has them.
#include <chrono>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

constexpr uint64_t kDay = 86400ull * 1000000000ull;

uint64_t WallNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

TEST(ShippedDaemonE2E, RefusesTheManualClockFlagAndConfigKey) {
  TempDir dir;
  auto r = RunCommand({BinPath("indelibled"), "--data-dir", dir.Sub("data"), "--listen",
                       "127.0.0.1:0", "--testing-manual-clock"},
                      "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--testing-manual-clock"), std::string::npos) << r.err;

  std::ofstream(dir.Sub("c.yaml")) << "testing_manual_clock: true\n";
  r = RunCommand({BinPath("indelibled"), "--config", dir.Sub("c.yaml"), "--data-dir",
                  dir.Sub("data"), "--listen", "127.0.0.1:0"},
                 "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("config: testing_manual_clock"), std::string::npos) << r.err;

  r = RunCommand({BinPath("indelibled"), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("testing"), std::string::npos) << r.out;
}

TEST(ShippedDaemonE2E, AdvanceTestClockIsUnimplementedAndMovesNothing) {
  TempDir dir;
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data"), .binary = "indelibled"});
  ASSERT_TRUE(d.ok()) << d.status();
  {
    auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());
    auto admin = v1::Admin::NewStub(channel);
    auto log = v1::AuditLog::NewStub(channel);
    {
      grpc::ClientContext ctx;
      v1::AdvanceTestClockRequest req;
      req.set_nanos(3650 * kDay);
      v1::AdvanceTestClockResponse resp;
      const grpc::Status s = admin->AdvanceTestClock(&ctx, req, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << s.error_message();
    }
    // The daemon's clock is still the wall clock: an append is stamped now,
    // not ten years on.
    grpc::ClientContext ctx;
    v1::AppendRequest req;
    v1::Event* e = req.mutable_event();
    e->set_tenant("acme");
    e->set_event_id("e1");
    e->mutable_actor()->set_id("alice");
    e->set_action("customer.read");
    v1::AppendResponse resp;
    const uint64_t before = WallNanos();
    ASSERT_TRUE(log->Append(&ctx, req, &resp).ok());
    EXPECT_GE(resp.receipt().received_at_ns() + kDay, before);
    EXPECT_LE(resp.receipt().received_at_ns(), WallNanos() + kDay);
  }
  EXPECT_EQ((*d)->Stop(), 0);
}

// The test build keeps the hooks the other end-to-end tests rely on.
TEST(ShippedDaemonE2E, TheTestBuildHasTheManualClock) {
  TempDir dir;
  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--testing-manual-clock"}});
  ASSERT_TRUE(d.ok()) << d.status();
  {
    auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());
    auto admin = v1::Admin::NewStub(channel);
    grpc::ClientContext ctx;
    v1::AdvanceTestClockRequest req;
    req.set_nanos(kDay);
    v1::AdvanceTestClockResponse resp;
    ASSERT_TRUE(admin->AdvanceTestClock(&ctx, req, &resp).ok());
    EXPECT_GT(resp.now_ns(), WallNanos() + kDay / 2);
  }
  EXPECT_EQ((*d)->Stop(), 0);
}

}  // namespace
}  // namespace indelible
