// The completeness proof of a report (docs/REPORTS.md, "The range proof").
//
// A report covers the contiguous seq range [a, b] of one tenant. Beside the
// report the exporter writes <report>.proof.json:
//
//   {"format":"indelible-report-proof/v1","tenant":...,"leaves":[
//   {"seq":..,"entry_hash":..,"category":..,"received_at_ns":..,
//    "body_digest":..,"pruned":..},      one line per record of [a, b]
//   ...                                  that is not a row, in seq order
//   ],
//   "first_seq":a,"last_seq":b,"prev_entry_hash":entry_hash(a-1),
//   "frontier":[...],                    the subtree hashes covering 1..a-1
//   "checkpoint":"..."}                  the cosigned v2 note of size b
//
// From the rows (their entry hash and category) and the leaves, folded onto
// the frontier, anyone recomputes root(b) and compares it with the
// checkpoint's. A leaf's entry hash is recomputed from its received_at and
// body digest and the entry hash before it (no content), so its received_at
// is proven: the verifier can tell that it lies outside a received_at
// window.
//
// a is the record just before the first one received in the window (so
// that its received_at proves the range starts early enough), or 1; b is
// the first stored v2 checkpoint size at or after the first record received
// after the window (the first cosigned one if any), else the newest stored
// v2 checkpoint.
//
// ProofWriter: not thread-safe; fed records in seq order.
#ifndef INDELIBLE_VERIFIER_REPORT_RANGE_PROOF_H_
#define INDELIBLE_VERIFIER_REPORT_RANGE_PROOF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/chain/hash.h"
#include "verifier/report/report_file.h"
#include "verifier/store/reader.h"

namespace indelible::report {

inline constexpr char kProofFormat[] = "indelible-report-proof/v1";

inline std::string ProofPath(const std::string& report) { return report + ".proof.json"; }

// A record as the proof sees it. `row`: it is a row of the report.
struct ProofRecord {
  uint64_t seq = 0;
  uint64_t received_at_ns = 0;
  chain::Digest prev_entry_hash{};
  chain::Digest entry_hash{};
  chain::Digest body_digest{};
  bool row = false;
  bool pruned = false;
  std::string_view category;  // empty for a pruned record: read from its leaf
};

struct ProofSummary {
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t leaves = 0;
};

class ProofWriter {
 public:
  // `from_ns`/`to_ns`: the received_at window, if the report's time filter
  // is on received_at (else nullopt: the range starts at 1). `newest_size`:
  // the size of the newest stored v2 checkpoint (>= 1); records after it
  // must not be added. REQUIRES: reader and out outlive the writer.
  ProofWriter(const store::Reader& reader, std::string tenant, std::optional<uint64_t> from_ns,
              std::optional<uint64_t> to_ns, uint64_t newest_size, ReportFile* out);

  // The next record, in seq order; records after the range's end are
  // ignored.
  void Add(const ProofRecord& r);
  // Writes the rest of the file; the first error of Add or of the reads.
  absl::StatusOr<ProofSummary> Finish();

 private:
  void Start(uint64_t first_seq, const chain::Digest& prev);
  void Emit(const ProofRecord& r);
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  const store::Reader& reader_;
  const std::string tenant_;
  const std::optional<uint64_t> from_, to_;
  ReportFile* out_;
  absl::Status status_;
  uint64_t last_;
  bool started_ = false;
  bool closed_ = false;
  uint64_t first_ = 0;
  chain::Digest first_prev_{};
  uint64_t leaves_ = 0;
  // Before the window: the last record seen (copied), its category owned.
  std::optional<ProofRecord> pending_;
  std::string pending_category_;
};

// What the proof check needs of a report row. `prev_entry_hash`: a JSON
// row's, which must link to the record before it. `body_digest`: a CSV
// row's, from its cells and salt; with its received_at and the entry hash
// before it, it must give the row's entry_hash.
struct ProvenRow {
  uint64_t seq = 0;
  chain::Digest entry_hash{};
  std::string category;
  std::optional<chain::Digest> prev_entry_hash;
  std::optional<chain::Digest> body_digest;
  uint64_t received_at_ns = 0;
};

// The manifest's filters as far as a leaf can be judged by them: its
// received_at (when the window is on received_at) and its category. A leaf
// that is in the window, not pruned, of the category asked for, with no
// other filter given, should have been a row. `other_filters`: the names of
// the filters a leaf cannot be judged by (its content is not in the proof).
struct RangeWindow {
  bool received_at = true;
  std::optional<uint64_t> from_ns, to_ns;
  std::string category;  // empty: any
  std::vector<std::string> other_filters;
};

struct RangeCheck {
  std::vector<std::string> problems;
  std::vector<std::string> notes;
  uint64_t first_seq = 0, last_seq = 0, leaves = 0;
  bool log_signed = false;  // the checkpoint verifies under a trusted key
  std::string checkpoint_note;
  uint64_t checkpoint_time_ns = 0;
};

// Checks `proof` (the file's bytes) for `tenant`'s report whose rows are
// `rows` (sorted here by seq): every seq of [first_seq, last_seq] is exactly
// one row or leaf; each leaf's entry hash follows from its received_at, body
// digest and the entry hash before it, and a JSON row's prev_entry_hash is
// that entry hash; the fold of the frontier and the leaves of the range is
// the checkpoint's root, the checkpoint is of this tenant at size
// last_seq, its chain line is entry_hash(last_seq), and its log signature
// verifies under one of `trusted_keys` (raw Ed25519 keys); no leaf is one
// the filters take, and the range starts before the window. Each problem
// names the seq it is found at.
RangeCheck CheckRangeProof(const std::string& tenant, std::string_view proof,
                           std::vector<ProvenRow>* rows, const RangeWindow& window,
                           const std::vector<std::string>& trusted_keys);

// RFC 3339 ("2023-11-14T22:13:20.500000000Z") to ns since the epoch.
bool ParseTimeNs(const std::string& text, uint64_t* ns);

// The size of `tenant`'s newest stored v2 checkpoint, 0 if none.
absl::StatusOr<uint64_t> NewestCheckpointV2Size(const store::Reader& reader,
                                                const std::string& tenant);

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_RANGE_PROOF_H_
