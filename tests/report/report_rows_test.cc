#include "verifier/report/report_rows.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/canonical_event.h"
#include "verifier/report/exporter.h"

namespace indelible::report {
namespace {

Row SampleRow(std::string* ce_storage) {
  Row r;
  r.seq = 7;
  r.received_at_ns = 1700000000500000000ull;
  r.event.tenant = "acme";
  r.event.event_id = "e,1";
  r.event.occurred_at_ns = 1700000000000000001ull;
  r.event.actor_id = "alice";
  r.event.action = "read";
  r.event.reason = "said \"hi\"\r\nthen left";
  r.event.category = "access";
  r.event.metadata = {{"a", "1"}};
  *ce_storage = *chain::EncodeCanonicalEvent(r.event);
  r.canonical_event = *ce_storage;
  static const std::string salt(16, '\x01');
  r.salt = salt;
  r.body_digest = chain::BodyDigest(r.salt, r.canonical_event);
  r.prev_entry_hash = chain::Genesis("acme");
  r.entry_hash = chain::EntryHash("acme", 7, r.received_at_ns, r.prev_entry_hash, r.body_digest);
  return r;
}

TEST(ReportRows, TimeIsRfc3339UtcNanos) {
  EXPECT_EQ(FormatTimeNs(1700000000500000000ull), "2023-11-14T22:13:20.500000000Z");
  EXPECT_EQ(FormatTimeNs(0), "1970-01-01T00:00:00.000000000Z");
}

// FormatTimeNs formats by hand; it must agree with Abseil's formatter over
// the whole range, the int64 wrap above 2262 included.
TEST(ReportRows, TimeMatchesAbslFormatTime) {
  auto reference = [](uint64_t ns) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ",
                            absl::FromUnixNanos(static_cast<int64_t>(ns)),
                            absl::UTCTimeZone());
  };
  std::vector<uint64_t> values = {0, 1, 999999999, 1000000000, 951782400000000001ull,
                                  4102444799999999999ull,
                                  uint64_t{INT64_MAX}, uint64_t{INT64_MAX} + 1,
                                  ~uint64_t{0}};
  uint64_t x = 88172645463325252ull;  // xorshift: values spread over the range
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values.push_back(x);
  }
  // The same second again with another fraction, and back: the date and
  // time of the last second are reused.
  for (uint64_t v : {1700000000500000000ull, 1700000000000000001ull, 1700000000999999999ull,
                     1700000001000000000ull, 1700000000000000000ull, 0ull, 999999999ull}) {
    values.push_back(v);
  }
  for (uint64_t v : values) EXPECT_EQ(FormatTimeNs(v), reference(v)) << v;
}

// Quoting looks at every byte, also past the blocks scanned at once.
TEST(ReportRows, CsvQuotingSeesEveryPosition) {
  for (size_t len = 1; len <= 40; ++len) {
    const std::string plain(len, 'a');
    EXPECT_EQ(CsvField(plain), plain);
    for (size_t at = 0; at < len; ++at) {
      for (char c : {',', '"', '\r', '\n'}) {
        std::string v = plain;
        v[at] = c;
        const std::string got = CsvField(v, CsvFormulas::kKeep);
        ASSERT_EQ(got.front(), '"') << len << " " << at << " " << int{c};
        ASSERT_EQ(got.back(), '"');
      }
    }
  }
}

TEST(ReportRows, CsvQuotingFollowsRfc4180) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"x\""), "\"say \"\"x\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(""), "");
}

// OWASP "CSV Injection": a cell starting with = + - @ TAB or CR gets a
// leading single quote, inside the RFC 4180 quoting.
TEST(ReportRows, CsvFormulaTriggersAreDefused) {
  EXPECT_EQ(CsvField("=1+1"), "'=1+1");
  EXPECT_EQ(CsvField("+1"), "'+1");
  EXPECT_EQ(CsvField("-1"), "'-1");
  EXPECT_EQ(CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvField("\tx"), "'\tx");
  // CR makes the cell quoted: the quote goes inside.
  EXPECT_EQ(CsvField("\rx"), "\"'\rx\"");
  EXPECT_EQ(CsvField("=1"), "'=1");
  EXPECT_EQ(CsvField("="), "'=");
  // A leading quote is doubled, so a defused cell reads back unambiguously.
  EXPECT_EQ(CsvField("'=1"), "''=1");
  EXPECT_EQ(CsvField("'quoted'"), "''quoted'");
  EXPECT_EQ(CsvField("'quoted'", CsvFormulas::kKeep), "'quoted'");
}

