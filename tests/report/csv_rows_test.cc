// A CSV row read back: its cells rebuild the canonical event the row was
// written from, so its body digest is the record's, for any cell content
// (quotes, line breaks, formula triggers defused or kept, metadata), and a
// changed cell gives another digest.
#include "verifier/report/csv_rows.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/hash.h"
#include "verifier/report/report_rows.h"

namespace indelible::report {
namespace {

struct Written {
  std::string ce;
  Row row;
};

Written Sample() {
  Written w;
  Row& r = w.row;
  r.seq = 7;
  r.received_at_ns = 1700000000500000000ull;
  r.event.tenant = "acme";
  r.event.event_id = "e,1";
  r.event.occurred_at_ns = 1700000000000000001ull;
  r.event.actor_id = "-2+3";
  r.event.actor_ip = "::1";
  r.event.action = "=HYPERLINK(\"x\")";
  r.event.resource_id = "'quoted";
  r.event.reason = "said \"hi\"\r\nthen left";
  r.event.outcome = "@x";
  r.event.category = "access";
  r.event.metadata = {{"a", "1"}, {"b\"", "\xc3\xa9"}};
  static const std::string salt(16, '\x05');
  r.salt = salt;
  return w;
}

std::vector<std::vector<std::string>> Records(const std::string& csv) {
  std::vector<std::vector<std::string>> out;
  ForEachCsvRecord(csv, [&out](std::vector<std::string>& cells) { out.push_back(cells); });
  return out;
}

TEST(CsvRows, CellsRebuildTheCanonicalEvent) {
  for (CsvFormulas formulas : {CsvFormulas::kDefuse, CsvFormulas::kKeep}) {
    Written w = Sample();
    w.ce = *chain::EncodeCanonicalEvent(w.row.event);
    w.row.canonical_event = w.ce;
    const std::string csv = CsvRow(w.row, formulas);
    auto records = Records(csv);
    ASSERT_EQ(records.size(), 1u);
    auto p = ProvenCsvRow(records[0], formulas == CsvFormulas::kDefuse, "acme");
    ASSERT_TRUE(p.ok()) << p.status() << "\n" << csv;
    EXPECT_EQ(p->seq, 7u);
    EXPECT_EQ(p->category, "access");
    EXPECT_EQ(p->received_at_ns, w.row.received_at_ns);
    ASSERT_TRUE(p->body_digest.has_value());
    EXPECT_EQ(*p->body_digest, chain::BodyDigest(w.row.salt, w.ce)) << csv;
  }
}

TEST(CsvRows, ChangedCellGivesAnotherDigest) {
  Written w = Sample();
  w.ce = *chain::EncodeCanonicalEvent(w.row.event);
  w.row.canonical_event = w.ce;
  std::string csv = CsvRow(w.row);
  csv.replace(csv.find("then left"), 9, "then stayed");
  auto records = Records(csv);
  ASSERT_EQ(records.size(), 1u);
  auto p = ProvenCsvRow(records[0], true, "acme");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_NE(*p->body_digest, chain::BodyDigest(w.row.salt, w.ce));
}

TEST(CsvRows, MalformedRowsAreErrors) {
  Written w = Sample();
  const std::string csv = CsvRow(w.row);
  auto cells = Records(csv)[0];
  EXPECT_FALSE(ProvenCsvRow(cells, true, "globex").ok());  // another tenant
  for (size_t column : {1u, 2u, 3u, 15u, 16u, 17u}) {
    auto bad = Records(csv)[0];
    bad[column] = "x";
    EXPECT_FALSE(ProvenCsvRow(bad, true, "acme").ok()) << column;
  }
  auto short_row = Records(csv)[0];
  short_row.pop_back();
  EXPECT_FALSE(ProvenCsvRow(short_row, true, "acme").ok());
}

}  // namespace
}  // namespace indelible::report
