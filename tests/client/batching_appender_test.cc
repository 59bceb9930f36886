#include "client/batching_appender.h"

#include <atomic>
#include <regex>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"

namespace indelible::client {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using testing::Answers;
using testing::FakeServer;
using testing::MakeEvent;

constexpr auto kNever = std::chrono::hours(1);  // an age that never comes

// Records backoff delays instead of sleeping.
struct Sleeps {
  std::mutex mu;
  std::vector<microseconds> delays;
  std::function<void(microseconds)> Fn() {
    return [this](microseconds d) {
      std::lock_guard<std::mutex> l(mu);
      delays.push_back(d);
    };
  }
  std::vector<microseconds> Get() {
    std::lock_guard<std::mutex> l(mu);
    return delays;
  }
};

class BatchingAppenderTest : public ::testing::Test {
 protected:
  BatchingAppenderTest() {
    ClientOptions o;
    o.target = server_.target();
    o.deadline = std::chrono::seconds(5);
    client_ = std::move(*Client::Connect(o));
  }

  BatchingAppenderOptions Options() {
    BatchingAppenderOptions o;
    o.max_batch_age = kNever;
    o.initial_backoff = microseconds(100);
    o.max_backoff = microseconds(400);
    o.jitter = false;
    o.sleep = sleeps_.Fn();
    return o;
  }

  testing::FakeAuditLog& fake() { return server_.service(); }

  FakeServer server_;
  std::unique_ptr<Client> client_;
  Sleeps sleeps_;
  Answers answers_;
};

TEST_F(BatchingAppenderTest, FlushesBySize) {
  BatchingAppenderOptions o = Options();
  o.max_batch_events = 4;
  BatchingAppender a(client_.get(), o);
  for (size_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(
        a.Enqueue(MakeEvent("acme", "e" + std::to_string(i)), answers_.At(i))
            .ok());
  }
  ASSERT_TRUE(answers_.WaitFor(8));
  EXPECT_EQ(fake().batch_sizes(), (std::vector<size_t>{4, 4}));
  for (size_t i = 0; i < 8; ++i) {
    auto r = answers_.Get(i);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->seq(), i + 1);  // enqueue order is chain order
  }
}

TEST_F(BatchingAppenderTest, SplitsBatchesByBytes) {
  v1::Event sized = MakeEvent("acme", "e0");
  sized.add_metadata()->set_key("pad");
  sized.mutable_metadata(0)->set_value(std::string(1000, 'p'));
  const size_t bytes = EventRequestBytes(sized);
  BatchingAppenderOptions o = Options();
  o.max_batch_events = 100;
  o.max_batch_bytes = 3 * bytes;  // three events of the same size
  BatchingAppender a(client_.get(), o);
  for (size_t i = 0; i < 10; ++i) {
    v1::Event e = sized;
    e.set_event_id("e" + std::to_string(i));  // same length: same size
    ASSERT_EQ(EventRequestBytes(e), bytes);
    ASSERT_TRUE(a.Enqueue(e, answers_.At(i)).ok());
  }
  // Three full batches go without waiting for the age or a flush.
  ASSERT_TRUE(answers_.WaitFor(9));
  a.Flush();
  EXPECT_EQ(fake().batch_sizes(), (std::vector<size_t>{3, 3, 3, 1}));
  for (size_t i = 0; i < 10; ++i) {
    auto r = answers_.Get(i);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->seq(), i + 1);
  }
}

TEST_F(BatchingAppenderTest, EventTooLargeToSendFailsAloneNamingIt) {
  v1::Event huge = MakeEvent("acme", "huge");
  huge.add_metadata()->set_key("blob");
  huge.mutable_metadata(0)->set_value(std::string(kMaxRequestBytes, 'x'));
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "before"), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(huge, answers_.At(1)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "after"), answers_.At(2)).ok());
  a.Flush();
  ASSERT_TRUE(answers_.Get(0).ok()) << answers_.Get(0).status();
  ASSERT_TRUE(answers_.Get(2).ok()) << answers_.Get(2).status();
  const absl::Status s = answers_.Get(1).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), "events[0]: event \"huge\" is ")) << s;
  EXPECT_EQ(fake().batch_sizes(), (std::vector<size_t>{1, 1}));  // never sent
  EXPECT_EQ(fake().stored_events("acme").size(), 2u);
}

