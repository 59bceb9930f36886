// CheckReport: what `indelible-verify verify-report` does with a report, its
// manifest and their detached signatures (docs/REPORTS.md):
//
//   1. the manifest's signature verifies under a trusted key (or, if the
//      caller trusts none, under the key the manifest carries: self-asserted,
//      so the result is never a verdict, see key_from_manifest);
//   2. the report's SHA-256 and size are the manifest's (only the manifest
//      is signed);
//   3. the rows: header and row count match the manifest; every row belongs
//      to the manifest's tenant and verified range, in increasing seq; in a
//      JSON report every row's body digest and entry hash are recomputed from
//      its salt, canonical event and previous entry hash, and its displayed
//      fields must equal the canonical event's; in a CSV report whose
//      manifest says csv_formulas "defuse", no cell may start with a formula
//      trigger (report_rows.h);
//   4. the manifest's checkpoint_v2 (the daemon's v2 checkpoint note of the
//      head, with witness cosignatures), if any: the log's signature by a
//      trusted key, its tenant, size and chain line equal to the manifest's
//      tenant, verified_range.last_seq and head_hash; with a witness policy
//      it is required, and must be cosigned by a quorum;
//   5. completeness: the range proof the manifest names (bound by its
//      SHA-256) and the rows recompute the root of its checkpoint, every
//      seq of its range is a row or a leaf, and no leaf is a record the
//      filters would have taken (range_proof.h, CheckRangeProof).
//
// Problems (tampering, mismatch) are listed in the result; an error status
// means the check could not run (missing file, unreadable, bad options).
#ifndef INDELIBLE_VERIFIER_REPORT_REPORT_CHECK_H_
#define INDELIBLE_VERIFIER_REPORT_REPORT_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/cosignature.h"

namespace indelible::report {

struct ReportCheckOptions {
  std::string report_path;
  std::string manifest_path;  // empty: <report>.manifest.json
  // Raw 32-byte Ed25519 public keys the caller trusts to sign reports.
  // The log's signature on checkpoint_v2 is checked under these keys too.
  std::vector<std::string> trusted_keys;
  // Raw keys trusted only to sign the log's checkpoints (checkpoint_v2 and
  // the range proof's), not reports: those FollowRotations leads to.
  std::vector<std::string> log_keys;
  // Given: checkpoint_v2 is required and must be cosigned by a quorum.
  std::optional<chain::WitnessPolicy> policy;
};

struct ReportCheckResult {
  // Empty and !key_from_manifest: genuine.
  std::vector<std::string> problems;
  // No trusted key was given: the signatures were checked under the key the
  // manifest carries, which proves nothing about who signed.
  bool key_from_manifest = false;
  // The signer's key is one of the trusted keys given.
  bool key_trusted = false;
  // The signer's key id (hex) and verifier-key string, computed from the
  // manifest's signer.key_name and public key; never the manifest's own
  // key_id text.
  std::string signer_key_id;
  std::string signer_verifier_key;
  // Remarks that are not problems, e.g. a manifest key_id that is not its
  // key's.
  std::vector<std::string> notes;
  std::string tenant;
  uint64_t rows = 0;
  uint64_t first_seq = 0, last_seq = 0;
  std::string head_hash;
  std::string format;  // csv | json
  // checkpoint_v2: present in the manifest; its log signature verified
  // under a trusted key; the policy witnesses that cosigned it.
  bool checkpoint_v2 = false;
  bool checkpoint_v2_log_signed = false;
  std::vector<std::string> cosigned;
  // A policy was given, and checkpoint_v2 carries no signature by a trusted
  // key (the log's key was not given): not verified, nothing wrong shown.
  bool no_trusted_log_key = false;
  // A policy was given and is not met: checkpoint_v2 (or the proof's
  // checkpoint) is absent or below quorum (not evidence of tampering;
  // problems are).
  bool below_quorum = false;
  // The range proof (range_proof.h): present in the manifest; the range it
  // covers; its leaves; its checkpoint signed by a trusted key (and its
  // time); complete: present, without problems, and so signed.
  bool proof = false;
  uint64_t proof_first_seq = 0, proof_last_seq = 0, proof_leaves = 0;
  bool proof_log_signed = false;
  uint64_t proof_checkpoint_time_ns = 0;
  bool complete = false;
};

absl::StatusOr<ReportCheckResult> CheckReport(const ReportCheckOptions& options);

// Parses a key given on the command line: a C2SP verifier-key string or a
// PEM file's contents. InvalidArgument if neither.
absl::StatusOr<std::string> ParsePublicKey(const std::string& text);

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_REPORT_CHECK_H_
