#include "verifier/cli/report_commands.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/key_file.h"
#include "verifier/chain/text.h"
#include "verifier/cli/progress.h"
#include "verifier/cli/trust_flags.h"
#include "verifier/cli/witness_flags.h"
#include "verifier/report/exporter.h"
#include "verifier/report/range_proof.h"
#include "verifier/report/report_check.h"
#include "verifier/report/report_rotations.h"

namespace indelible::verify {
namespace {

using chain::ToAbsl;
using chain::ToStd;

struct ExportFlags {
  std::string data_dir, tenant, out, sign_key, key_name = "indelible-report";
  std::string format = "csv", from, to, time_field = "received_at";
  std::string csv_formulas = "defuse";
  report::Filters filters;
  TrustFlags trust;
  bool json = false;
};

int Fail(const std::string& cmd, const std::string& what, const absl::Status& s) {
  std::cerr << "indelible-verify " << cmd << ": " << what << (what.empty() ? "" : ": ")
            << ToStd(s.message()) << "\n";
  return kExitError;
}

// RFC 3339 ("2026-01-31T00:00:00Z") or integer nanoseconds since the epoch.
absl::StatusOr<uint64_t> ParseTimeFlag(const std::string& text) {
  uint64_t ns = 0;
  if (absl::SimpleAtoi(ToAbsl(text), &ns)) return ns;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InvalidArgumentError("want RFC 3339 (2026-01-31T00:00:00Z) or ns: " + err);
  }
  if (t < absl::UnixEpoch()) return absl::InvalidArgumentError("before 1970");
  return static_cast<uint64_t>(absl::ToUnixNanos(t));
}

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

class CountingReporter final : public check::Reporter {
 public:
  void Report(const check::Finding& f) override {
    if (count_++ < 20) {
      std::cerr << "finding: tenant=" << f.tenant << " seq=" << f.seq
                << " kind=" << check::KindName(f.kind) << " " << f.detail << "\n";
    }
  }
  uint64_t count_ = 0;
};

int RunExport(ExportFlags& f) {
  const std::string cmd = "export";
  report::ExportOptions o;
  o.tenant = f.tenant;
  o.out_path = f.out;
  o.filters = f.filters;
  if (f.format == "csv") {
    o.format = report::Format::kCsv;
  } else if (f.format == "json") {
    o.format = report::Format::kJson;
  } else {
    return Fail(cmd, "--format", absl::InvalidArgumentError("want csv or json"));
  }
  if (f.csv_formulas == "defuse") {
    o.csv_formulas = report::CsvFormulas::kDefuse;
  } else if (f.csv_formulas == "keep") {
    o.csv_formulas = report::CsvFormulas::kKeep;
  } else {
    return Fail(cmd, "--csv-formulas", absl::InvalidArgumentError("want defuse or keep"));
  }
  if (f.time_field == "received_at") {
    o.filters.time_field = report::Filters::TimeField::kReceivedAt;
  } else if (f.time_field == "occurred_at") {
    o.filters.time_field = report::Filters::TimeField::kOccurredAt;
  } else {
    return Fail(cmd, "--time-field", absl::InvalidArgumentError("want received_at or occurred_at"));
  }
  if (!f.from.empty()) {
    auto t = ParseTimeFlag(f.from);
    if (!t.ok()) return Fail(cmd, "--from", t.status());
    o.filters.from_ns = *t;
  }
  if (!f.to.empty()) {
    auto t = ParseTimeFlag(f.to);
    if (!t.ok()) return Fail(cmd, "--to", t.status());
    o.filters.to_ns = *t;
  }
  if (auto s = f.trust.Apply(&o.check); !s.ok()) return Fail(cmd, "", s);
  if (f.key_name.empty() || f.key_name.find_first_of(" +\n") != std::string::npos) {
    return Fail(cmd, "--key-name", absl::InvalidArgumentError("no spaces or '+'"));
  }
  bool created = false;
  auto key = chain::LoadSigningKey(f.sign_key, false, &created);
  if (!key.ok()) return Fail(cmd, "--sign-key", key.status());
  const chain::NoteSigner signer(f.key_name, *std::move(key));
  o.signer = &signer;
  o.generated_at_ns = NowNs();
  o.tool_version = kVerifyVersion;
  ProgressBar progress;
  o.progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };

