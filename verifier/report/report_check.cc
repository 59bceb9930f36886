#include "verifier/report/report_check.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/text.h"
#include "verifier/chain/witness_policy.h"
#include "verifier/report/csv_rows.h"
#include "verifier/report/exporter.h"
#include "verifier/report/mapped_file.h"
#include "verifier/report/range_proof.h"
#include "verifier/report/report_rows.h"

namespace indelible::report {
namespace {

using Json = nlohmann::json;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A JSON unsigned integer. nlohmann's get<uint64_t>() converts a float or a
// negative number with a cast (undefined behaviour out of range), so a
// manifest or row from an attacker must not reach it with those.
uint64_t Unsigned(const Json& v) {
  if (!v.is_number_unsigned()) {
    throw std::invalid_argument("want a non-negative integer");
  }
  return v.get<uint64_t>();
}

// Counts CSV records (RFC 4180: LF outside quotes ends a record) and finds
// the first record with a cell whose content starts with a formula trigger.
struct CsvScan {
  uint64_t records = 0;
  uint64_t live_formula_record = 0;  // 0-based record index + 1; 0: none
};

CsvScan ScanCsv(std::string_view data) {
  CsvScan scan;
  bool quoted = false;
  bool field_start = true;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (field_start) {
      field_start = false;
      // A quoted cell's content starts after the quote; an unquoted cell
      // that starts with CR LF is an empty last cell.
      std::string_view cell = data.substr(c == '"' ? i + 1 : i);
      const bool empty_last = c == '\r' && cell.size() > 1 && cell[1] == '\n';
      if (scan.live_formula_record == 0 && !empty_last && StartsWithFormulaTrigger(cell)) {
        scan.live_formula_record = scan.records + 1;
      }
    }
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ',') {
      field_start = true;
    } else if (!quoted && c == '\n') {
      ++scan.records;
      field_start = true;
    }
  }
  return scan;
}

class Checker {
 public:
  explicit Checker(ReportCheckResult* result) : r_(result) {}

  void Problem(std::string p) { r_->problems.push_back(std::move(p)); }

  void CheckSeq(uint64_t seq, const std::string& where) {
    if (seq < r_->first_seq || seq > r_->last_seq) {
      Problem(absl::StrCat(where, ": seq ", seq, " outside the verified range"));
    }
    if (seq <= last_seq_seen_) {
      Problem(absl::StrCat(where, ": seq ", seq, " not after seq ", last_seq_seen_));
    }
    last_seq_seen_ = seq;
  }

