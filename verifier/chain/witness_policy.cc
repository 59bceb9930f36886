#include "verifier/chain/witness_policy.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

// The payload that marks a below-quorum status (absl::Status payloads are
// keyed by a type URL).
constexpr char kBelowQuorumPayload[] = "indelible/witness-policy/below-quorum";

size_t DistinctWitnesses(const WitnessPolicy& policy) {
  size_t distinct = 0;
  for (size_t i = 0; i < policy.witnesses.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) {
      seen = policy.witnesses[i].public_key == policy.witnesses[j].public_key;
    }
    if (!seen) ++distinct;
  }
  return distinct;
}

absl::Status CheckQuorumValue(const WitnessPolicy& policy) {
  if (policy.witnesses.empty()) {
    return absl::InvalidArgumentError("witness policy: no witness given");
  }
  if (policy.quorum == 0) {
    return absl::InvalidArgumentError("witness policy: quorum must be at least 1");
  }
  return ValidateWitnessPolicy(policy);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

absl::StatusOr<WitnessPolicy> ParseWitnessPolicy(std::string_view text) {
  WitnessPolicy policy;
  bool have_quorum = false;
  const std::vector<std::string_view> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("witness policy line ", i + 1, ": ", ToAbsl(why)));
    };
    const std::string_view line = Trim(lines[i]);
    if (line.empty() || line.front() == '#') continue;
    const size_t sp = line.find_first_of(" \t");
    const std::string_view word = line.substr(0, sp);
    const std::string_view arg =
        sp == std::string_view::npos ? std::string_view() : Trim(line.substr(sp));
    if (arg.empty() || arg.find_first_of(" \t") != std::string_view::npos) {
      return bad("want \"witness VKEY\" or \"quorum K\"");
    }
    if (word == "witness") {
      absl::StatusOr<CosignerKey> key = ParseCosignerKey(arg);
      if (!key.ok()) return bad(ToStd(key.status().message()));
      policy.witnesses.push_back(*std::move(key));
    } else if (word == "quorum") {
      uint64_t k = 0;
      if (have_quorum) return bad("quorum given twice");
      if (!ParseDecimal(arg, &k)) return bad("quorum is not a decimal number");
      policy.quorum = static_cast<size_t>(k);
      have_quorum = true;
    } else {
      return bad(absl::StrCat("unknown keyword \"", ToAbsl(word), "\""));
    }
  }
  if (!have_quorum) {
    return absl::InvalidArgumentError("witness policy: no \"quorum K\" line");
  }
  if (absl::Status s = CheckQuorumValue(policy); !s.ok()) return s;
  return policy;
}

absl::StatusOr<WitnessPolicy> WitnessPolicyFromFlags(
    const std::vector<std::string>& witnesses, std::optional<size_t> quorum) {
  WitnessPolicy policy;
  for (const std::string& w : witnesses) {
    absl::StatusOr<CosignerKey> key = ParseCosignerKey(w);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--witness ", w, ": ", key.status().message()));
    }
    policy.witnesses.push_back(*std::move(key));
  }
  if (policy.witnesses.empty()) {
    return absl::InvalidArgumentError("--quorum needs --witness");
  }
  policy.quorum = quorum.value_or(DistinctWitnesses(policy));
  if (absl::Status s = CheckQuorumValue(policy); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--quorum: ", s.message()));
  }
  return policy;
}

namespace {

// The policy as given, structurally valid; majority not checked.
absl::StatusOr<std::optional<WitnessPolicy>> LoadPolicy(
    const std::vector<std::string>& witnesses, size_t quorum, const std::string& file) {
  using Result = std::optional<WitnessPolicy>;
  if (!file.empty()) {
    if (!witnesses.empty() || quorum != 0) {
      return absl::InvalidArgumentError(
          "--witness-policy: give either a policy file or --witness and --quorum");
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in || in.bad()) {
      return absl::NotFoundError(absl::StrCat("--witness-policy: cannot read ", file));
    }
    absl::StatusOr<WitnessPolicy> p = ParseWitnessPolicy(text.str());
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--witness-policy ", file, ": ", p.status().message()));
    }
    return Result(*std::move(p));
  }
  if (witnesses.empty() && quorum == 0) return Result();
  absl::StatusOr<WitnessPolicy> p = WitnessPolicyFromFlags(
      witnesses, quorum == 0 ? std::nullopt : std::optional<size_t>(quorum));
  if (!p.ok()) return p.status();
  return Result(*std::move(p));
}

}  // namespace

