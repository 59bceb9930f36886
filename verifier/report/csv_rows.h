// Reading a CSV report's rows back (docs/REPORTS.md): RFC 4180 records split
// into cells, and a row's cells turned into what the range proof checks.
// The cells rebuild the record's canonical event (docs/FORMAT.md section 3;
// with csv_formulas "defuse", a text cell starting with ' loses that
// character first), whose body digest with the row's salt is what, after
// the entry hash before it, must hash to the row's entry_hash.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_REPORT_CSV_ROWS_H_
#define INDELIBLE_VERIFIER_REPORT_CSV_ROWS_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/report/range_proof.h"

namespace indelible::report {

// Calls `record` with the cells of each record of `data` (CSV records after
// the header), unquoted, a record's CR LF removed. `record` may move from
// the cells.
void ForEachCsvRecord(std::string_view data,
                      const std::function<void(std::vector<std::string>& cells)>& record);

// The ProvenRow of a CSV row (header order of report_rows.h), with its body
// digest and received_at; InvalidArgument naming what is malformed. `cells`
// are defused in place when `defused`.
absl::StatusOr<ProvenRow> ProvenCsvRow(std::vector<std::string>& cells, bool defused,
                                       std::string_view tenant);

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_CSV_ROWS_H_