  auto reader = store::Reader::Open(f.data_dir);
  if (!reader.ok()) return Fail(cmd, "", reader.status());
  CountingReporter reporter;
  auto r = report::Export(**reader, o, &reporter);
  progress.Finish();
  if (!r.ok()) return Fail(cmd, "", r.status());
  if (!r->exported) {
    std::cerr << "indelible-verify export: the chain of " << f.tenant << " did not verify ("
              << reporter.count_ << " findings); nothing was exported\n";
    return kExitFindings;
  }
  if (r->rows == 0) {
    // A signed empty report is evidence too ("no such event in the verified
    // range"), so it is written and the exit stays 0; but say so.
    std::cerr << "indelible-verify export: no event of " << f.tenant
              << " matched the filters (" << r->check.records
              << " records checked); the report has no rows\n";
  }
  if (f.json) {
    std::cout << r->manifest;
  } else {
    std::cout << "exported " << r->rows << " rows of " << f.tenant << " to " << f.out
              << "\n  manifest:   " << report::ManifestPath(f.out)
              << "\n  signature:  " << report::SigPath(report::ManifestPath(f.out))
              << "\n  signer:     " << chain::NoteVerifierKeyString(signer.verifier_key())
              << "\n  pruned records in the verified range: " << r->pruned << "\n";
    if (r->proof_last_seq > 0) {
      std::cout << "  range proof: " << report::ProofPath(f.out) << " (seqs "
                << r->proof_first_seq << ".." << r->proof_last_seq << ")\n";
    } else {
      std::cout << "  range proof: none (the store has no v2 checkpoint of " << f.tenant
                << ")\n";
    }
  }
  return kExitVerified;
}

struct VerifyReportFlags {
  std::string report, manifest;
  std::vector<std::string> keys, key_pems, rotations;
  WitnessFlags witness;
  bool json = false;
};

// The outcome of verify-report: its exit code and the verdict it prints.
struct ReportVerdict {
  int code = kExitVerified;
  std::string verdict;   // genuine | not_genuine | no_trusted_key | ...
  std::string headline;  // GENUINE | NOT GENUINE | NOT VERIFIED (...)
};

ReportVerdict Judge(const report::ReportCheckResult& r) {
  // Problems are proof of damage whoever signed; without a trusted key a
  // clean result proves nothing (fail closed: never exit 0). With a witness
  // policy, a report is held to it after the signature checks: never 0
  // without checkpoint_v2 signed by a trusted log key and cosigned by a
  // quorum. Genuine means complete too: a range proof that recomputes the
  // root of a checkpoint signed by a trusted key.
  if (!r.problems.empty()) return {kExitFindings, "not_genuine", "NOT GENUINE"};
  if (r.key_from_manifest) {
    return {kExitNoTrustedKey, "no_trusted_key", "NOT VERIFIED (no trusted key)"};
  }
  if (r.no_trusted_log_key) {
    return {kExitNoTrustedKey, "no_trusted_log_key", "NOT VERIFIED (no trusted log key)"};
  }
  if (r.below_quorum) {
    return {kExitBelowQuorum, "below_quorum", "NOT VERIFIED (below witness quorum)"};
  }
  if (!r.complete) {
    return {kExitBelowQuorum, "not_proven_complete", "NOT VERIFIED (completeness not proven)"};
  }
  return {kExitVerified, "genuine", "GENUINE"};
}

