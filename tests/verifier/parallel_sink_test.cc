#include "verifier/check/parallel_sink.h"

#include <random>
#include <string>
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

}  // namespace
}  // namespace indelible::check