absl::Status CheckMajorityQuorum(const WitnessPolicy& policy) {
  const size_t n = DistinctWitnesses(policy);
  if (2 * policy.quorum > n) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "witness policy: quorum ", policy.quorum, " of ", n,
      " witnesses is not a majority: two different checkpoints of one size could each "
      "be cosigned by ", policy.quorum, " of them (a split view); demand more than ", n / 2,
      ", or pass --allow-minority-quorum to accept that"));
}

absl::StatusOr<std::optional<WitnessPolicy>> WitnessPolicyFromCommandLine(
    const std::vector<std::string>& witnesses, size_t quorum, const std::string& file,
    bool allow_minority) {
  absl::StatusOr<std::optional<WitnessPolicy>> p = LoadPolicy(witnesses, quorum, file);
  if (!p.ok() || !p->has_value() || allow_minority) return p;
  if (absl::Status s = CheckMajorityQuorum(**p); !s.ok()) {
    const std::string where = file.empty() ? "--quorum" : "--witness-policy " + file;
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
  }
  return p;
}

std::string FormatWitnessPolicy(const WitnessPolicy& policy) {
  std::string out;
  for (const CosignerKey& w : policy.witnesses) {
    absl::StrAppend(&out, "witness ", CosignerKeyString(w), "\n");
  }
  absl::StrAppend(&out, "quorum ", policy.quorum, "\n");
  return out;
}

absl::StatusOr<QuorumCheck> CheckQuorum(std::string_view note,
                                        const WitnessPolicy& policy) {
  if (absl::Status st = ValidateWitnessPolicy(policy); !st.ok()) return st;
  absl::StatusOr<SplitNoteResult> split = SplitNote(note);
  if (!split.ok()) return split.status();
  QuorumCheck check;
  check.quorum = policy.quorum;
  for (size_t i = 0; i < policy.witnesses.size(); ++i) {
    const CosignerKey& w = policy.witnesses[i];
    bool listed_before = false;
    for (size_t j = 0; j < i && !listed_before; ++j) {
      listed_before = w.public_key == policy.witnesses[j].public_key;
    }
    if (listed_before) continue;
    bool counted = false;
    for (const NoteSignature& sig : split->signatures) {
      if (sig.name != w.name || sig.key_id != w.key_id) continue;
      uint64_t ts = 0;
      if (absl::Status st = VerifyCosignature(w, split->text, sig, &ts); !st.ok()) {
        return st;
      }
      if (!counted) check.cosigned.push_back({w.name, w.key_id, ts});
      counted = true;
    }
    if (!counted) check.missing.push_back(w.name);
  }
  return check;
}

absl::Status QuorumStatus(const QuorumCheck& check) {
  if (check.met()) return absl::OkStatus();
  std::vector<std::string> names;
  for (const WitnessCosignature& c : check.cosigned) names.push_back(c.name);
  absl::Status s = absl::UnauthenticatedError(absl::StrCat(
      "below witness quorum: cosigned by ", check.cosigned.size(), " of the ",
      check.quorum, " witnesses required",
      names.empty() ? "" : absl::StrCat(" (", absl::StrJoin(names, ", "), ")"),
      "; missing: ", absl::StrJoin(check.missing, ", ")));
  s.SetPayload(kBelowQuorumPayload, absl::Cord("1"));
  return s;
}

bool IsBelowQuorum(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnauthenticated &&
         status.GetPayload(kBelowQuorumPayload).has_value();
}

}  // namespace indelible::chain