TEST_F(BatchingAppenderTest, FlushesByAge) {
  BatchingAppenderOptions o = Options();
  o.max_batch_events = 1000;
  o.max_batch_age = milliseconds(20);
  BatchingAppender a(client_.get(), o);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        a.Enqueue(MakeEvent("acme", "e" + std::to_string(i)), answers_.At(i))
            .ok());
  }
  ASSERT_TRUE(answers_.WaitFor(3));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
  EXPECT_EQ(fake().batch_sizes(), std::vector<size_t>{3});
}

TEST_F(BatchingAppenderTest, RetriesUnavailableWithBackoffThenSucceeds) {
  fake().FailNext(3, grpc::StatusCode::UNAVAILABLE);
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e2"), answers_.At(1)).ok());
  a.Flush();
  ASSERT_TRUE(answers_.Get(0).ok()) << answers_.Get(0).status();
  ASSERT_TRUE(answers_.Get(1).ok());
  EXPECT_EQ(answers_.Get(1)->seq(), 2u);
  EXPECT_EQ(fake().append_calls(), 4);
  EXPECT_EQ(sleeps_.Get(),
            (std::vector<microseconds>{microseconds(100), microseconds(200),
                                       microseconds(400)}));
  EXPECT_EQ(fake().stored_events("acme").size(), 2u);
}

TEST_F(BatchingAppenderTest, RetriesDeadlineExceededAndKeepsItIdempotent) {
  // The server stores the batch but the answer is lost: the retry must get
  // the first receipts back, not a second copy of the events.
  fake().LoseResponses(1, grpc::StatusCode::DEADLINE_EXCEEDED);
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(0)).ok());
  a.Flush();
  auto r = answers_.Get(0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->duplicate());
  EXPECT_EQ(r->seq(), 1u);
  EXPECT_EQ(fake().append_calls(), 2);
  EXPECT_EQ(fake().stored_events("acme").size(), 1u);
}

TEST_F(BatchingAppenderTest, GivesUpAfterMaxRetries) {
  fake().FailNext(100, grpc::StatusCode::UNAVAILABLE);
  BatchingAppenderOptions o = Options();
  o.max_retries = 5;
  BatchingAppender a(client_.get(), o);
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(0)).ok());
  a.Flush();
  EXPECT_EQ(answers_.Get(0).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake().append_calls(), 6);
  std::vector<microseconds> want = {microseconds(100), microseconds(200),
                                    microseconds(400), microseconds(400),
                                    microseconds(400)};
  EXPECT_EQ(sleeps_.Get(), want);
}

TEST_F(BatchingAppenderTest, NoRetryOnInvalidArgument) {
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1", ""), answers_.At(0)).ok());
  a.Flush();
  auto r = answers_.Get(0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "events[0].action: required");
  EXPECT_EQ(fake().append_calls(), 1);
  EXPECT_TRUE(sleeps_.Get().empty());
}

TEST_F(BatchingAppenderTest, NoRetryOnOtherErrors) {
  fake().FailNext(1, grpc::StatusCode::RESOURCE_EXHAUSTED);
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(0)).ok());
  a.Flush();
  EXPECT_EQ(answers_.Get(0).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fake().append_calls(), 1);
}

TEST_F(BatchingAppenderTest, RetriesBusyResourceExhausted) {
  // The daemon's flow control refused the batch and stored nothing.
  fake().FailNext(2, grpc::StatusCode::RESOURCE_EXHAUSTED,
                  "busy: the daemon holds max_queued_events (4096) events not yet "
                  "committed; nothing was stored; retry after 3 ms (grpc-retry-pushback-ms)");
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(0)).ok());
  a.Flush();
  ASSERT_TRUE(answers_.Get(0).ok()) << answers_.Get(0).status();
  EXPECT_EQ(fake().append_calls(), 3);
  EXPECT_EQ(sleeps_.Get().size(), 2u);
  EXPECT_EQ(fake().stored_events("acme").size(), 1u);
}

