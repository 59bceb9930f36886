// Export: a signed report of one tenant's events (docs/REPORTS.md).
//
// The tenant's chain is checked (check/store_check.h) with the keys and
// checkpoints the caller trusts, and in the same pass each record the check
// passes is filtered and formatted as a CSV or JSON row on the check's worker
// threads, then written in order to a temporary file, so memory stays
// constant whatever the size. A chain with any finding is not exported: the
// temporary file is removed. The report's SHA-256 is taken as it is
// written; then a small manifest (JSON) that carries it is written and
// signed, so signing costs the same whatever the report's size. The
// signature is detached, raw Ed25519:
//
//   <out>                 the report
//   <out>.manifest.json   tenant, filters, verified range, head hash,
//                         checkpoint, the stored v2 checkpoint of the
//                         head (cosignatures included), row count, report
//                         SHA-256, signer...
//   <out>.manifest.json.sig   Ed25519(manifest bytes), 64 raw bytes
//   <out>.proof.json      the range proof (range_proof.h): the leaf data of
//                         every record of [a, b] that is not a row, the
//                         frontier before a and the cosigned checkpoint of
//                         size b; its SHA-256 is in the manifest
//
// Checkable with `openssl pkeyutl -verify -rawin` (the manifest) and
// `openssl dgst -sha256` (the report) alone.
#ifndef INDELIBLE_VERIFIER_REPORT_EXPORTER_H_
#define INDELIBLE_VERIFIER_REPORT_EXPORTER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/note.h"
#include "verifier/check/finding.h"
#include "verifier/check/store_check.h"
#include "verifier/report/report_rows.h"
#include "verifier/store/reader.h"

namespace indelible::report {

inline constexpr char kManifestFormat[] = "indelible-report-manifest/v1";

struct Filters {
  enum class TimeField { kOccurredAt, kReceivedAt };
  // Half-open [from_ns, to_ns) on `time_field`: by default received_at,
  // the daemon's clock, hashed into the entry; occurred_at is what the
  // client asserted and may be anything in the past.
  std::optional<uint64_t> from_ns;
  std::optional<uint64_t> to_ns;
  TimeField time_field = TimeField::kReceivedAt;
  // Exact matches; empty = any.
  std::string actor_id;
  std::string action;
  std::string resource_type;
  std::string resource_id;
  std::string category;
  std::string outcome;

  bool Matches(const Row& row) const;
  nlohmann::ordered_json ToJson() const;
};

struct ExportOptions {
  std::string tenant;  // required
  Filters filters;
  Format format = Format::kCsv;
  // CSV only; recorded in the manifest as report.csv_formulas.
  CsvFormulas csv_formulas = CsvFormulas::kDefuse;
  std::string out_path;  // required; .sig/.manifest.json written beside it
  // Signs the manifest. REQUIRES: non-null.
  const chain::NoteSigner* signer = nullptr;
  // Keys and supplied checkpoints for the check that precedes the export;
  // `tenant` is set from above.
  check::StoreCheckOptions check;
  std::string tool_version = "indelible-verify 0.1.0";
  uint64_t generated_at_ns = 0;  // the caller's clock
  // Called now and then with rows scanned so far and the chain length.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct ExportResult {
  bool exported = false;          // false: the chain had findings
  check::StoreCheckResult check;  // what the check found
  uint64_t rows = 0;
  uint64_t pruned = 0;            // records in the chain without a body
  std::string manifest;           // the manifest bytes, as signed
  // The range proof's [first_seq, last_seq] (range_proof.h); 0 when the
  // store has no v2 checkpoint and the report no proof.
  uint64_t proof_first_seq = 0, proof_last_seq = 0;
};

// Errors are for what stops the export from running (I/O, bad options, an
// unknown tenant). Findings go to `reporter`; with any, nothing is written
// and result.exported is false.
absl::StatusOr<ExportResult> Export(const store::Reader& reader,
                                    const ExportOptions& options,
                                    check::Reporter* reporter);

// Paths of the detached files of a report: the manifest, and the signature
// of a file (the manifest's; earlier exports also signed the report).
inline std::string SigPath(const std::string& file) { return file + ".sig"; }
inline std::string ManifestPath(const std::string& report) {
  return report + ".manifest.json";
}

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_EXPORTER_H_
