// End-to-end, against the real indelibled with a small max_queued_events:
// streams that saturate it are paused (not refused) and all complete with
// valid receipts, while Append and AppendBatch get RESOURCE_EXHAUSTED with
// grpc-retry-pushback-ms and store nothing; every acknowledged event is in
// the chain afterwards. A refused batch of up to half the bound, resent after
// the hint, takes the room its refusal reserved.
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::DaemonProcess;
using testing::TempDir;

constexpr char kTenant[] = "flow";
constexpr int kBound = 200;        // max_queued_events
constexpr int kStreamBatch = 100;  // events per stream message
constexpr int kStreams = 4;

v1::Event MakeEvent(const std::string& id) {
  v1::Event e;
  e.set_tenant(kTenant);
  e.set_event_id(id);
  e.mutable_actor()->set_id("alice@example.com");
  e.set_action("customer.read");
  e.set_reason(std::string(400, 'r'));
  return e;
}

v1::AppendBatchRequest Batch(const std::string& prefix, int n) {
  v1::AppendBatchRequest r;
  for (int k = 0; k < n; ++k) *r.add_events() = MakeEvent(absl::StrCat(prefix, "-", k));
  return r;
}

// Sample lines of a text-format scrape: "name{labels}" -> value.
std::map<std::string, double> Scrape(int port) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get("/metrics");
  std::map<std::string, double> out;
  if (!res) return out;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

// One AppendStream that writes messages of kStreamBatch events until `stop`
// (at least one), then half-closes and reads every answer.
struct StreamRun {
  grpc::Status status;
  int sent = 0;
  std::vector<v1::Receipt> receipts;

  void Run(v1::AuditLog::Stub* stub, int index, const std::atomic<bool>* stop) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    auto rw = stub->AppendStream(&ctx);
    std::thread reader([&] {
      v1::AppendBatchResponse resp;
      while (rw->Read(&resp)) {
        for (const auto& r : resp.receipts()) receipts.push_back(r);
      }
    });
    // Bounded: a daemon that never pushes back fails the test, not hangs it.
    while (sent < 2000 && (sent == 0 || !stop->load())) {
      if (!rw->Write(Batch(absl::StrCat("s", index, "-", sent), kStreamBatch))) break;
      ++sent;
    }
    rw->WritesDone();
    reader.join();
    status = rw->Finish();
  }
};

// A call refused by flow control: RESOURCE_EXHAUSTED naming the limit, with
// a positive grpc-retry-pushback-ms.
void ExpectPushback(const grpc::Status& s, const grpc::ClientContext& ctx) {
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("max_queued_events (200)"), std::string::npos)
      << s.error_message();
  const auto& md = ctx.GetServerTrailingMetadata();
  const auto it = md.find("grpc-retry-pushback-ms");
  ASSERT_NE(it, md.end()) << "no grpc-retry-pushback-ms";
  const int ms = std::stoi(std::string(it->second.data(), it->second.size()));
  EXPECT_GE(ms, 1);
  EXPECT_LE(ms, 1000);
}

class FlowControlE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.Sub("config.yaml")) << "max_queued_events: " << kBound << "\n";
    auto d = DaemonProcess::Start(
        {.data_dir = dir_.Sub("data"),
         .extra_args = {"--config", dir_.Sub("config.yaml"), "--metrics-listen",
                        "127.0.0.1:0"}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    std::ifstream(dir_.Sub("data") + ".port.metrics") >> metrics_port_;
    ASSERT_GT(metrics_port_, 0);
    stub_ = v1::AuditLog::NewStub(
        grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials()));
  }

  // Sends unary calls (a batch of 150 events, then a single event) while the
  // streams run, until each kind has been refused once; keeps what was
  // admitted and the ids of what was refused.
  void SendUnaryUntilRefused(std::vector<v1::Receipt>* receipts,
                             std::set<std::string>* refused_ids) {
    bool batch_refused = false, single_refused = false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int n = 0; !(batch_refused && single_refused) &&
                    std::chrono::steady_clock::now() < until;
         ++n) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      const bool batch = n % 2 == 0;
      grpc::Status s;
      std::vector<std::string> ids;
      if (batch) {
        v1::AppendBatchRequest req = Batch(absl::StrCat("u", n), 150);
        for (const auto& e : req.events()) ids.push_back(e.event_id());
        v1::AppendBatchResponse resp;
        s = stub_->AppendBatch(&ctx, req, &resp);
        for (const auto& r : resp.receipts()) receipts->push_back(r);
      } else {
        v1::AppendRequest req;
        *req.mutable_event() = MakeEvent(absl::StrCat("u", n));
        ids.push_back(req.event().event_id());
        v1::AppendResponse resp;
        s = stub_->Append(&ctx, req, &resp);
        if (s.ok()) receipts->push_back(resp.receipt());
      }
      if (s.ok()) continue;
      ExpectPushback(s, ctx);
      refused_ids->insert(ids.begin(), ids.end());
      (batch ? batch_refused : single_refused) = true;
    }
    EXPECT_TRUE(batch_refused) << "no AppendBatch was refused in 60 s";
    EXPECT_TRUE(single_refused) << "no Append was refused in 60 s";
  }

  // Starts kStreams streams that write until `stop`; join the threads.
  std::vector<std::thread> StartStreams(std::vector<StreamRun>* streams,
                                        const std::atomic<bool>* stop) {
    streams->assign(kStreams, StreamRun());
    std::vector<std::thread> threads;
    for (int i = 0; i < kStreams; ++i) {
      threads.emplace_back([this, streams, stop, i] {
        (*streams)[i].Run(stub_.get(), i, stop);
      });
    }
    return threads;
  }

  // Every record of the tenant: seq -> (entry hash, event id).
  std::map<uint64_t, std::pair<std::string, std::string>> ReadChain() {
    grpc::ClientContext ctx;
    v1::ReadRecordsRequest req;
    req.set_tenant(kTenant);
    req.set_reason("flow control test");
    auto reader = stub_->ReadRecords(&ctx, req);
    std::map<uint64_t, std::pair<std::string, std::string>> chain;
    v1::Record rec;
    while (reader->Read(&rec)) chain[rec.seq()] = {rec.entry_hash(), rec.event().event_id()};
    const grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return chain;
  }

  // Each receipt names a record of the chain with its entry hash.
  static void ExpectInChain(
      const std::vector<v1::Receipt>& receipts,
      const std::map<uint64_t, std::pair<std::string, std::string>>& chain) {
    for (const v1::Receipt& r : receipts) {
      const auto it = chain.find(r.seq());
      ASSERT_NE(it, chain.end()) << "seq " << r.seq();
      EXPECT_EQ(it->second.first, r.entry_hash()) << "seq " << r.seq();
    }
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  int metrics_port_ = 0;
  std::unique_ptr<v1::AuditLog::Stub> stub_;
};