TEST_F(BatchingAppenderTest, OneBadEventDoesNotFailItsBatch) {
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "good1"), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "bad", ""), answers_.At(1)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "good2"), answers_.At(2)).ok());
  a.Flush();
  EXPECT_TRUE(answers_.Get(0).ok());
  EXPECT_EQ(answers_.Get(1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(answers_.Get(2).ok());
  EXPECT_EQ(fake().batch_sizes(), (std::vector<size_t>{3, 1, 1, 1}));
  EXPECT_EQ(fake().stored_events("acme").size(), 2u);
}

// ALREADY_EXISTS (an event id reused for a different event) is a rejection
// of one event: never retried, and isolated like INVALID_ARGUMENT so the
// other events of its batch are stored.
TEST_F(BatchingAppenderTest, AlreadyExistsIsIsolatedNotRetried) {
  fake().FailNext(1, grpc::StatusCode::ALREADY_EXISTS);
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e2"), answers_.At(1)).ok());
  a.Flush();
  EXPECT_TRUE(answers_.Get(0).ok()) << answers_.Get(0).status();
  EXPECT_TRUE(answers_.Get(1).ok()) << answers_.Get(1).status();
  EXPECT_EQ(fake().batch_sizes(), (std::vector<size_t>{2, 1, 1}));
  EXPECT_TRUE(sleeps_.Get().empty());
  fake().FailNext(1, grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e3"), answers_.At(2)).ok());
  a.Flush();
  EXPECT_EQ(answers_.Get(2).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(fake().append_calls(), 4);
  EXPECT_TRUE(sleeps_.Get().empty());
}

TEST_F(BatchingAppenderTest, WithoutIsolationTheWholeBatchFails) {
  BatchingAppenderOptions o = Options();
  o.isolate_rejected = false;
  BatchingAppender a(client_.get(), o);
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "good"), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "bad", ""), answers_.At(1)).ok());
  a.Flush();
  EXPECT_EQ(answers_.Get(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(answers_.Get(1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake().append_calls(), 1);
}

TEST_F(BatchingAppenderTest, BoundedQueueRejectsWhenFull) {
  BatchingAppenderOptions o = Options();
  o.max_queue = 3;
  o.max_batch_events = 2;
  fake().Block();
  BatchingAppender a(client_.get(), o);
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e0"), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e1"), answers_.At(1)).ok());
  ASSERT_TRUE(fake().WaitForBlockedCalls(1));  // batch {e0, e1} in flight
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "e2"), answers_.At(2)).ok());
  bool called = false;
  absl::Status full =
      a.Enqueue(MakeEvent("acme", "e3"),
                [&](absl::StatusOr<v1::Receipt>) { called = true; });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);

  fake().Unblock();
  a.Flush();
  EXPECT_EQ(answers_.count(), 3u);
  EXPECT_FALSE(called);  // a refused event is never answered
  EXPECT_TRUE(a.Enqueue(MakeEvent("acme", "e3"), answers_.At(3)).ok());
  a.Flush();
  EXPECT_TRUE(answers_.Get(3).ok());
  EXPECT_EQ(answers_.Get(3)->seq(), 4u);
}

TEST_F(BatchingAppenderTest, FlushWaitsForEveryEarlierEvent) {
  BatchingAppenderOptions o = Options();
  o.max_batch_events = 1000;  // neither size nor age would send these
  BatchingAppender a(client_.get(), o);
  a.Flush();  // nothing pending: returns at once
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        a.Enqueue(MakeEvent("acme", "e" + std::to_string(i)), answers_.At(i))
            .ok());
  }
  a.Flush();
  EXPECT_EQ(answers_.count(), 5u);
  EXPECT_EQ(fake().batch_sizes(), std::vector<size_t>{5});
}

TEST_F(BatchingAppenderTest, DestructorAnswersEverything) {
  {
    BatchingAppender a(client_.get(), Options());
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          a.Enqueue(MakeEvent("acme", "e" + std::to_string(i)), answers_.At(i))
              .ok());
    }
  }
  EXPECT_EQ(answers_.count(), 3u);
  EXPECT_EQ(fake().stored_events("acme").size(), 3u);
}

TEST_F(BatchingAppenderTest, AssignsEventIdWhenMissing) {
  BatchingAppender a(client_.get(), Options());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", ""), answers_.At(0)).ok());
  ASSERT_TRUE(a.Enqueue(MakeEvent("acme", "mine"), answers_.At(1)).ok());
  a.Flush();
  auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_TRUE(std::regex_match(
      stored[0].event_id(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                 "[0-9a-f]{12}")))
      << stored[0].event_id();
  EXPECT_EQ(stored[1].event_id(), "mine");
}

TEST_F(BatchingAppenderTest, ManyThreadsEnqueueConcurrently) {
  BatchingAppenderOptions o = Options();
  o.max_batch_events = 16;
  o.max_batch_age = milliseconds(1);
  BatchingAppender a(client_.get(), o);
  constexpr int kThreads = 4, kPerThread = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto done = [&](absl::StatusOr<v1::Receipt> r) {
          if (r.ok()) ++ok;
        };
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(a.Enqueue(MakeEvent("acme", id), done).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  a.Flush();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(fake().stored_events("acme").size(),
            static_cast<size_t>(kThreads * kPerThread));
  for (size_t n : fake().batch_sizes()) EXPECT_LE(n, 16u);
}

}  // namespace
}  // namespace indelible::client
