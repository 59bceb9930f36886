// The Prometheus endpoint (--metrics-listen) reports appends, group commits,
// RocksDB properties and checkpoint ages of a real daemon.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "client/client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::DaemonProcess;
using testing::TempDir;

v1::Event MakeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.set_occurred_at_ns(1700000000000000000ull);
  e.mutable_actor()->set_id("alice@example.com");
  e.mutable_actor()->set_type("user");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("cus_" + id);
  e.set_outcome("allowed");
  e.set_source("crm");
  return e;
}

// Sample lines of a text-format scrape: "name{labels}" -> value.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

std::string Scrape(int port) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get("/metrics");
  EXPECT_TRUE(res) << "no answer from /metrics";
  if (!res) return "";
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  return res->body;
}

TEST(MetricsE2E, CountersMoveWithAppends) {
  TempDir dir;
  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(d.ok()) << d.status();
  int port = 0;
  std::ifstream(dir.Sub("data") + ".port.metrics") >> port;
  ASSERT_GT(port, 0);

  auto before = Parse(Scrape(port));
  EXPECT_EQ(before["indelible_appends_total{outcome=\"ok\",code=\"ok\"}"], 0);
  EXPECT_EQ(before["indelible_commit_batch_events_count"], 0);
  EXPECT_TRUE(before.count("indelible_rocksdb_live_sst_bytes{column_family=\"default\"}"));
  EXPECT_TRUE(before.count("indelible_sequencer_queue_events"));
  EXPECT_TRUE(before.count("indelible_rocksdb_table_readers_bytes{column_family=\"bodies_v2\"}"));
  EXPECT_TRUE(before.count("indelible_rocksdb_block_cache_bytes{state=\"all\"}"));
  // An empty memtable still holds its first arena block.
  EXPECT_GT(before["indelible_rocksdb_memtable_bytes{column_family=\"bodies_v2\"}"], 0);
  {
    client::ClientOptions o;
    o.target = (*d)->target();
    auto c = client::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*c)->Append(MakeEvent("acme", "e" + std::to_string(i))).ok());
    }
    ASSERT_TRUE((*c)->Append(MakeEvent("acme", "e0")).ok());  // a retry
  }
  auto after = Parse(Scrape(port));
  EXPECT_EQ(after["indelible_appends_total{outcome=\"ok\",code=\"ok\"}"], 5);
  EXPECT_EQ(after["indelible_appends_total{outcome=\"duplicate\",code=\"ok\"}"], 1);
  EXPECT_GE(after["indelible_commit_batch_events_count"], 1);
  EXPECT_GE(after["indelible_commit_batch_events_sum"], 5);
  EXPECT_GE(after["indelible_commit_duration_seconds_count"], 1);
  EXPECT_GT(after["indelible_commit_duration_seconds_sum"], 0);
  EXPECT_EQ(after["indelible_commit_duration_seconds_bucket{le=\"+Inf\"}"],
            after["indelible_commit_duration_seconds_count"]);
  EXPECT_EQ((*d)->Stop(), 0);
}

TEST(MetricsE2E, NonLoopbackMetricsListenIsRefused) {
  auto r = testing::RunCommand({testing::BinPath("indelibled"), "--data-dir", "/nonexistent",
                                "--metrics-listen", "0.0.0.0:9100"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("metrics_listen"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace indelible