void PrintReportJson(const std::string& path, const ReportVerdict& v,
                     const report::ReportCheckResult& r) {
  nlohmann::ordered_json j;
  j["command"] = "verify-report";
  j["report"] = path;
  j["verdict"] = v.verdict;
  j["genuine"] = v.code == kExitVerified;
  j["key_trusted"] = r.key_trusted;
  j["signer_key_id"] = r.signer_key_id;
  j["signer_verifier_key"] = r.signer_verifier_key;
  j["tenant"] = r.tenant;
  j["format"] = r.format;
  j["rows"] = r.rows;
  j["verified_range"] = {{"first_seq", r.first_seq}, {"last_seq", r.last_seq}};
  j["head_hash"] = r.head_hash;
  j["checkpoint_v2"] = {{"present", r.checkpoint_v2},
                        {"log_signed", r.checkpoint_v2_log_signed},
                        {"cosigned", r.cosigned}};
  j["complete"] = r.complete;
  j["proof"] = {{"present", r.proof},
                {"first_seq", r.proof_first_seq},
                {"last_seq", r.proof_last_seq},
                {"leaves", r.proof_leaves},
                {"log_signed", r.proof_log_signed}};
  j["problems"] = r.problems;
  j["notes"] = r.notes;
  std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

void PrintReportText(const std::string& path, const ReportVerdict& v,
                     const report::ReportCheckResult& r,
                     const std::optional<chain::WitnessPolicy>& policy) {
  std::cout << v.headline << ": " << path << "\n"
            << "  tenant " << r.tenant << ", " << r.rows << " " << r.format
            << " rows, verified seq range " << r.first_seq << ".." << r.last_seq << ", head "
            << r.head_hash << "\n"
            << "  signed by key " << r.signer_verifier_key << " (key id " << r.signer_key_id
            << ", computed from the key"
            << (r.key_from_manifest
                    ? "): the key the manifest carries, NOT a trusted one; pass the "
                      "signer's key with --key or --key-pem"
                : r.key_trusted ? "): a trusted key"
                                : "): NOT a trusted key")
            << "\n";
  if (r.checkpoint_v2) {
    std::cout << "  v2 checkpoint of the head: "
              << (r.checkpoint_v2_log_signed ? "signed by a trusted key"
                                             : "log signature not checked");
    if (policy.has_value()) {
      std::cout << ", cosigned by " << r.cosigned.size() << " of the " << policy->quorum
                << " witnesses required";
    }
    std::cout << "\n";
  }
  if (r.proof) {
    std::cout << "  range proof: seqs " << r.proof_first_seq << ".." << r.proof_last_seq << " ("
              << r.rows << " rows, " << r.proof_leaves << " leaves), "
              << (r.complete ? "the root of the checkpoint of size " : "checkpoint of size ")
              << r.proof_last_seq
              << (r.complete ? " recomputes: complete" : ": completeness not proven") << "\n";
  }
  for (const auto& n : r.notes) std::cout << "  note: " << n << "\n";
  for (const auto& p : r.problems) std::cout << "  problem: " << p << "\n";
}

// --key, --key-pem and --rotation into o->trusted_keys and o->log_keys.
absl::Status LoadReportKeys(const VerifyReportFlags& f, report::ReportCheckOptions* o) {
  auto named = [](const std::string& what, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  };
  for (const auto& k : f.keys) {
    auto raw = report::ParsePublicKey(k);
    if (!raw.ok()) return named("--key " + k, raw.status());
    o->trusted_keys.push_back(*raw);
  }
  for (const auto& path : f.key_pems) {
    auto pem = ReadFile(path);
    if (!pem.ok()) return named("--key-pem", pem.status());
    auto raw = report::ParsePublicKey(*pem);
    if (!raw.ok()) return named("--key-pem " + path, raw.status());
    o->trusted_keys.push_back(*raw);
  }
  std::vector<std::string> statements;
  for (const std::string& path : f.rotations) {
    auto note = ReadFile(path);
    if (!note.ok()) return named("--rotation", note.status());
    statements.push_back(*std::move(note));
  }
  auto followed = report::FollowRotations(statements, o->trusted_keys);
  if (!followed.ok()) return named("--rotation", followed.status());
  o->log_keys = *std::move(followed);
  return absl::OkStatus();
}

int RunVerifyReport(const VerifyReportFlags& f) {
  const std::string cmd = "verify-report";
  auto policy = f.witness.Load();
  if (!policy.ok()) return Fail(cmd, "", policy.status());
  report::ReportCheckOptions o;
  o.report_path = f.report;
  o.manifest_path = f.manifest;
  o.policy = *policy;
  if (absl::Status s = LoadReportKeys(f, &o); !s.ok()) return Fail(cmd, "", s);
  auto r = report::CheckReport(o);
  if (!r.ok()) return Fail(cmd, "", r.status());
  const ReportVerdict v = Judge(*r);
  if (f.json) {
    PrintReportJson(f.report, v, *r);
  } else {
    PrintReportText(f.report, v, *r, *policy);
  }
  return v.code;
}

}  // namespace

