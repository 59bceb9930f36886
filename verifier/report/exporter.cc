#include "verifier/report/exporter.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/tenant_id.h"
#include "verifier/chain/text.h"
#include "verifier/report/range_proof.h"
#include "verifier/report/report_file.h"
#include "verifier/check/tree_check.h"
#include "verifier/store/layout.h"

namespace indelible::report {
namespace {

// Writes `bytes` to `path` through a temporary file and a rename, so a
// reader never sees half a file.
absl::Status WriteFileAtomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out.good()) return absl::UnavailableError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError("cannot rename to " + path + ": " + ec.message());
  return absl::OkStatus();
}

// The newest stored checkpoint note of `tenant`, or "".
absl::StatusOr<std::string> NewestStoredCheckpoint(const store::Reader& reader,
                                                   const std::string& tenant) {
  std::string newest;
  auto rows = reader.NewRows(store::kCheckpointsCf, store::TenantPrefix(tenant));
  for (; rows->Valid(); rows->Next()) newest.assign(rows->value());
  if (!rows->ok()) return rows->status();
  return newest;
}

// The stored v2 checkpoint note of `tenant` whose size is `size`, with the
// witness cosignatures the daemon appended to it, or nullopt.
absl::StatusOr<std::optional<std::string>> StoredCheckpointV2(const store::Reader& reader,
                                                              const std::string& tenant,
                                                              uint64_t size) {
  return reader.Get(store::kCheckpointsV2Cf, store::SeqKey(tenant, size));
}

// Formats the rows of a report on the check's worker threads and hands
// them to `out`, which hashes and writes them on its own thread. Each
// record's output is framed (kind, length, payload) so that Deliver, on the
// reader's thread and in seq order, can also hand every record of the
// range to the proof. Both kinds start with u64(seq), u64(received_at) and
// the previous entry hash; then a row frame has the row's bytes, a leaf
// frame the entry hash, body digest, a pruned flag and the category.
class RowFormatter final : public check::RecordFormatter {
 public:
  // `proof` may be null (no v2 checkpoint: no range proof); `newest` is
  // then 0 and every record may be a row.
  RowFormatter(const ExportOptions& options, ReportFile* out, ProofWriter* proof,
               uint64_t newest)
      : options_(options), out_(out), proof_(proof), newest_(newest) {}

  void Begin() {
    Write(options_.format == Format::kCsv ? CsvHeader() : JsonOpening(options_.tenant));
  }
  void End() {
    if (options_.format == Format::kJson) Write(rows_ == 0 ? "]}\n" : kJsonClosing);
  }

  uint64_t Format(std::string_view /*tenant*/, const check::RecordView& r,
                  const chain::Digest& prev, chain::EventFields* event,
                  std::string* out) const override {
    // Records after the newest v2 checkpoint are outside the proven range.
    if (newest_ != 0 && r.seq > newest_) return 0;
    Row row;
    row.seq = r.seq;
    row.received_at_ns = r.skeleton.received_at_ns;
    row.body_digest = r.skeleton.body_digest;
    row.entry_hash = r.skeleton.entry_hash;
    row.prev_entry_hash = prev;
    // The check decoded this body already; null: pruned.
    bool matches = false;
    if (event != nullptr) {
      row.event = std::move(*event);
      matches = store::DecodeBody(r.body, &row.salt, &row.canonical_event) &&
                options_.filters.Matches(row);
    }
    const size_t frame = out->size();
    out->append(kHeaderSize, '\0');
    if (matches) {
      chain::PutU64(out, r.seq);
      chain::PutU64(out, r.skeleton.received_at_ns);
      out->append(chain::AsBytes(prev));
      if (options_.format == Format::kCsv) {
        AppendCsvRow(row, out, options_.csv_formulas);
      } else {
        out->append(kJsonRowSeparator);  // the first one is dropped in Deliver
        AppendJsonRow(row, out);
      }
    } else {
      if (proof_ == nullptr) {
        out->resize(frame);
        return 0;
      }
      chain::PutU64(out, r.seq);
      chain::PutU64(out, r.skeleton.received_at_ns);
      out->append(chain::AsBytes(prev));
      out->append(chain::AsBytes(r.skeleton.entry_hash));
      out->append(chain::AsBytes(r.skeleton.body_digest));
      out->push_back(event == nullptr ? 1 : 0);
      if (event != nullptr) out->append(row.event.category);
    }
    (*out)[frame] = matches ? 'R' : 'L';
    const uint32_t len = static_cast<uint32_t>(out->size() - frame - kHeaderSize);
    std::memcpy(out->data() + frame + 1, &len, sizeof(len));
    return 1;
  }

