// One address, one daemon. gRPC and cpp-httplib both set SO_REUSEPORT by
// default, with which a second indelibled on a bound address started and the
// kernel split connections (and appends) between two chains. Now a second
// daemon on any address the first has bound (gRPC, local or metrics
// listener) stops start-up with exit 1 naming the address, and the first
// keeps serving.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

int ReadPort(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  in >> port;
  return port;
}

TEST(ListenE2E, SecondDaemonOnABoundAddressExitsAndTheFirstKeepsServing) {
  TempDir dir;
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("first"),
                                 .extra_args = {"--local-listen", "127.0.0.1:0",
                                                "--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(d.ok()) << d.status();
  const std::string listen = (*d)->target();
  const std::string local =
      "127.0.0.1:" + std::to_string(ReadPort(dir.Sub("first.port.local")));
  const std::string metrics_port_text = std::to_string(ReadPort(dir.Sub("first.port.metrics")));
  const std::string metrics = "127.0.0.1:" + metrics_port_text;

  struct Case {
    std::string name;
    std::vector<std::string> args;  // the listeners of the second daemon
    std::string busy;               // the address it must name
  };
  const std::vector<Case> cases = {
      {"listen", {"--listen", listen}, listen},
      {"local", {"--listen", "127.0.0.1:0", "--local-listen", local}, local},
      {"metrics", {"--listen", "127.0.0.1:0", "--metrics-listen", metrics}, metrics},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> argv = {BinPath("indelibled"), "--data-dir",
                                     dir.Sub("second-" + c.name)};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    // Today's failure mode is a second daemon that keeps running: bounded.
    const auto r = RunCommand(argv, "", std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot listen on " + c.busy), std::string::npos) << r.err;
  }

  // The first daemon still answers on every listener.
  for (const std::string& target : {listen, local}) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok()) << target;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << target;
  }
  httplib::Client http("127.0.0.1", std::stoi(metrics_port_text));
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ((*d)->Stop(), 0);
}

}  // namespace
}  // namespace indelible
