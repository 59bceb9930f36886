#include "verifier/cli/check_output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible::verify {
namespace {

using chain::ToAbsl;

std::string_view KeySourceName(check::KeySource s) {
  switch (s) {
    case check::KeySource::kGiven:
      return "given";
    case check::KeySource::kStore:
      return "store";
    case check::KeySource::kNone:
      return "none";
  }
  return "none";
}

double PerSecond(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return absl::StrCat(n, " ", ToAbsl(n == 1 ? one : many));
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kVerified:
      return "verified";
    case Verdict::kFindings:
      return "findings";
    case Verdict::kNoTrustedKey:
      return "no_trusted_key";
    case Verdict::kBelowQuorum:
      return "below_quorum";
  }
  return "no_trusted_key";
}

nlohmann::ordered_json QuorumJson(const check::TenantSummary& t) {
  nlohmann::ordered_json cosigned = nlohmann::ordered_json::array();
  for (const chain::WitnessCosignature& c : t.quorum.cosigned) cosigned.push_back(c.name);
  return {{"checkpoint_size", t.witnessed_size},
          {"quorum", t.quorum.quorum},
          {"cosigned", std::move(cosigned)},
          {"missing", t.quorum.missing},
          {"met", t.quorum.quorum > 0 && t.quorum.met()}};
}

// Why a tenant is below quorum, for the human output.
std::string BelowQuorumLine(const check::TenantSummary& t) {
  if (t.quorum.quorum == 0) {
    return absl::StrCat(t.tenant, ": no v2 checkpoint that holds to judge");
  }
  if (t.quorum.met() && t.witnessed_size < t.head_seq) {
    return absl::StrCat(t.tenant, ": records ", t.witnessed_size + 1, "..", t.head_seq,
                        " come after the newest v2 checkpoint (size ", t.witnessed_size,
                        ") and no witness has cosigned them");
  }
  std::vector<std::string> names;
  for (const chain::WitnessCosignature& c : t.quorum.cosigned) names.push_back(c.name);
  return absl::StrCat(t.tenant, ": newest v2 checkpoint (size ", t.witnessed_size,
                      ") cosigned by ", t.quorum.cosigned.size(), " of the ", t.quorum.quorum,
                      " witnesses required",
                      names.empty() ? "" : absl::StrCat(" (", absl::StrJoin(names, ", "), ")"),
                      "; missing: ", absl::StrJoin(t.quorum.missing, ", "));
}

}  // namespace

Trust JudgeTrust(const check::StoreCheckResult& r) {
  Trust t;
  const bool given = r.key_source == check::KeySource::kGiven;
  for (const check::TenantSummary& s : r.tenants) {
    // Supplied checkpoints count only when keys were given: then each one's
    // signature was verified as it was loaded.
    const uint64_t n = given ? s.checkpoints_signed + s.supplied_checkpoints : 0;
    t.trusted_signatures += n;
    if (n == 0 && s.records > 0) t.unsigned_tenants.push_back(s.tenant);
  }
  if (r.findings > 0) {
    t.verdict = Verdict::kFindings;
  } else if (given && t.trusted_signatures > 0) {
    t.verdict = r.below_quorum.empty() ? Verdict::kVerified : Verdict::kBelowQuorum;
  } else {
    t.verdict = Verdict::kNoTrustedKey;
  }
  return t;
}

nlohmann::ordered_json CheckReportJson(const CheckReport& report) {
  const check::StoreCheckResult& r = report.result;
  const Trust trust = JudgeTrust(r);
  nlohmann::ordered_json j;
  j["command"] = "check";
  j["data_dir"] = report.data_dir;
  j["tenant_filter"] = report.tenant.empty() ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(report.tenant);
  j["verdict"] = std::string(VerdictName(trust.verdict));
  j["verified"] = trust.verdict == Verdict::kVerified;
  j["signatures_checked"] = r.signatures_checked;
  j["key_source"] = std::string(KeySourceName(r.key_source));
  j["trusted_keys"] = r.keys_used;
  j["trusted_signatures"] = trust.trusted_signatures;
  j["unsigned_tenants"] = trust.unsigned_tenants;
  j["below_quorum_tenants"] = r.below_quorum;
  j["totals"] = {
      {"tenants", r.tenants.size()},     {"records", r.records},
      {"pruned", r.pruned},              {"findings", r.findings},
      {"stored_checkpoints", r.stored_checkpoints},
  };
  nlohmann::ordered_json tenants = nlohmann::ordered_json::array();
  for (const check::TenantSummary& t : r.tenants) {
    tenants.push_back({
        {"tenant", t.tenant},
        {"records", t.records},
        {"pruned", t.pruned},
        {"erased",
         t.erased_by.empty()
             ? nlohmann::ordered_json(nullptr)
             : nlohmann::ordered_json{{"by", t.erased_by},
                                      {"through_seq", t.erased_through},
                                      {"records", t.erased},
                                      {"certificate_verified", t.erasure_verified}}},
        {"first_seq", t.first_seq},
        {"head_seq", t.head_seq},
        {"head_hash", chain::ToHex(t.head_hash)},
        {"head_received_at_ns", std::to_string(t.head_received_at_ns)},
        {"checkpoints",
         {{"stored", t.stored_checkpoints},
          {"signatures_verified", t.checkpoints_signed},
          {"unverified", t.checkpoints_unverified},
          {"supplied", t.supplied_checkpoints},
          {"confirmed", t.checkpoints_confirmed}}},
        {"findings", t.findings},
    });
    if (r.witness_policy) tenants.back()["witnesses"] = QuorumJson(t);
  }
  j["tenants"] = std::move(tenants);
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const check::Finding& f : report.findings) {
    findings.push_back({{"tenant", f.tenant},
                        {"seq", f.seq},
                        {"kind", std::string(check::KindName(f.kind))},
                        {"detail", f.detail}});
  }
  j["findings"] = std::move(findings);
  j["findings_omitted"] = report.findings_omitted;
  j["elapsed_seconds"] = r.seconds;
  j["records_per_second"] = PerSecond(r.records, r.seconds);
  return j;
}

