#include "verifier/check/parallel_sink.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/verifier/test_chain.h"
#include "verifier/check/chain_checker.h"

namespace indelible::check {
namespace {

using testing::CollectingReporter;
using testing::TestRecord;

struct Tenant {
  std::string name;
  std::vector<TestRecord> records;
};

// Three tenants with damage sprinkled over them at random (seeded).
std::vector<Tenant> DamagedTenants() {
  std::mt19937 rng(42);
  std::vector<Tenant> out;
  for (const char* name : {"a", "b", "c"}) {
    Tenant t{name, testing::MakeChain(name, 300)};
    for (int i = 0; i < 12; ++i) {
      TestRecord& r = t.records[rng() % t.records.size()];
      switch (rng() % 4) {
        case 0: r.body[20] ^= 1; break;
        case 1: r.skeleton.entry_hash[5] ^= 1; break;
        case 2: r.has_body = false; r.body.clear(); break;
        case 3: r.skeleton.received_at_ns = 1; break;
      }
    }
    t.records.erase(t.records.begin() + 100 + rng() % 50);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Finding> Feed(const std::vector<Tenant>& tenants, CheckSink* sink) {
  for (const Tenant& t : tenants) {
    ChainChecker checker(t.name, HeadRow{}, sink);
    for (const auto& r : t.records) checker.AddRecord(r.view());
    checker.Finish();
  }
  return {};
}

std::vector<std::string> Strings(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(ToString(f));
  return out;
}

TEST(ParallelSinkTest, SameFindingsInTheSameOrderAsInline) {
  const auto tenants = DamagedTenants();
  CollectingReporter inline_reporter;
  {
    InlineSink sink(&inline_reporter);
    Feed(tenants, &sink);
  }
  ASSERT_GT(inline_reporter.findings.size(), 20u);
  const auto want = Strings(inline_reporter.findings);

  struct Config {
    int threads;
    size_t chunk_records;
    int max_in_flight;
  };
  for (Config c : {Config{0, 7, 0}, Config{1, 1, 0}, Config{2, 64, 1},
                   Config{3, 13, 0}, Config{4, 100000, 0}}) {
    SCOPED_TRACE(::testing::Message() << "threads " << c.threads << " chunk "
                                      << c.chunk_records);
    CollectingReporter reporter;
    uint64_t last_progress = 0;
    {
      ParallelSinkOptions o;
      o.threads = c.threads;
      o.chunk_records = c.chunk_records;
      o.max_in_flight = c.max_in_flight;
      ParallelSink sink(o, &reporter);
      sink.set_progress([&](uint64_t n) { last_progress = n; });
      Feed(tenants, &sink);
      sink.Flush();
      EXPECT_EQ(sink.records_delivered(), 3u * 299);
    }
    EXPECT_EQ(last_progress, 3u * 299);
    EXPECT_EQ(Strings(reporter.findings), want);
  }
}

TEST(ParallelSinkTest, ChunksBoundedByBytes) {
  CollectingReporter reporter;
  ParallelSinkOptions o;
  o.threads = 2;
  o.chunk_bytes = 1000;  // a few records per chunk
  ParallelSink sink(o, &reporter);
  auto chain = testing::MakeChain("acme", 50);
  chain[30].body.back() ^= 1;
  ChainChecker checker("acme", HeadRow{}, &sink);
  for (const auto& r : chain) checker.AddRecord(r.view());
  checker.Finish();
  sink.Flush();
  ASSERT_EQ(reporter.findings.size(), 2u);  // the body, the missing head row
  EXPECT_EQ(reporter.findings[0].seq, 31u);
  EXPECT_EQ(reporter.findings[0].kind, Kind::kBodyDigestMismatch);
}

// An ordered step that names every 5th record it sees, with the size and a
// hash of the body it was handed, and notes the order records came in.
class NamingStep final : public OrderedStep {
 public:
  void Step(const RecordView& r, uint32_t flags, Reporter* out) override {
    seen.push_back(r.seq);
    if (r.seq % 5 != flags) return;
    out->Report(Finding{"step", r.seq, Kind::kMalformed,
                        std::to_string(r.body.size()) + " " +
                            std::to_string(std::hash<std::string_view>()(r.body))});
  }
  std::vector<uint64_t> seen;
};

// Each record goes to the checker and then, with a flag of 0..4, to the
// step; every 9th record is also followed once more under another seq and
// without its body (so not sharing the copy made for its content check),
// after a finding of the reader's own.
void FeedWithSteps(const std::vector<Tenant>& tenants, CheckSink* sink,
                   const std::function<void(const std::string&, const RecordView&,
                                            uint32_t)>& follow) {
  for (const Tenant& t : tenants) {
    ChainChecker checker(t.name, HeadRow{}, sink);
    for (const auto& rec : t.records) {
      checker.AddRecord(rec.view());
      follow(t.name, rec.view(), static_cast<uint32_t>(rec.seq % 3));
      if (rec.seq % 9 == 0) {
        sink->Report(Finding{t.name, rec.seq, Kind::kMalformed, "reader"});
        RecordView other = rec.view();
        other.seq += 1000;
        other.has_body = false;
        other.body = {};
        follow(t.name, other, 0);
      }
    }
    checker.Finish();
  }
}

TEST(ParallelSinkTest, StepFindingsInStreamOrderWhateverTheThreads) {
  const auto tenants = DamagedTenants();
  CollectingReporter inline_reporter;
  NamingStep inline_step;
  {
    InlineSink sink(&inline_reporter);
    FeedWithSteps(tenants, &sink, [&](const std::string&, const RecordView& r, uint32_t f) {
      inline_step.Step(r, f, &inline_reporter);
    });
  }
  const auto want = Strings(inline_reporter.findings);
  ASSERT_GT(want.size(), 100u);

  struct Config {
    int threads;
    size_t chunk_records;
    size_t chunk_bytes;
  };
  for (Config c : {Config{0, 7, 1 << 20}, Config{1, 1, 1 << 20}, Config{2, 13, 1000},
                   Config{3, 100000, 1 << 20}, Config{2, 64, 700}}) {
    SCOPED_TRACE(::testing::Message() << "threads " << c.threads << " chunk "
                                      << c.chunk_records << " bytes " << c.chunk_bytes);
    CollectingReporter reporter;
    NamingStep step;
    {
      ParallelSinkOptions o;
      o.threads = c.threads;
      o.chunk_records = c.chunk_records;
      o.chunk_bytes = c.chunk_bytes;
      ParallelSink sink(o, &reporter);
      FeedWithSteps(tenants, &sink, [&](const std::string& t, const RecordView& r, uint32_t f) {
        sink.Follow(&step, t, r, f);
      });
      sink.Flush();
    }
    EXPECT_EQ(step.seen, inline_step.seen);
    EXPECT_EQ(Strings(reporter.findings), want);
  }
}

// A step that holds the first record until released.
class StalledStep final : public OrderedStep {
 public:
  void Step(const RecordView& r, uint32_t, Reporter*) override {
    if (r.seq != 1) return;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return released_; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

TEST(ParallelSinkTest, AStalledStepHoldsUpTheReaderAfterMaxInFlightChunks) {
  const auto chain = testing::MakeChain("acme", 200);
  CollectingReporter reporter;
  ParallelSinkOptions o;
  o.threads = 2;
  o.chunk_records = 1;
  o.max_in_flight = 3;
  ParallelSink sink(o, &reporter);
  StalledStep step;
  std::atomic<size_t> accepted{0};
  std::thread reader([&] {
    for (const auto& r : chain) {
      sink.CheckContent("acme", r.view(), nullptr);
      sink.Follow(&step, "acme", r.view(), 0);
      ++accepted;
    }
    sink.Flush();
  });
  // max_in_flight chunks of one record queued, and the current one.
  const size_t bound = o.max_in_flight + 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (accepted.load() < bound && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(accepted.load(), bound);
  step.Release();
  reader.join();
  EXPECT_EQ(accepted.load(), chain.size());
  EXPECT_EQ(sink.records_delivered(), chain.size());
}

}  // namespace
}  // namespace indelible::check
