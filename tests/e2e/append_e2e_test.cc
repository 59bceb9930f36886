// End-to-end, against the real indelibled: AppendStream answers every
// request before a bad one and names it; the 16 MiB request limit, refused
// by the daemon distinctly from a full disk, and never reached by the client
// library or `indelible append --stdin` with valid events.
#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/batching_appender.h"
#include "client/client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

v1::Event MakeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.mutable_actor()->set_id("alice@example.com");
  e.set_action("customer.read");
  return e;
}

// A valid event of about 60 KB: 15 metadata values of 4000 bytes (the
// daemon allows 64 entries of 4096 bytes and 64 KiB per event).
v1::Event LargeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e = MakeEvent(tenant, id);
  for (int i = 0; i < 15; ++i) {
    auto* m = e.add_metadata();
    m->set_key(absl::StrCat("k", i));
    m->set_value(std::string(4000, static_cast<char>('a' + i)));
  }
  return e;
}

class AppendE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    client::ClientOptions o;
    o.target = daemon_->target();
    o.deadline = std::chrono::seconds(60);
    auto c = client::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
    channel_ = grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials());
    stub_ = v1::AuditLog::NewStub(channel_);
  }

  // Event ids of the tenant's records, by seq.
  std::map<uint64_t, std::string> StoredIds(const std::string& tenant) {
    std::map<uint64_t, std::string> ids;
    auto s = client_->ReadRecords(tenant, 1, 0, [&](const v1::Record& r) {
      ids[r.seq()] = r.event().event_id();
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return ids;
  }

  struct StreamResult {
    std::vector<v1::AppendBatchResponse> responses;
    grpc::Status status;
  };
  // Writes every request, half-closes, then reads every response.
  StreamResult Stream(const std::vector<v1::AppendBatchRequest>& requests) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub_->AppendStream(&ctx);
    // A write after the daemon ended the stream fails; that is expected.
    for (const auto& r : requests) {
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
    StreamResult out;
    v1::AppendBatchResponse resp;
    while (stream->Read(&resp)) out.responses.push_back(resp);
    out.status = stream->Finish();
    return out;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<client::Client> client_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuditLog::Stub> stub_;
};

// [valid, invalid, valid], many times: the bad request used to end the
// stream before the first (already stored) batch was answered, depending on
// which came first, its commit or the read of the next request.
TEST_F(AppendE2E, AppendStreamAnswersEveryRequestBeforeABadOne) {
  constexpr int kRounds = 30, kFirst = 5, kLast = 3;
  std::map<uint64_t, std::string> receipts;  // seq -> entry hash
  for (int round = 0; round < kRounds; ++round) {
    const std::string p = absl::StrCat("r", round, "-");
    std::vector<v1::AppendBatchRequest> reqs(3);
    for (int i = 0; i < kFirst; ++i) {
      *reqs[0].add_events() = MakeEvent("acme", absl::StrCat(p, "0-", i));
    }
    v1::Event bad = MakeEvent("acme", p + "1-0");
    bad.mutable_actor()->clear_id();
    *reqs[1].add_events() = bad;
    *reqs[1].add_events() = MakeEvent("acme", p + "1-1");
    for (int i = 0; i < kLast; ++i) {
      *reqs[2].add_events() = MakeEvent("acme", absl::StrCat(p, "2-", i));
    }
    StreamResult r = Stream(reqs);
    ASSERT_EQ(r.responses.size(), 1u)
        << "round " << round << ": the stored first batch was not answered; status "
        << r.status.error_code() << " " << r.status.error_message();
    ASSERT_EQ(r.responses[0].receipts_size(), kFirst) << "round " << round;
    for (const auto& rc : r.responses[0].receipts()) {
      EXPECT_FALSE(rc.duplicate());
      receipts[rc.seq()] = rc.entry_hash();
    }
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "round " << round;
    EXPECT_TRUE(absl::StartsWith(r.status.error_message(),
                                 "requests[1].events[0].actor.id: required"))
        << r.status.error_message();
  }
  // Exactly the first batches are stored, as their receipts say; nothing of
  // the bad requests or after them.
  const std::map<uint64_t, std::string> stored = StoredIds("acme");
  EXPECT_EQ(stored.size(), static_cast<size_t>(kRounds * kFirst));
  EXPECT_EQ(receipts.size(), stored.size());
  for (const auto& [seq, id] : stored) {
    EXPECT_TRUE(absl::StrContains(id, "-0-")) << "stored " << id << " at seq " << seq;
    EXPECT_EQ(receipts.count(seq), 1u) << "seq " << seq << " stored without a receipt";
  }
}

// [valid, a stored id with other content, valid], many times: the reused id
// is a bad request like an invalid one: the batch before it is answered,
// and nothing at or after it is stored.
TEST_F(AppendE2E, AppendStreamReusedIdEndsTheStreamAndStoresNothingAfter) {
  ASSERT_EQ(Stream({[] {
              v1::AppendBatchRequest r;
              *r.add_events() = MakeEvent("acme", "taken");
              return r;
            }()}).responses.size(),
            1u);
  constexpr int kRounds = 30;
  for (int round = 0; round < kRounds; ++round) {
    const std::string p = absl::StrCat("r", round, "-");
    std::vector<v1::AppendBatchRequest> reqs(3);
    *reqs[0].add_events() = MakeEvent("acme", p + "0");
    v1::Event reused = MakeEvent("acme", "taken");
    reused.set_reason("another event under a stored id");
    *reqs[1].add_events() = reused;
    *reqs[2].add_events() = MakeEvent("acme", p + "2");
    StreamResult r = Stream(reqs);
    ASSERT_EQ(r.responses.size(), 1u) << "round " << round << ": " << r.status.error_message();
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << "round " << round;
    EXPECT_TRUE(absl::StartsWith(r.status.error_message(), "requests[1].events[0].event_id"))
        << r.status.error_message();
  }
  for (const auto& [seq, id] : StoredIds("acme")) {
    EXPECT_FALSE(absl::EndsWith(id, "-2")) << "stored " << id << " at seq " << seq
                                           << " after the refused request";
  }
}

TEST_F(AppendE2E, AppendStreamErrorNamesTheRequest) {
  // A bad first request: no response, nothing stored.
  {
    std::vector<v1::AppendBatchRequest> reqs(2);
    *reqs[1].add_events() = MakeEvent("acme", "after-empty");
    StreamResult r = Stream(reqs);
    EXPECT_TRUE(r.responses.empty());
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(r.status.error_message(), "requests[0].events: at least one event required");
  }
  // The third request's second event: two responses first.
  {
    std::vector<v1::AppendBatchRequest> reqs(4);
    *reqs[0].add_events() = MakeEvent("acme", "a-0");
    *reqs[1].add_events() = MakeEvent("acme", "a-1");
    *reqs[2].add_events() = MakeEvent("acme", "a-2");
    v1::Event reserved = MakeEvent("acme", "a-2b");
    reserved.set_category("indelible.admin");
    *reqs[2].add_events() = reserved;
    *reqs[3].add_events() = MakeEvent("acme", "a-3");
    StreamResult r = Stream(reqs);
    ASSERT_EQ(r.responses.size(), 2u) << r.status.error_message();
    EXPECT_EQ(r.responses[0].receipts(0).seq(), 1u);
    EXPECT_EQ(r.responses[1].receipts(0).seq(), 2u);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StartsWith(r.status.error_message(), "requests[2].events[1].category: "))
        << r.status.error_message();
  }
  EXPECT_EQ(StoredIds("acme"), (std::map<uint64_t, std::string>{{1, "a-0"}, {2, "a-1"}}));
  // The unary AppendBatch names the field without a request index.
  v1::AppendBatchRequest req;
  *req.add_events() = MakeEvent("acme", "u-0");
  req.mutable_events(0)->mutable_actor()->clear_id();
  grpc::ClientContext ctx;
  v1::AppendBatchResponse resp;
  grpc::Status s = stub_->AppendBatch(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "events[0].actor.id: required");
}

// Over 16 MiB: the daemon's gRPC refuses the message before the service
// sees it, with RESOURCE_EXHAUSTED and a message saying so (a full disk says
// "disk full: ..."; fault_e2e_test). The client library refuses such a
// request itself with INVALID_ARGUMENT, and BatchingAppender splits batches
// so valid events never hit the limit.
TEST_F(AppendE2E, RequestOverTheMessageLimit) {
  std::vector<v1::Event> events;
  v1::AppendBatchRequest req;
  for (int i = 0; i < 300; ++i) {
    events.push_back(LargeEvent("acme", absl::StrCat("big-", i)));
    *req.add_events() = events.back();
  }
  ASSERT_GT(req.ByteSizeLong(), client::kMaxRequestBytes);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::AppendBatchResponse resp;
    grpc::Status s = stub_->AppendBatch(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(),
                                  absl::StrCat("Received message larger than max (",
                                               req.ByteSizeLong(), " vs. 16777216)")))
        << s.error_message();
    EXPECT_FALSE(absl::StrContains(s.error_message(), "disk full"));
  }
  // One request is exactly the sum of EventRequestBytes.
  size_t sum = 0;
  for (const auto& e : events) sum += client::EventRequestBytes(e);
  EXPECT_EQ(sum, req.ByteSizeLong());

  auto batch = client_->AppendBatch(events);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(batch.status().message(),
                               absl::StrCat("events: the batch is ", sum, " bytes encoded")))
      << batch.status();

  v1::Event huge = MakeEvent("acme", "huge-1");
  huge.mutable_metadata()->Add()->set_key("blob");
  huge.mutable_metadata(0)->set_value(std::string(client::kMaxRequestBytes, 'x'));
  auto one = client_->Append(huge);
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(one.status().message(), "event: event \"huge-1\" is "))
      << one.status();
  EXPECT_EQ(client_->GetHead("acme")->seq(), 0u);

  // BatchingAppender sends the 300 events in batches under the limit.
  {
    client::BatchingAppenderOptions o;
    o.max_batch_events = 1000;
    client::BatchingAppender appender(client_.get(), o);
    std::mutex mu;
    std::vector<absl::Status> results(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_TRUE(appender
                      .Enqueue(events[i],
                               [&, i](absl::StatusOr<v1::Receipt> r) {
                                 std::lock_guard<std::mutex> l(mu);
                                 results[i] = r.status();
                               })
                      .ok());
    }
    appender.Flush();
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
    }
  }
  const auto stored = StoredIds("acme");
  ASSERT_EQ(stored.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(stored.at(i + 1), events[i].event_id());
  }
}