TEST(ReportRows, CsvTriggerLaterInTheCellIsNotDefused) {
  EXPECT_EQ(CsvField("a=b"), "a=b");
  EXPECT_EQ(CsvField("x+1-2@y"), "x+1-2@y");
  EXPECT_EQ(CsvField(" =1"), " =1");
  EXPECT_EQ(CsvField("a\t=b"), "a\t=b");
  EXPECT_EQ(CsvField("\"=1\""), "\"\"\"=1\"\"\"");  // starts with a double quote
}

TEST(ReportRows, CsvDefusingAndQuotingCombine) {
  // Quote first, then the field's own doubled quotes and comma.
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  EXPECT_EQ(CsvField("-2,3"), "\"'-2,3\"");
  EXPECT_EQ(CsvField("@a\nb"), "\"'@a\nb\"");
  // Kept: RFC 4180 only.
  EXPECT_EQ(CsvField("=HYPERLINK(\"x\")", CsvFormulas::kKeep), "\"=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvField("=1", CsvFormulas::kKeep), "=1");
  EXPECT_EQ(CsvField("\tx", CsvFormulas::kKeep), "\tx");
}

TEST(ReportRows, CsvRowDefusesTextCellsByDefaultAndJsonIsUnaltered) {
  std::string ce;
  Row r = SampleRow(&ce);
  r.event.action = "=cmd|' /C calc'!A0";
  r.event.actor_id = "-alice";
  r.event.metadata = {{"k", "=1"}};  // a JSON object: starts with {
  const std::string defused = CsvRow(r);
  EXPECT_NE(defused.find(",'-alice,"), std::string::npos) << defused;
  EXPECT_NE(defused.find(",'=cmd|' /C calc'!A0,"), std::string::npos) << defused;
  EXPECT_NE(defused.find(",\"{\"\"k\"\":\"\"=1\"\"}\","), std::string::npos) << defused;
  EXPECT_EQ(defused.substr(0, 12), "acme,7,2023-");
  const std::string kept = CsvRow(r, CsvFormulas::kKeep);
  EXPECT_NE(kept.find(",-alice,"), std::string::npos) << kept;
  EXPECT_NE(kept.find(",=cmd|' /C calc'!A0,"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("'-alice"), std::string::npos) << kept;
  auto j = nlohmann::json::parse(JsonRow(r));
  EXPECT_EQ(j["action"], "=cmd|' /C calc'!A0");
  EXPECT_EQ(j["actor_id"], "-alice");
}

TEST(ReportRows, CsvRowHasEveryColumn) {
  std::string ce;
  Row r = SampleRow(&ce);
  std::string row = CsvRow(r);
  EXPECT_EQ(row.substr(0, 12), "acme,7,2023-");
  EXPECT_NE(row.find("\"e,1\""), std::string::npos);
  EXPECT_NE(row.find("\"said \"\"hi\"\"\r\nthen left\""), std::string::npos);
  EXPECT_NE(row.find("\"{\"\"a\"\":\"\"1\"\"}\""), std::string::npos);
  EXPECT_EQ(row.substr(row.size() - 99),
            chain::ToHex(r.entry_hash) + "," + chain::ToHex(r.salt) + "\r\n");
  EXPECT_EQ(CsvHeader().substr(0, 11), "tenant,seq,");
}

// The row is every column through CsvField, in header order: the
// definition, written out plainly.
TEST(ReportRows, CsvRowIsTheColumnsJoined) {
  std::string ce;
  Row r = SampleRow(&ce);
  for (bool with_metadata : {true, false}) {
    if (!with_metadata) r.event.metadata.clear();
    const chain::EventFields& e = r.event;
    std::string meta = "{}";
    if (with_metadata) {
      nlohmann::json m = nlohmann::json::object();
      for (const auto& [k, v] : e.metadata) m[k] = v;
      meta = m.dump();
    }
    const std::vector<std::string> cols = {
        e.tenant, std::to_string(r.seq), FormatTimeNs(r.received_at_ns),
        FormatTimeNs(e.occurred_at_ns), e.event_id, e.actor_id, e.actor_type,
        e.actor_ip, e.action, e.resource_type, e.resource_id, e.reason,
        e.outcome, e.source, e.category, meta, chain::ToHex(r.entry_hash),
        chain::ToHex(r.salt)};
    std::string want;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i > 0) want.push_back(',');
      want += CsvField(cols[i]);
    }
    want += "\r\n";
    EXPECT_EQ(CsvRow(r), want) << "with_metadata=" << with_metadata;
  }
}