  void Deliver(std::string_view bytes, uint64_t /*records*/) override {
    std::string& rows = deliver_buffer_;
    rows.clear();
    while (bytes.size() >= kHeaderSize) {
      const char kind = bytes[0];
      uint32_t len;
      std::memcpy(&len, bytes.data() + 1, sizeof(len));
      std::string_view payload = bytes.substr(kHeaderSize, len);
      bytes.remove_prefix(kHeaderSize + payload.size());
      ProofRecord p;
      p.seq = chain::DecodeU64(payload.data());
      p.received_at_ns = chain::DecodeU64(payload.data() + 8);
      chain::DigestFromBytes(payload.substr(16, 32), &p.prev_entry_hash);
      payload.remove_prefix(16 + 32);
      if (kind == 'R') {
        p.row = true;
        // (A row is never after the range's end: rows are received before
        // the record that closes the window, and received_at never
        // decreases along a chain that verifies.)
        if (proof_ != nullptr) proof_->Add(p);
        if (options_.format == Format::kJson && rows_ == 0) {
          payload.remove_prefix(kJsonRowSeparator.size());
        }
        rows.append(payload);
        ++rows_;
      } else {
        chain::DigestFromBytes(payload.substr(0, 32), &p.entry_hash);
        chain::DigestFromBytes(payload.substr(32, 32), &p.body_digest);
        p.pruned = payload[64] != 0;
        p.category = payload.substr(65);
        proof_->Add(p);
      }
    }
    if (!rows.empty()) Write(rows);
  }

  uint64_t rows() const { return rows_; }

 private:
  static constexpr size_t kHeaderSize = 1 + sizeof(uint32_t);
  void Write(std::string_view b) { out_->Append(b); }

  const ExportOptions& options_;
  ReportFile* out_;
  ProofWriter* proof_;
  const uint64_t newest_;
  uint64_t rows_ = 0;
  std::string deliver_buffer_;
};

}  // namespace

bool Filters::Matches(const Row& row) const {
  const chain::EventFields& e = row.event;
  const uint64_t t =
      time_field == TimeField::kOccurredAt ? e.occurred_at_ns : row.received_at_ns;
  if (from_ns && t < *from_ns) return false;
  if (to_ns && t >= *to_ns) return false;
  auto eq = [](const std::string& want, const std::string& got) {
    return want.empty() || want == got;
  };
  return eq(actor_id, e.actor_id) && eq(action, e.action) &&
         eq(resource_type, e.resource_type) && eq(resource_id, e.resource_id) &&
         eq(category, e.category) && eq(outcome, e.outcome);
}

nlohmann::ordered_json Filters::ToJson() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["time_field"] =
      time_field == TimeField::kOccurredAt ? "occurred_at" : "received_at";
  j["from"] = from_ns ? nlohmann::ordered_json(FormatTimeNs(*from_ns)) : nullptr;
  j["to"] = to_ns ? nlohmann::ordered_json(FormatTimeNs(*to_ns)) : nullptr;
  auto opt = [](const std::string& s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
  };
  j["actor_id"] = opt(actor_id);
  j["action"] = opt(action);
  j["resource_type"] = opt(resource_type);
  j["resource_id"] = opt(resource_id);
  j["category"] = opt(category);
  j["outcome"] = opt(outcome);
  return j;
}

