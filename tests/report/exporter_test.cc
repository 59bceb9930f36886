// Export formats its rows on the check's worker threads, chunk by chunk:
// the report must be byte for byte what formatting the same records one at
// a time gives, whatever the chunking and however many threads.
#include "verifier/report/exporter.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "tests/verifier/test_chain.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/store/reader.h"

namespace indelible::report {
namespace {

using testing::CollectingReporter;
using testing::MakeChain;
using testing::RawStore;
using testing::TempDir;
using testing::TestRecord;

constexpr uint64_t kBaseNs = 1'700'000'000'000'000'000ULL;  // TestEvent's occurred_at

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// The report as the row functions write it, one record at a time.
std::string Reference(const std::vector<TestRecord>& chain, const Filters& filters,
                      Format format, uint64_t* rows) {
  std::string out = format == Format::kCsv ? CsvHeader() : JsonOpening("acme");
  chain::Digest prev = chain::Genesis("acme");
  *rows = 0;
  for (const TestRecord& r : chain) {
    Row row;
    row.seq = r.seq;
    row.received_at_ns = r.skeleton.received_at_ns;
    row.body_digest = r.skeleton.body_digest;
    row.entry_hash = r.skeleton.entry_hash;
    row.prev_entry_hash = prev;
    prev = r.skeleton.entry_hash;
    if (!r.has_body) continue;
    EXPECT_TRUE(store::DecodeBody(r.body, &row.salt, &row.canonical_event));
    auto event = chain::DecodeCanonicalEvent(row.canonical_event);
    EXPECT_TRUE(event.ok()) << event.status();
    row.event = *event;
    if (!filters.Matches(row)) continue;
    if (format == Format::kCsv) {
      out += CsvRow(row);
    } else {
      if (*rows > 0) out += kJsonRowSeparator;
      out += JsonRow(row);
    }
    ++*rows;
  }
  if (format == Format::kJson) out += *rows == 0 ? "]}\n" : std::string(kJsonClosing);
  return out;
}

class ExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("data");
    RawStore s(dir_, /*create=*/true);
    acme_ = MakeChain("acme", 100);
    // The retention policy on record that let them go (early_prune otherwise).
    testing::MakePolicyFirst("acme", &acme_, 86400);
    for (int i : {3, 4, 50}) {  // pruned by retention
      acme_[i].has_body = false;
      acme_[i].body.clear();
    }
    s.WriteChain("acme", acme_);
    s.WriteChain("globex", MakeChain("globex", 20));
  }

  absl::StatusOr<ExportResult> Run(const std::string& out, Format format,
                                   const Filters& filters, int threads, size_t chunk,
                                   CollectingReporter* reporter) {
    auto reader = store::Reader::Open(dir_);
    if (!reader.ok()) return reader.status();
    ExportOptions o;
    o.tenant = "acme";
    o.format = format;
    o.filters = filters;
    o.out_path = out;
    o.signer = &signer_;
    o.check.parallel.threads = threads;
    o.check.parallel.chunk_records = chunk;
    return Export(**reader, o, reporter);
  }

  TempDir tmp_;
  std::string dir_;
  std::vector<TestRecord> acme_;
  chain::NoteSigner signer_ = testing::TestSigner();
};

TEST_F(ExporterTest, RowsAreTheRecordsFormattedInOrder) {
  Filters from_seq_10;  // the first chunks format no row at all
  from_seq_10.time_field = Filters::TimeField::kOccurredAt;
  from_seq_10.from_ns = kBaseNs + 10;
  int n = 0;
  for (Format format : {Format::kCsv, Format::kJson}) {
    for (const Filters& filters : {Filters{}, from_seq_10}) {
      for (int threads : {0, 1, 2}) {
        for (size_t chunk : {size_t{1}, size_t{7}, size_t{64 * 1024}}) {
          SCOPED_TRACE(::testing::Message() << "format " << static_cast<int>(format)
                                            << " filtered " << filters.from_ns.has_value()
                                            << " threads " << threads << " chunk " << chunk);
          const std::string out = tmp_.Sub("r" + std::to_string(n++));
          CollectingReporter reporter;
          auto r = Run(out, format, filters, threads, chunk, &reporter);
          ASSERT_TRUE(r.ok()) << r.status();
          EXPECT_TRUE(reporter.findings.empty());
          ASSERT_TRUE(r->exported);
          uint64_t want_rows = 0;
          EXPECT_EQ(Slurp(out), Reference(acme_, filters, format, &want_rows));
          EXPECT_EQ(r->rows, want_rows);
          EXPECT_EQ(r->rows, filters.from_ns ? 100u - 9 - 1 : 100u - 3);
          EXPECT_EQ(r->pruned, 3u);
          EXPECT_FALSE(Exists(out + ".tmp"));
        }
      }
    }
  }
}

TEST_F(ExporterTest, NoRowMatchesGivesAnEmptyReport) {
  Filters none;
  none.actor_id = "nobody";
  for (Format format : {Format::kCsv, Format::kJson}) {
    const std::string out = tmp_.Sub(format == Format::kCsv ? "none.csv" : "none.json");
    CollectingReporter reporter;
    auto r = Run(out, format, none, 2, 7, &reporter);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->exported);
    EXPECT_EQ(r->rows, 0u);
    EXPECT_EQ(Slurp(out), format == Format::kCsv ? CsvHeader() : JsonOpening("acme") + "]}\n");
  }
}

TEST_F(ExporterTest, AFindingLeavesNoFileBehind) {
  {
    RawStore s(dir_);
    TestRecord r = acme_[60];
    r.body.back() ^= 1;  // a changed body: its digest no longer matches
    s.WriteRecord("acme", r);
  }
  const std::string out = tmp_.Sub("damaged.csv");
  CollectingReporter reporter;
  auto r = Run(out, Format::kCsv, Filters{}, 2, 7, &reporter);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->exported);
  ASSERT_EQ(reporter.findings.size(), 1u);
  EXPECT_EQ(reporter.findings[0].seq, 61u);
  for (const std::string& p : {out, out + ".tmp", SigPath(out), ManifestPath(out)}) {
    EXPECT_FALSE(Exists(p)) << p;
  }
}

}  // namespace
}  // namespace indelible::report