std::pair<CLI::App*, Command> RegisterExportCommand(CLI::App* app) {
  auto f = std::make_shared<ExportFlags>();
  CLI::App* sub = app->add_subcommand(
      "export",
      "Export one tenant's events as a signed CSV or JSON report, after "
      "checking its chain. Exit 0: exported, 1: the chain did not verify "
      "(nothing written), 2: usage or I/O error.");
  sub->add_option("--data-dir", f->data_dir, "The daemon's data directory, or a copy")->required();
  sub->add_option("--tenant", f->tenant, "The tenant to export")->required();
  sub->add_option("--out", f->out, "The report file; .manifest.json, .manifest.json.sig and .proof.json go beside it")
      ->required();
  sub->add_option("--sign-key", f->sign_key, "Ed25519 private key (PEM, mode 0600) to sign with")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--key-name", f->key_name, "Signer name in the manifest")->capture_default_str();
  sub->add_option("--format", f->format, "csv or json")->capture_default_str();
  sub->add_option("--csv-formulas", f->csv_formulas,
                  "defuse (a ' before CSV cells starting with = + - @ TAB CR) or keep")
      ->capture_default_str();
  sub->add_option("--from", f->from, "Only events at or after this time (RFC 3339 or ns)");
  sub->add_option("--to", f->to, "Only events before this time (RFC 3339 or ns)");
  sub->add_option("--time-field", f->time_field,
                  "received_at (the daemon's clock) or occurred_at (client-asserted)")
      ->capture_default_str();
  sub->add_option("--actor", f->filters.actor_id, "Only this actor id");
  sub->add_option("--action", f->filters.action, "Only this action");
  sub->add_option("--resource-type", f->filters.resource_type, "Only this resource type");
  sub->add_option("--resource-id", f->filters.resource_id, "Only this resource id");
  sub->add_option("--category", f->filters.category, "Only this category");
  sub->add_option("--outcome", f->filters.outcome, "Only this outcome");
  f->trust.Register(sub);
  sub->add_flag("--json", f->json, "Print the manifest instead of a summary");
  return {sub, [f] { return RunExport(*f); }};
}

std::pair<CLI::App*, Command> RegisterVerifyReportCommand(CLI::App* app) {
  auto f = std::make_shared<VerifyReportFlags>();
  CLI::App* sub = app->add_subcommand(
      "verify-report",
      "Check a report: the manifest's signature (under a trusted key), its digest, and "
      "its rows against the manifest. Exit 0: genuine, 1: problems, 2: usage "
      "or I/O error, 3: not verified: no trusted key given, no range proof or "
      "its checkpoint not signed by a given key, or a witness policy given and "
      "the v2 checkpoint absent, signed by no trusted log key or below quorum.");
  sub->add_option("--report", f->report, "The report file")->required()->check(CLI::ExistingFile);
  sub->add_option("--manifest", f->manifest, "Default: <report>.manifest.json");
  sub->add_option("--key", f->keys,
                  "Trusted key (verifier-key string): the report signer's, and the log's "
                  "for the v2 checkpoint; without --key or --key-pem nothing is "
                  "verified (exit 3)");
  sub->add_option("--key-pem", f->key_pems, "Trusted signer key (PEM public key file)")
      ->check(CLI::ExistingFile);
  sub->add_option("--rotation", f->rotations,
                  "A key rotation statement (docs/FORMAT.md section 14) from a trusted "
                  "key: its new key is trusted to sign the log's checkpoints (repeatable)")
      ->check(CLI::ExistingFile);
  f->witness.Register(sub);
  sub->add_flag("--json", f->json, "Print the result as JSON");
  return {sub, [f] { return RunVerifyReport(*f); }};
}

}  // namespace indelible::verify