  void CheckJsonRow(std::string_view line, uint64_t index) {
    const std::string where = absl::StrCat("row ", index + 1);
    Json row = Json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object()) return Problem(where + ": not a JSON object");
    try {
      std::string salt, ce, want_body, want_prev, want_entry;
      if (!chain::Base64Decode(row.at("salt").get<std::string>(), &salt) ||
          !chain::Base64Decode(row.at("canonical_event").get<std::string>(), &ce) ||
          !chain::FromHex(row.at("body_digest").get<std::string>(), &want_body) ||
          !chain::FromHex(row.at("prev_entry_hash").get<std::string>(), &want_prev) ||
          !chain::FromHex(row.at("entry_hash").get<std::string>(), &want_entry)) {
        return Problem(where + ": malformed salt, canonical event or hash");
      }
      const uint64_t seq = Unsigned(row.at("seq"));
      uint64_t received;
      if (!chain::ParseDecimal(row.at("received_at_ns").get<std::string>(), &received)) {
        return Problem(where + ": received_at_ns is not a decimal integer");
      }
      CheckSeq(seq, where);
      chain::Digest body = chain::BodyDigest(salt, ce);
      if (chain::AsBytes(body) != want_body) {
        return Problem(where + ": body digest does not match salt and canonical event");
      }
      chain::Digest prev;
      if (!chain::DigestFromBytes(want_prev, &prev)) return Problem(where + ": bad prev hash");
      chain::Digest entry = chain::EntryHash(r_->tenant, seq, received, prev, body);
      if (chain::AsBytes(entry) != want_entry) {
        return Problem(where + ": entry hash does not follow from the row");
      }
      auto f = chain::DecodeCanonicalEvent(ce);
      if (!f.ok()) return Problem(where + ": canonical event does not decode");
      Json md = Json::object();
      for (const auto& [k, v] : f->metadata) md[k] = v;
      const bool same =
          f->tenant == r_->tenant && row.at("tenant") == f->tenant &&
          row.at("event_id") == f->event_id && row.at("actor_id") == f->actor_id &&
          row.at("actor_type") == f->actor_type && row.at("actor_ip") == f->actor_ip &&
          row.at("action") == f->action && row.at("resource_type") == f->resource_type &&
          row.at("resource_id") == f->resource_id && row.at("reason") == f->reason &&
          row.at("outcome") == f->outcome && row.at("source") == f->source &&
          row.at("category") == f->category && row.at("metadata") == md &&
          row.at("occurred_at_ns") == std::to_string(f->occurred_at_ns);
      if (!same) Problem(where + ": displayed fields differ from the canonical event");
      proven_.push_back({seq, entry, f->category, prev});
    } catch (const std::exception& e) {  // Json::exception or Unsigned's
      Problem(where + ": missing or mistyped field (" + e.what() + ")");
    }
  }

  uint64_t CheckJsonRows(std::string_view data) {
    std::vector<std::string_view> lines = chain::Split(data, '\n');
    // opening, rows..., "]}", "" (after the final newline)
    if (lines.size() < 3 || !lines.back().empty() ||
        std::string(lines.front()) + "\n" != JsonOpening(r_->tenant) ||
        lines[lines.size() - 2] != "]}") {
      Problem("report: not an indelible-report/v1 JSON document for this tenant");
      return 0;
    }
    uint64_t n = 0;
    for (size_t i = 1; i + 2 < lines.size(); ++i) {
      std::string_view line = lines[i];
      const bool last = i + 3 == lines.size();
      if (!last) {
        if (line.empty() || line.back() != ',') {
          Problem(absl::StrCat("row ", n + 1, ": missing separator"));
          continue;
        }
        line.remove_suffix(1);
      }
      CheckJsonRow(line, n++);
    }
    return n;
  }

  // `defused`: the manifest says formula cells were defused, so no cell
  // may start with a trigger.
  uint64_t CheckCsvRows(std::string_view data, bool defused) {
    if (data.substr(0, CsvHeader().size()) != CsvHeader()) {
      Problem("report: CSV header is not the indelible-report/v1 header");
      return 0;
    }
    const CsvScan scan = ScanCsv(data);
    if (defused && scan.live_formula_record > 0) {
      Problem(absl::StrCat("row ", scan.live_formula_record - 1,
                           ": a cell starts with = + - @ TAB or CR, but the manifest "
                           "says csv_formulas defuse"));
    }
    CollectCsvRows(data.substr(CsvHeader().size()), defused);
    return scan.records - 1;
  }

  // What the range proof needs of each CSV row (csv_rows.h).
  void CollectCsvRows(std::string_view data, bool defused) {
    uint64_t index = 0;
    ForEachCsvRecord(data, [&](std::vector<std::string>& cells) {
      const std::string where = absl::StrCat("row ", ++index);
      auto row = ProvenCsvRow(cells, defused, r_->tenant);
      if (!row.ok()) return Problem(where + ": " + std::string(row.status().message()));
      CheckSeq(row->seq, where);
      proven_.push_back(*std::move(row));
    });
  }

  std::vector<ProvenRow>& proven() { return proven_; }

 private:
  ReportCheckResult* r_;
  uint64_t last_seq_seen_ = 0;
  std::vector<ProvenRow> proven_;
};

}  // namespace

absl::StatusOr<std::string> ParsePublicKey(const std::string& text) {
  if (text.find("-----BEGIN") != std::string::npos) return chain::PublicKeyFromPem(text);
  auto vk = chain::ParseNoteVerifierKey(text);
  if (!vk.ok()) return vk.status();
  return vk->public_key;
}