TEST(ReportRows, JsonDocumentShape) {
  std::string ce;
  Row r = SampleRow(&ce);
  std::string doc;
  RowWriter w(Format::kJson, "acme", [&](std::string_view b) { doc.append(b); });
  w.Begin();
  w.Add(r);
  r.seq = 8;
  w.Add(r);
  w.End();
  auto j = nlohmann::json::parse(doc);
  EXPECT_EQ(j["format"], "indelible-report/v1");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["seq"], 7);
  EXPECT_EQ(j["rows"][0]["received_at_ns"], "1700000000500000000");
  EXPECT_EQ(j["rows"][0]["entry_hash"], chain::ToHex(r.entry_hash));
  EXPECT_EQ(w.rows(), 2u);
  // Empty report is still valid JSON.
  std::string empty;
  RowWriter e(Format::kJson, "acme", [&](std::string_view b) { empty.append(b); });
  e.Begin();
  e.End();
  EXPECT_TRUE(nlohmann::json::parse(empty)["rows"].empty());
}

TEST(Filters, MatchOnTimeAndFields) {
  std::string ce;
  Row r = SampleRow(&ce);
  Filters f;
  EXPECT_TRUE(f.Matches(r));
  f.time_field = Filters::TimeField::kOccurredAt;
  f.from_ns = r.event.occurred_at_ns;
  f.to_ns = r.event.occurred_at_ns + 1;
  EXPECT_TRUE(f.Matches(r));
  f.to_ns = r.event.occurred_at_ns;  // half-open
  EXPECT_FALSE(f.Matches(r));
  f = Filters();
  f.time_field = Filters::TimeField::kReceivedAt;
  f.from_ns = r.received_at_ns + 1;
  EXPECT_FALSE(f.Matches(r));
  f = Filters();
  f.actor_id = "alice";
  EXPECT_TRUE(f.Matches(r));
  f.action = "write";
  EXPECT_FALSE(f.Matches(r));
}

// The window is on the daemon's clock unless occurred_at is asked for: an
// event a client back-dated by years is in the window it was received in,
// and outside it on the time the client claimed.
TEST(Filters, DefaultWindowIsOnReceivedAt) {
  std::string ce;
  Row r = SampleRow(&ce);
  r.event.occurred_at_ns = 946684800000000000ull;  // 2000-01-01, claimed
  Filters f;
  EXPECT_EQ(f.time_field, Filters::TimeField::kReceivedAt);
  f.from_ns = r.received_at_ns - 3600'000'000'000ull;  // the hour it arrived
  f.to_ns = r.received_at_ns + 1;
  EXPECT_TRUE(f.Matches(r));
  EXPECT_EQ(f.ToJson()["time_field"], "received_at");
  f.time_field = Filters::TimeField::kOccurredAt;
  EXPECT_FALSE(f.Matches(r));
  EXPECT_EQ(f.ToJson()["time_field"], "occurred_at");
}

}  // namespace
}  // namespace indelible::report
