// Report rows: how one record of a chain is rendered in a CSV or JSON report
// (docs/REPORTS.md). The writers stream: each row is encoded and handed to
// a sink as soon as it is known, so memory does not grow with the report.
//
// CSV is RFC 4180: a header row, CRLF line ends, fields quoted when they
// contain a comma, a quote, CR or LF, quotes doubled. By default a text
// cell a spreadsheet would run as a formula is defused with a leading single
// quote (CsvFormulas; docs/REPORTS.md gives the rule).
//
// The last CSV columns are the entry hash and the salt (hex): the cells
// rebuild the canonical event, so with the salt every cell is bound to the
// entry hash (docs/REPORTS.md, "The range proof").
//
// JSON is one object: {"format":"indelible-report/v1","tenant":...,"rows":[
// then one row object per line, each followed by ",\n" except the last, then
// "]}\n". Each row adds to the CSV columns the canonical event (base64; the
// salt is base64 too), the body digest and the previous entry hash (hex), so
// every row's hashes can be recomputed on its own.
//
// Not thread-safe.
#ifndef INDELIBLE_VERIFIER_REPORT_REPORT_ROWS_H_
#define INDELIBLE_VERIFIER_REPORT_REPORT_ROWS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "verifier/chain/event.h"
#include "verifier/chain/hash.h"

namespace indelible::report {

enum class Format { kCsv, kJson };

// What CSV cells that a spreadsheet would run as a formula become.
//   kDefuse: a text cell whose value starts with a formula trigger (= + - @
//            TAB CR) or with ' is written as ' followed by the value, then
//            quoted as RFC 4180 says (OWASP, "CSV Injection"). Reversible:
//            a cell that starts with ' lost exactly that one character.
//   kKeep:   values are written exactly as stored.
// Numbers, times and hex never start with a trigger. JSON is never altered.
enum class CsvFormulas { kDefuse, kKeep };

// "defuse" or "keep": the --csv-formulas value and the manifest's
// report.csv_formulas.
std::string_view CsvFormulasName(CsvFormulas f);

// True if a spreadsheet may run a cell starting with `v` as a formula.
inline bool StartsWithFormulaTrigger(std::string_view v) {
  if (v.empty()) return false;
  const char c = v.front();
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

// One record as a report shows it.
struct Row {
  uint64_t seq = 0;
  uint64_t received_at_ns = 0;
  chain::EventFields event;
  std::string_view salt;             // 16 bytes
  std::string_view canonical_event;  // CE, exactly as hashed
  chain::Digest body_digest{};
  chain::Digest entry_hash{};
  chain::Digest prev_entry_hash{};
};

// "2023-11-14T22:13:20.500000000Z": RFC 3339, UTC, nanoseconds.
std::string FormatTimeNs(uint64_t ns);

// One text cell: defused as `formulas` says, then RFC 4180 quoting.
std::string CsvField(std::string_view value, CsvFormulas formulas = CsvFormulas::kDefuse);

// The CSV header row (with CRLF), and one record as a CSV row.
std::string CsvHeader();
std::string CsvRow(const Row& row, CsvFormulas formulas = CsvFormulas::kDefuse);
// The same, appended to *out.
void AppendCsvRow(const Row& row, std::string* out,
                  CsvFormulas formulas = CsvFormulas::kDefuse);

// The JSON report's opening (up to and including "rows":[ and a newline),
// one row object (no separator), and the closing.
std::string JsonOpening(std::string_view tenant);
std::string JsonRow(const Row& row);
void AppendJsonRow(const Row& row, std::string* out);
inline constexpr std::string_view kJsonRowSeparator = ",\n";
inline constexpr std::string_view kJsonClosing = "\n]}\n";

// Streams rows of one format to `sink`.
class RowWriter {
 public:
  using Sink = std::function<void(std::string_view bytes)>;
  RowWriter(Format format, std::string tenant, Sink sink,
            CsvFormulas formulas = CsvFormulas::kDefuse);
  void Begin();
  void Add(const Row& row);
  void End();
  uint64_t rows() const { return rows_; }

 private:
  const Format format_;
  const CsvFormulas formulas_;
  const std::string tenant_;
  const Sink sink_;
  uint64_t rows_ = 0;
};

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_REPORT_ROWS_H_