namespace {

// The keys trusted to sign the log's checkpoints.
std::vector<std::string> LogKeys(const ReportCheckOptions& o) {
  std::vector<std::string> keys = o.trusted_keys;
  keys.insert(keys.end(), o.log_keys.begin(), o.log_keys.end());
  return keys;
}

// Step 4: the manifest's checkpoint_v2 `note` (nullopt: null or absent).
void CheckCheckpointV2(const std::optional<std::string>& note, const ReportCheckOptions& o,
                       ReportCheckResult* r) {
  if (!note) {
    if (o.policy) {
      r->below_quorum = true;
      r->notes.push_back(
          "the manifest carries no v2 checkpoint (checkpoint_v2 is null), so the "
          "witness policy cannot be met");
    }
    return;
  }
  r->checkpoint_v2 = true;
  auto split = chain::SplitNote(*note);
  absl::StatusOr<chain::CheckpointV2> c =
      split.ok() ? chain::ParseCheckpointV2Text(split->text) : split.status();
  if (!c.ok()) {
    r->problems.push_back("checkpoint_v2: malformed note (" + std::string(c.status().message()) +
                          ")");
    return;
  }
  // The binding: the note is of the head the manifest names.
  if (c->tenant != r->tenant) {
    r->problems.push_back("checkpoint_v2: tenant " + c->tenant + ", not the manifest's " +
                          r->tenant);
  }
  if (c->size != r->last_seq) {
    r->problems.push_back(absl::StrCat("checkpoint_v2: size ", c->size,
                                       ", not the manifest's head seq (verified_range.last_seq) ",
                                       r->last_seq));
  }
  if (chain::ToHex(c->chain_head) != r->head_hash) {
    r->problems.push_back(
        "checkpoint_v2: its chain line (entry hash " + chain::ToHex(c->chain_head) +
        ") is not the manifest's head_hash");
  }
  // The log's signature, under a trusted key: each trusted key under the
  // name of each signature line whose key id it has.
  std::vector<chain::NoteVerifierKey> keys;
  for (const auto& sig : split->signatures) {
    for (const auto& k : LogKeys(o)) {
      chain::NoteVerifierKey vk = chain::MakeNoteVerifierKey(std::string(sig.name), k);
      if (vk.key_id == sig.key_id) keys.push_back(std::move(vk));
    }
  }
  if (!keys.empty()) {
    if (chain::VerifyCheckpointV2(*note, keys).ok()) {
      r->checkpoint_v2_log_signed = true;
    } else {
      r->problems.push_back("checkpoint_v2: the log's signature does not verify");
    }
  } else if (o.policy) {
    // Cosignatures vouch for a checkpoint only together with the log's
    // signature: without a trusted log key nothing is proven (fail closed).
    r->no_trusted_log_key = true;
    r->notes.push_back(
        "checkpoint_v2: not signed by a trusted key, so the witness policy cannot be "
        "checked (give the log's key with --key or --key-pem, and --rotation if it was "
        "rotated)");
  } else if (!o.trusted_keys.empty()) {
    r->notes.push_back(
        "checkpoint_v2: the log's signature was not checked: none of the given keys "
        "signed it (give the log's key with --key or --key-pem)");
  }
  if (!o.policy) return;
  auto q = chain::CheckQuorum(*note, *o.policy);
  if (!q.ok()) {
    r->problems.push_back("checkpoint_v2: " + std::string(q.status().message()));
    return;
  }
  for (const auto& w : q->cosigned) r->cosigned.push_back(w.name);
  if (!q->met()) {
    r->below_quorum = true;
    r->notes.push_back("checkpoint_v2: " + std::string(chain::QuorumStatus(*q).message()));
  }
}

// Step 5: reads the proof the manifest names, bound by its SHA-256, and
// checks the range it covers against its checkpoint.
void CheckProof(const Json& ref, const ReportCheckOptions& o, const RangeWindow& window,
                const std::optional<std::string>& checkpoint_v2,
                std::vector<ProvenRow>* rows, ReportCheckResult* r) {
  if (ref.is_null()) {
    r->notes.push_back(
        "the report has no range proof (manifest proof is null: the store had no v2 "
        "checkpoint), so its completeness is not proven");
    return;
  }
  r->proof = true;
  std::string file, want_sha256;
  uint64_t want_bytes = 0;
  try {
    file = ref.at("file").get<std::string>();
    want_sha256 = ref.at("sha256").get<std::string>();
    want_bytes = Unsigned(ref.at("bytes"));
  } catch (const std::exception& e) {
    r->problems.push_back(std::string("manifest: missing or mistyped proof field (") +
                          e.what() + ")");
    return;
  }
  if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
    r->problems.push_back("manifest: proof.file must be a file name beside the report");
    return;
  }
  const std::string dir = std::filesystem::path(o.report_path).parent_path().string();
  auto mapped = MappedFile::Open(dir.empty() ? file : dir + "/" + file);
  if (!mapped.ok()) {
    r->problems.push_back("proof: " + std::string(mapped.status().message()));
    return;
  }
  const std::string_view bytes = (*mapped)->data();
  if (chain::ToHex(chain::Sha256(bytes)) != want_sha256 || bytes.size() != want_bytes) {
    r->problems.push_back("proof: SHA-256 or size differs from the manifest's");
    return;
  }
  RangeCheck c = CheckRangeProof(r->tenant, bytes, rows, window, LogKeys(o));
  for (auto& p : c.problems) r->problems.push_back(std::move(p));
  for (auto& n : c.notes) r->notes.push_back(std::move(n));
  r->proof_first_seq = c.first_seq;
  r->proof_last_seq = c.last_seq;
  r->proof_leaves = c.leaves;
  r->proof_log_signed = c.log_signed;
  r->proof_checkpoint_time_ns = c.checkpoint_time_ns;
  r->complete = c.problems.empty() && c.log_signed;
  if (c.problems.empty() && !c.log_signed) {
    r->notes.push_back(
        "proof: the checkpoint's log signature was not checked (none of the given keys "
        "signed it; give the daemon's key with --key or --key-pem), so completeness is "
        "not proven");
  }
  // The witness policy holds for the proof's checkpoint too, when it is not
  // the head's (which step 4 held to it).
  if (o.policy && c.problems.empty() && checkpoint_v2 != c.checkpoint_note) {
    auto q = chain::CheckQuorum(c.checkpoint_note, *o.policy);
    if (!q.ok()) {
      r->problems.push_back("proof: checkpoint: " + std::string(q.status().message()));
    } else if (!q->met()) {
      r->below_quorum = true;
      r->notes.push_back("proof: checkpoint: " + std::string(chain::QuorumStatus(*q).message()));
    }
  }
}

}  // namespace

