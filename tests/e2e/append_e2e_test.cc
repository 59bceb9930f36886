// End-to-end, against the real indelibled: AppendStream answers every
// request before a bad one and names it.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::DaemonProcess;
using testing::TempDir;

v1::Event MakeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.mutable_actor()->set_id("alice@example.com");
  e.set_action("customer.read");
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

}  // namespace
}  // namespace indelible