absl::StatusOr<ExportResult> Export(const store::Reader& reader,
                                    const ExportOptions& options,
                                    check::Reporter* reporter) {
  if (auto s = chain::CheckTenantId(options.tenant, "--tenant"); !s.ok()) return s;
  if (options.out_path.empty()) return absl::InvalidArgumentError("--out: required");
  if (options.signer == nullptr) return absl::InvalidArgumentError("--sign-key: required");

  // One pass: the check's workers format each clean record as a row, and
  // the rows are written, in order, to a temporary file that becomes the
  // report only if the whole check finds nothing.
  const std::string tmp = options.out_path + ".tmp";
  auto out = ReportFile::Create(tmp);
  if (!out.ok()) return out.status();
  // Whatever ends the export, no temporary file is left (once renamed
  // into place there is none to remove).
  struct RemoveAtExit {
    const std::string& path;
    ~RemoveAtExit() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  };
  RemoveAtExit remove_tmp{tmp};
  // The range proof, when the daemon stored v2 checkpoints (a store from
  // before the tree has none, and its report has no proof).
  uint64_t newest = 0;
  if (check::StoreHasTree(reader)) {
    auto cp = NewestCheckpointV2Size(reader, options.tenant);
    if (!cp.ok()) return cp.status();
    newest = *cp;
  }
  const std::string proof_tmp = ProofPath(options.out_path) + ".tmp";
  RemoveAtExit remove_proof_tmp{proof_tmp};
  std::unique_ptr<ReportFile> proof_file;
  std::optional<ProofWriter> proof;
  if (newest > 0) {
    auto f = ReportFile::Create(proof_tmp);
    if (!f.ok()) return f.status();
    proof_file = std::move(*f);
    const bool on_received = options.filters.time_field == Filters::TimeField::kReceivedAt;
    proof.emplace(reader, options.tenant,
                  on_received ? options.filters.from_ns : std::nullopt,
                  on_received ? options.filters.to_ns : std::nullopt, newest, proof_file.get());
  }
  RowFormatter formatter(options, out->get(), proof ? &*proof : nullptr, newest);
  formatter.Begin();

  ExportResult result;
  check::StoreCheckOptions check_options = options.check;
  check_options.tenant = options.tenant;
  check_options.parallel.formatter = &formatter;
  if (!check_options.progress) check_options.progress = options.progress;
  auto checked = check::CheckStore(reader, check_options, reporter);
  if (!checked.ok() || checked->findings > 0 || checked->tenants.empty()) {
    if (!checked.ok()) return checked.status();
    result.check = *checked;
    return result;
  }
  result.check = *checked;
  const check::TenantSummary& summary = checked->tenants.front();
  result.pruned = summary.pruned;

  formatter.End();
  if (auto s = (*out)->Finish(); !s.ok()) {
    return absl::UnavailableError("cannot write " + tmp + ": " + std::string(s.message()));
  }
  const uint64_t bytes = (*out)->bytes();
  result.rows = formatter.rows();

  // Only the manifest is signed; it carries the report's SHA-256, taken as
  // the rows were written.
  const chain::Digest report_digest = (*out)->sha256();
  std::error_code size_ec;
  if (std::filesystem::file_size(tmp, size_ec) != bytes || size_ec) {
    return absl::DataLossError("report changed on disk while being written");
  }

  nlohmann::ordered_json proof_json = nullptr;
  if (proof) {
    auto done = proof->Finish();
    if (!done.ok()) return done.status();
    if (auto s = proof_file->Finish(); !s.ok()) {
      return absl::UnavailableError("cannot write " + proof_tmp + ": " +
                                    std::string(s.message()));
    }
    proof_json = {
        {"file", std::filesystem::path(ProofPath(options.out_path)).filename().string()},
        {"bytes", proof_file->bytes()},
        {"sha256", chain::ToHex(proof_file->sha256())},
        {"first_seq", done->first_seq},
        {"last_seq", done->last_seq},
        {"leaves", done->leaves}};
    result.proof_first_seq = done->first_seq;
    result.proof_last_seq = done->last_seq;
  }

  auto newest_v1 = NewestStoredCheckpoint(reader, options.tenant);
  if (!newest_v1.ok()) return newest_v1.status();
  auto cp2 = StoredCheckpointV2(reader, options.tenant, summary.head_seq);
  if (!cp2.ok()) return cp2.status();
  const chain::NoteVerifierKey& vk = options.signer->verifier_key();
  nlohmann::ordered_json m;
  m["format"] = kManifestFormat;
  m["tenant"] = options.tenant;
  m["filters"] = options.filters.ToJson();
  m["verified_range"] = {{"first_seq", summary.first_seq},
                         {"last_seq", summary.head_seq},
                         {"records", summary.records},
                         {"pruned_records", result.pruned}};
  m["head_hash"] = chain::ToHex(summary.head_hash);
  nlohmann::ordered_json cps = nlohmann::ordered_json::array();
  if (!newest_v1->empty()) {
    cps.push_back({{"source", "stored"}, {"note", *newest_v1}});
  }
  for (const auto& c : options.check.supplied) {
    if (c.checkpoint.tenant != options.tenant) continue;
    cps.push_back({{"source", "supplied"},
                   {"seq", c.checkpoint.seq},
                   {"head_hash", chain::ToHex(c.checkpoint.head)}});
  }
  m["checkpoints"] = cps;
  m["checkpoint_v2"] = cp2->has_value() ? nlohmann::ordered_json(**cp2)
                                        : nlohmann::ordered_json(nullptr);
  m["signatures_checked"] = checked->signatures_checked;
  m["check_keys"] = checked->keys_used;
  m["row_count"] = result.rows;
  m["report"] = {{"file", std::filesystem::path(options.out_path).filename().string()},
                 {"format", options.format == Format::kCsv ? "csv" : "json"},
                 {"bytes", bytes},
                 {"sha256", chain::ToHex(report_digest)},
                 {"csv_formulas", options.format == Format::kCsv
                                      ? nlohmann::ordered_json(CsvFormulasName(options.csv_formulas))
                                      : nlohmann::ordered_json(nullptr)}};
  m["proof"] = proof_json;
  m["tool_version"] = options.tool_version;
  m["generated_at"] = FormatTimeNs(options.generated_at_ns);
  m["signer"] = {{"key_name", vk.name},
                 {"key_id", absl::StrFormat("%08x", vk.key_id)},
                 {"verifier_key", chain::NoteVerifierKeyString(vk)},
                 {"public_key_pem", options.signer->private_key().PublicKeyPem()}};
  result.manifest = m.dump(2) + "\n";

  const std::string manifest_path = ManifestPath(options.out_path);
  if (auto s = WriteFileAtomic(manifest_path, result.manifest); !s.ok()) return s;
  if (auto s = WriteFileAtomic(SigPath(manifest_path),
                               options.signer->private_key().Sign(result.manifest));
      !s.ok()) {
    return s;
  }
  // A report signature left by an earlier export to the same name would
  // not match this report, nor would an earlier proof.
  std::error_code stale_ec;
  std::filesystem::remove(SigPath(options.out_path), stale_ec);
  if (proof) {
    std::error_code proof_ec;
    std::filesystem::rename(proof_tmp, ProofPath(options.out_path), proof_ec);
    if (proof_ec) return absl::UnavailableError("cannot rename to " + ProofPath(options.out_path));
  } else {
    std::filesystem::remove(ProofPath(options.out_path), stale_ec);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options.out_path, ec);
  if (ec) return absl::UnavailableError("cannot rename to " + options.out_path);
  result.exported = true;
  return result;
}

}  // namespace indelible::report