absl::StatusOr<ReportCheckResult> CheckReport(const ReportCheckOptions& o) {
  ReportCheckResult r;
  const std::string manifest_path =
      o.manifest_path.empty() ? ManifestPath(o.report_path) : o.manifest_path;
  auto manifest_bytes = ReadSmallFile(manifest_path);
  if (!manifest_bytes.ok()) return manifest_bytes.status();
  auto manifest_sig = ReadSmallFile(SigPath(manifest_path));
  if (!manifest_sig.ok()) return manifest_sig.status();
  auto report = MappedFile::Open(o.report_path);
  if (!report.ok()) return report.status();

  Json m = Json::parse(*manifest_bytes, nullptr, false);
  if (m.is_discarded() || !m.is_object() || m.value("format", Json()) != kManifestFormat) {
    r.problems.push_back("manifest: not an " + std::string(kManifestFormat) + " document");
    return r;
  }
  std::string signer_key, signer_name, claimed_key_id;
  std::string want_sha256;
  uint64_t want_bytes = 0, want_rows = 0;
  std::string csv_formulas = "keep";  // manifests before the field: as stored
  std::optional<std::string> checkpoint_v2;  // null, or absent before the field
  Json proof_ref;                            // the manifest's "proof"
  RangeWindow window;
  try {
    r.tenant = m.at("tenant").get<std::string>();
    signer_name = m.at("signer").at("key_name").get<std::string>();
    claimed_key_id = m.at("signer").at("key_id").get<std::string>();
    r.first_seq = Unsigned(m.at("verified_range").at("first_seq"));
    r.last_seq = Unsigned(m.at("verified_range").at("last_seq"));
    r.head_hash = m.at("head_hash").get<std::string>();
    r.format = m.at("report").at("format").get<std::string>();
    want_sha256 = m.at("report").at("sha256").get<std::string>();
    want_bytes = Unsigned(m.at("report").at("bytes"));
    want_rows = Unsigned(m.at("row_count"));
    if (const Json& cf = m.at("report").value("csv_formulas", Json()); !cf.is_null()) {
      csv_formulas = cf.get<std::string>();
    }
    if (const Json& cp = m.value("checkpoint_v2", Json()); !cp.is_null()) {
      checkpoint_v2 = cp.get<std::string>();
    }
    proof_ref = m.value("proof", Json());
    const Json filters = m.value("filters", Json::object());
    window.received_at = filters.value("time_field", "received_at") == "received_at";
    for (const char* bound : {"from", "to"}) {
      const Json v = filters.value(bound, Json());
      if (v.is_null()) continue;
      uint64_t ns = 0;
      if (!ParseTimeNs(v.get<std::string>(), &ns)) {
        throw std::invalid_argument(std::string("filters.") + bound + " is not an RFC 3339 time");
      }
      (bound[0] == 'f' ? window.from_ns : window.to_ns) = ns;
    }
    if (const Json c = filters.value("category", Json()); !c.is_null()) {
      window.category = c.get<std::string>();
    }
    for (const char* k : {"actor_id", "action", "resource_type", "resource_id", "outcome"}) {
      if (!filters.value(k, Json()).is_null()) window.other_filters.push_back(k);
    }
    auto k = chain::PublicKeyFromPem(m.at("signer").at("public_key_pem").get<std::string>());
    if (!k.ok()) {
      r.problems.push_back("manifest: signer.public_key_pem is not an Ed25519 key");
      return r;
    }
    signer_key = *k;
  } catch (const std::exception& e) {  // Json::exception or Unsigned's
    r.problems.push_back(std::string("manifest: missing or mistyped field (") + e.what() + ")");
    return r;
  }

  // The key id shown is the one the key has, whatever the manifest claims:
  // a manifest may be signed by anyone under any name.
  const chain::NoteVerifierKey vk = chain::MakeNoteVerifierKey(signer_name, signer_key);
  r.signer_key_id = absl::StrFormat("%08x", vk.key_id);
  r.signer_verifier_key = chain::NoteVerifierKeyString(vk);
  if (claimed_key_id != r.signer_key_id) {
    r.notes.push_back("manifest: signer.key_id " + claimed_key_id +
                      " is not the id of the key it carries (" + r.signer_key_id + ")");
  }

  // 1. Which key: a trusted one, or (saying so) the manifest's own.
  if (o.trusted_keys.empty()) {
    r.key_from_manifest = true;
  } else {
    bool trusted = false;
    for (const auto& k : o.trusted_keys) trusted = trusted || k == signer_key;
    r.key_trusted = trusted;
    if (!trusted) {
      r.problems.push_back("manifest: signed by key " + r.signer_key_id +
                           ", which is not a trusted key");
    }
  }
  if (!chain::VerifyEd25519(signer_key, *manifest_bytes, *manifest_sig).ok()) {
    r.problems.push_back("manifest: signature does not verify");
  }
  // 2. The report is the one the signed manifest names: its SHA-256 and
  // size. (Only the manifest is signed; a report signature file from an
  // earlier export, if any, adds nothing and is not read.)
  const std::string_view data = (*report)->data();
  if (chain::ToHex(chain::Sha256(data)) != want_sha256) {
    r.problems.push_back("report: SHA-256 differs from the manifest's");
  }
  if (data.size() != want_bytes) {
    r.problems.push_back("report: size differs from the manifest's");
  }
  // 3. Rows.
  Checker checker(&r);
  if (r.format == "json") {
    r.rows = checker.CheckJsonRows(data);
  } else if (r.format == "csv") {
    if (csv_formulas != "defuse" && csv_formulas != "keep") {
      r.problems.push_back("manifest: unknown report.csv_formulas " + csv_formulas);
    }
    r.rows = checker.CheckCsvRows(data, csv_formulas == "defuse");
  } else {
    r.problems.push_back("manifest: unknown report format " + r.format);
  }
  if (r.rows != want_rows) {
    r.problems.push_back(
        absl::StrCat("report: ", r.rows, " rows, manifest says ", want_rows));
  }
  // 4. The v2 checkpoint of the head, and the witness policy.
  CheckCheckpointV2(checkpoint_v2, o, &r);
  // 5. Completeness: the range proof.
  CheckProof(proof_ref, o, window, checkpoint_v2, &checker.proven(), &r);
  return r;
}

}  // namespace indelible::report