TEST_F(FlowControlE2E, UnaryRefusedWithPushbackWhileStreamsPauseAndComplete) {
  std::atomic<bool> stop{false};
  std::vector<StreamRun> streams;
  std::vector<std::thread> threads = StartStreams(&streams, &stop);
  std::vector<v1::Receipt> receipts;
  std::set<std::string> refused_ids;
  SendUnaryUntilRefused(&receipts, &refused_ids);
  const auto during = Scrape(metrics_port_);
  stop = true;
  for (auto& t : threads) t.join();

  EXPECT_GE(during.at("indelible_ingest_backpressure_total{action=\"refused\"}"), 2);
  EXPECT_GT(during.at("indelible_ingest_backpressure_total{action=\"paused\"}"), 0)
      << "the streams were never paused";
  for (const StreamRun& s : streams) {
    EXPECT_TRUE(s.status.ok()) << s.status.error_message();
    EXPECT_EQ(s.receipts.size(), static_cast<size_t>(s.sent) * kStreamBatch);
    receipts.insert(receipts.end(), s.receipts.begin(), s.receipts.end());
  }

  // Every receipt is in the chain, and nothing else: refused calls stored
  // nothing.
  const auto chain = ReadChain();
  for (const auto& [seq, record] : chain) {
    EXPECT_EQ(refused_ids.count(record.second), 0u) << record.second;
  }
  EXPECT_EQ(chain.size(), receipts.size());
  ExpectInChain(receipts, chain);
  // Everything answered: the daemon holds nothing.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Scrape(metrics_port_)["indelible_ingest_held_events"] != 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  EXPECT_EQ(Scrape(metrics_port_)["indelible_ingest_held_events"], 0);
}

TEST_F(FlowControlE2E, ARefusedBatchResentAfterTheHintGetsItsTurn) {
  std::atomic<bool> stop{false};
  std::vector<StreamRun> streams;
  std::vector<std::thread> threads = StartStreams(&streams, &stop);
  // Saturated: the streams have been paused at least once.
  const auto saturated = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Scrape(metrics_port_)["indelible_ingest_backpressure_total{action=\"paused\"}"] == 0 &&
         std::chrono::steady_clock::now() < saturated) {
    std::this_thread::yield();
  }
  // Ten batches of half the bound, each resent (same events) after the
  // daemon's hint until admitted: each needs at most one resend.
  constexpr int kBatches = 10;
  std::vector<v1::Receipt> receipts;
  int refusals = 0;
  // No ASSERT before the streams are joined: a failure must not leave them
  // running.
  for (int b = 0; b < kBatches; ++b) {
    const v1::AppendBatchRequest req = Batch(absl::StrCat("u", b), kBound / 2);
    int attempts = 0;
    grpc::Status s;
    while (attempts < 20) {
      ++attempts;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::AppendBatchResponse resp;
      s = stub_->AppendBatch(&ctx, req, &resp);
      if (s.ok()) {
        receipts.insert(receipts.end(), resp.receipts().begin(), resp.receipts().end());
        break;
      }
      ExpectPushback(s, ctx);
      ++refusals;
      const auto& md = ctx.GetServerTrailingMetadata();
      const auto it = md.find("grpc-retry-pushback-ms");
      const int ms = it == md.end() ? 1 : std::stoi(std::string(it->second.data(), it->second.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    EXPECT_TRUE(s.ok()) << "batch " << b << " refused " << attempts << " times: "
                        << s.error_message();
    if (!s.ok()) break;
    EXPECT_LE(attempts, 2) << "batch " << b;
  }
  EXPECT_EQ(receipts.size(), static_cast<size_t>(kBatches) * (kBound / 2));
  const auto during = Scrape(metrics_port_);
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(refusals, 0) << "the streams never filled the daemon";
  // Each refused batch's resend took the room reserved for it.
  ASSERT_EQ(during.count("indelible_ingest_reserved_events"), 1u);
  EXPECT_EQ(during.at("indelible_ingest_reserved_events"), 0);
  for (const StreamRun& s : streams) {
    EXPECT_TRUE(s.status.ok()) << s.status.error_message();
    EXPECT_EQ(s.receipts.size(), static_cast<size_t>(s.sent) * kStreamBatch);
  }
  // Each admitted batch is in the chain as its receipts say.
  ExpectInChain(receipts, ReadChain());
}

}  // namespace
}  // namespace indelible