std::string CheckReportText(const CheckReport& report) {
  const check::StoreCheckResult& r = report.result;
  const Trust trust = JudgeTrust(r);
  std::string out = absl::StrCat("data directory ", report.data_dir, "\n");
  if (!report.findings.empty()) {
    absl::StrAppend(&out, "findings:\n");
    for (const check::Finding& f : report.findings) {
      absl::StrAppend(&out, "  ", check::ToString(f), "\n");
    }
    if (report.findings_omitted > 0) {
      absl::StrAppend(&out, "  ... and ", report.findings_omitted,
                      " more (raise --max-findings to list them)\n");
    }
  }
  for (const check::TenantSummary& t : r.tenants) {
    absl::StrAppend(&out, "tenant ", t.tenant, ": ",
                    Plural(t.records, "record", "records"), " (", t.pruned,
                    " pruned), head seq ", t.head_seq, " ",
                    chain::ToHex(t.head_hash));
    if (!t.erased_by.empty()) {
      absl::StrAppend(&out, "; purged through seq ", t.erased_through, " (", t.erased,
                      " bodies erased; certificate ",
                      t.erasure_verified ? "verified" : "not verified", ")");
    }
    if (t.stored_checkpoints + t.supplied_checkpoints > 0) {
      absl::StrAppend(&out, "; checkpoints: ", t.stored_checkpoints,
                      " stored (", t.checkpoints_signed,
                      " signatures verified), ", t.supplied_checkpoints,
                      " supplied, ", t.checkpoints_confirmed,
                      " confirmed by the chain");
    }
    absl::StrAppend(&out, "; ",
                    t.findings == 0 ? std::string("ok")
                                    : Plural(t.findings, "finding", "findings"),
                    "\n");
  }
  if (r.key_source == check::KeySource::kStore && r.stored_checkpoints > 0) {
    absl::StrAppend(
        &out,
        "note: checkpoint signatures were checked against the keys the store "
        "lists itself, which is not independent evidence (give the daemon's "
        "keys with --key or --key-pem)\n");
  }
  if (!r.signatures_checked) {
    absl::StrAppend(
        &out,
        "note: stored checkpoints were held against the chain, but their "
        "signatures were NOT checked (give the daemon's keys with --key or "
        "--key-pem)\n");
  }
  if (r.key_source == check::KeySource::kGiven && trust.trusted_signatures > 0 &&
      !trust.unsigned_tenants.empty()) {
    absl::StrAppend(&out, "note: no checkpoint signature by a trusted key covers ",
                    absl::StrJoin(trust.unsigned_tenants, ", "),
                    ": nothing pins their chains (pass a saved checkpoint with "
                    "--checkpoint)\n");
  }
  if (r.witness_policy) {
    for (const check::TenantSummary& t : r.tenants) {
      if (std::find(r.below_quorum.begin(), r.below_quorum.end(), t.tenant) !=
          r.below_quorum.end()) {
        absl::StrAppend(&out, "below witness quorum: ", BelowQuorumLine(t), "\n");
      }
    }
  }
  const std::string speed = absl::StrFormat(
      "%.2f s, %.0f records/s", r.seconds, PerSecond(r.records, r.seconds));
  const std::string totals =
      absl::StrCat(Plural(r.tenants.size(), "tenant", "tenants"), ", ",
                   Plural(r.records, "record", "records"), " (", r.pruned, " pruned)");
  if (trust.verdict == Verdict::kVerified) {
    absl::StrAppend(&out, "VERIFIED: ", totals, ", no findings, ",
                    Plural(trust.trusted_signatures, "checkpoint signature",
                           "checkpoint signatures"),
                    " verified by a trusted key (", speed, ")\n");
  } else if (trust.verdict == Verdict::kBelowQuorum) {
    absl::StrAppend(&out, "NOT VERIFIED: below witness quorum: ",
                    absl::StrJoin(r.below_quorum, ", "), "; ", totals, ", no findings (",
                    speed, ")\n");
  } else if (trust.verdict == Verdict::kNoTrustedKey) {
    std::string why;
    if (r.key_source != check::KeySource::kGiven) {
      why = "no trusted key was given (--key or --key-pem)";
    } else {
      why = "no checkpoint signature was verified by a trusted key";
    }
    absl::StrAppend(&out, "NOT VERIFIED: ", why, "; ", totals,
                    ", no findings (", speed, ")\n");
  } else {
    size_t bad = 0;
    for (const auto& t : r.tenants) bad += t.findings > 0 ? 1 : 0;
    absl::StrAppend(&out, "FINDINGS: ", Plural(r.findings, "finding", "findings"),
                    " in ", bad, " of ",
                    Plural(r.tenants.size(), "tenant", "tenants"), " (",
                    Plural(r.records, "record", "records"), ", ", speed,
                    ")\n");
  }
  return out;
}

}  // namespace indelible::verify