std::string JsonLine(const v1::Event& e) {
  std::string line = absl::StrCat("{\"tenant\":\"", e.tenant(), "\",\"event_id\":\"",
                                  e.event_id(), "\",\"actor_id\":\"", e.actor().id(),
                                  "\",\"action\":\"", e.action(), "\",\"metadata\":{");
  for (int i = 0; i < e.metadata_size(); ++i) {
    absl::StrAppend(&line, i == 0 ? "" : ",", "\"", e.metadata(i).key(), "\":\"",
                    e.metadata(i).value(), "\"");
  }
  return line + "}}\n";
}

// 600 valid ~60 KB events at the default --batch-size (500): 30 MB, which
// one AppendBatch would carry over the limit.
TEST_F(AppendE2E, CliAppendStdinSplitsBatchesByBytes) {
  constexpr int kEvents = 600;
  std::string in;
  for (int i = 0; i < kEvents; ++i) in += JsonLine(LargeEvent("acme", absl::StrCat("cli-", i)));
  auto r = RunCommand({BinPath("indelible"), "--target", daemon_->target(), "--timeout", "60s",
                       "append", "--stdin"},
                      in, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), kEvents);
  const auto stored = StoredIds("acme");
  ASSERT_EQ(stored.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(stored.at(i + 1), absl::StrCat("cli-", i));
  }

  // An event too large to send at all is named by its line and id; the
  // lines before it are stored, nothing from it on.
  v1::Event huge = MakeEvent("acme", "cli-huge");
  huge.mutable_metadata()->Add()->set_key("blob");
  huge.mutable_metadata(0)->set_value(std::string(client::kMaxRequestBytes, 'x'));
  r = RunCommand({BinPath("indelible"), "--target", daemon_->target(), "append", "--stdin"},
                 JsonLine(MakeEvent("acme", "cli-before")) + JsonLine(huge) +
                     JsonLine(MakeEvent("acme", "cli-after")));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(absl::StrContains(
      r.err, "line 2: INVALID_ARGUMENT: event \"cli-huge\" is "))
      << r.err;
  const auto after = StoredIds("acme");
  ASSERT_EQ(after.size(), static_cast<size_t>(kEvents + 1));
  EXPECT_EQ(after.rbegin()->second, "cli-before");
}

}  // namespace
}  // namespace indelible
