// How fast the offline check runs: builds a store of INDELIBLE_PERF_RECORDS
// records (default 1,000,000; ~200-byte events, in 4 tenants, 1% pruned
// under the retention policy each chain records first),
// compacts it, and checks it with 0, 1 and 2 hashing threads, then runs the
// real binary on it. INDELIBLE_PERF_DIR=<new dir> keeps the store. Labelled
// "perf": not part of the CI suites. Prints records/s; asserts only a floor
// far below the goal (>= 1M records/s on 2 cores), since machines differ.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "tests/verifier/test_chain.h"
#include "verifier/check/store_check.h"
#include "verifier/store/reader.h"

namespace indelible::check {
namespace {

uint64_t RecordsWanted() {
  const char* v = getenv("INDELIBLE_PERF_RECORDS");
  return v != nullptr ? std::strtoull(v, nullptr, 10) : 1'000'000;
}

class NullReporter final : public Reporter {
 public:
  void Report(const Finding&) override { ++count; }
  uint64_t count = 0;
};

TEST(VerifyPerf, CheckRate) {
  testing::TempDir tmp;
  // INDELIBLE_PERF_DIR keeps the store (for profiling the binary on it).
  const char* keep = getenv("INDELIBLE_PERF_DIR");
  const std::string dir = keep != nullptr ? std::string(keep) : tmp.Sub("data");
  const uint64_t total = RecordsWanted();
  const int kTenants = 4;
  {
    testing::RawStore store(dir, /*create=*/true);
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < kTenants; ++t) {
      const std::string tenant = "tenant-" + std::to_string(t);
      // Built and written in slices to bound memory.
      const uint64_t n = total / kTenants;
      std::vector<testing::TestRecord> chain = testing::MakeChain(tenant, n);
      // Record 1: the tenant's retention policy, which allowed the pruning.
      testing::MakePolicyFirst(tenant, &chain, 86400);
      for (size_t i = 1; i < chain.size(); i += 100) {
        chain[i].has_body = false;  // pruned: skeleton only
      }
      for (size_t from = 0; from < chain.size(); from += 50'000) {
        const size_t to = std::min(chain.size(), from + 50'000);
        store.WriteChain(tenant, {chain.begin() + from, chain.begin() + to},
                         /*head=*/to == chain.size());
      }
    }
    store.Flush();
    ASSERT_TRUE(store.db()->CompactRange(rocksdb::CompactRangeOptions(),
                                         nullptr, nullptr).ok());
    std::printf("built %llu records in %.1f s\n",
                static_cast<unsigned long long>(total),
                std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start).count());
  }
  auto reader = store::Reader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (int threads : {0, 1, 2}) {
    StoreCheckOptions o;
    o.parallel.threads = threads;
    NullReporter reporter;
    auto result = CheckStore(**reader, o, &reporter);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(reporter.count, 0u);
    const double rate = result->records / result->seconds;
    std::printf("threads %d: %llu records in %.2f s = %.0f records/s\n",
                threads, static_cast<unsigned long long>(result->records),
                result->seconds, rate);
    EXPECT_GT(rate, 100'000);
  }
  reader->reset();
  // And the whole command, as a user runs it (open, check, JSON out).
  const auto start = std::chrono::steady_clock::now();
  testing::CommandResult r = testing::RunCommand(
      {testing::BinPath("indelible-verify"), "check", "--data-dir", dir,
       "--threads", "2"});
  const double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  // No key and no checkpoints here: checked, no findings, but not
  // verified (exit 3).
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("no findings"), std::string::npos) << r.out;
  std::printf("indelible-verify check --threads 2: %.2f s wall, %.0f records/s\n%s",
              secs, total / secs, r.out.c_str());
}

}  // namespace
}  // namespace indelible::check
