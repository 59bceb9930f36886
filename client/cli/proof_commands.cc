// `verify-receipt`, `prove` and the format v2 side of `checkpoint`: proofs
// over the wire, checked with client/proofs.h.
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/proofs.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"
#include "verifier/chain/witness_policy.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;
using json = nlohmann::ordered_json;

absl::StatusOr<std::vector<chain::NoteVerifierKey>> ParseKeys(
    const std::vector<std::string>& keys) {
  std::vector<chain::NoteVerifierKey> out;
  for (const std::string& k : keys) {
    absl::StatusOr<chain::NoteVerifierKey> vk = chain::ParseNoteVerifierKey(k);
    if (!vk.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--verifier-key \"", k, "\": ", vk.status().message()));
    }
    out.push_back(*std::move(vk));
  }
  return out;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << f.rdbuf();
  return buf.str();
}

int NoKey(std::ostream& err, std::string_view cmd) {
  err << "indelible: error: " << cmd
      << ": not verified: no trusted log verifier key (pass --verifier-key, "
         "from 'indelible public-key' checked out of band)\n";
  return kExitRejected;
}

// kExitNotVerified for what did not verify, ExitCodeFor otherwise.
int VerifyFailure(std::ostream& err, std::string_view context,
                  const absl::Status& s) {
  const int code = ReportError(err, context, s);
  if (s.code() == absl::StatusCode::kDataLoss ||
      s.code() == absl::StatusCode::kFailedPrecondition) {
    return kExitNotVerified;
  }
  return code;
}

json CheckpointV2Json(const chain::CheckpointV2& c, const std::string& note) {
  return json{
      {"origin", c.origin()},
      {"tenant", c.tenant},
      {"tree_size", c.size},
      {"root_hash", chain::ToHex(c.root)},
      {"chain_head", chain::ToHex(c.chain_head)},
      {"timestamp_ns", absl::StrCat(c.timestamp_ns)},
      {"note", note},
  };
}

json HashesJson(const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  json a = json::array();
  for (const std::string& h : hashes) a.push_back(chain::Base64Encode(h));
  return a;
}

}  // namespace

int RunCheckpointV2(client::Client& client, const CheckpointFlags& flags,
                    std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<chain::NoteVerifierKey>> keys = ParseKeys(flags.keys);
  if (!keys.ok()) return UsageError(err, chain::ToStd(keys.status().message()));
  std::optional<chain::CheckpointV2> old;
  if (!flags.consistent_with.empty()) {
    if (keys->empty()) return NoKey(err, "checkpoint --consistent-with");
    absl::StatusOr<std::string> text = ReadAll(flags.consistent_with);
    if (!text.ok()) return ReportError(err, "--consistent-with", text.status());
    absl::StatusOr<chain::CheckpointV2> c = chain::VerifyCheckpointV2(*text, *keys);
    if (!c.ok()) {
      return VerifyFailure(err, absl::StrCat("--consistent-with ", flags.consistent_with),
                           c.status());
    }
    old = *std::move(c);
  }
  absl::StatusOr<v1::Checkpoint> served =
      client.GetCheckpointV2(flags.tenant, flags.min_seq);
  if (!served.ok()) return ReportError(err, "checkpoint", served.status());
  absl::StatusOr<chain::CheckpointV2> c =
      keys->empty() ? [&]() -> absl::StatusOr<chain::CheckpointV2> {
        absl::StatusOr<chain::SplitNoteResult> split = chain::SplitNote(served->note());
        if (!split.ok()) return split.status();
        return chain::ParseCheckpointV2Text(split->text);
      }()
                    : chain::VerifyCheckpointV2(served->note(), *keys);
  if (!c.ok()) return VerifyFailure(err, "checkpoint", c.status());
  if (c->tenant != flags.tenant) {
    return VerifyFailure(err, "checkpoint",
                         absl::DataLossError(absl::StrCat(
                             "the note is of tenant \"", c->tenant, "\"")));
  }
  if (old.has_value()) {
    std::vector<chain::Digest> proof;
    if (old->size > 0 && c->size > old->size) {
      absl::StatusOr<v1::GetConsistencyProofResponse> p =
          client.GetConsistencyProof(flags.tenant, old->size, c->size);
      if (!p.ok()) return ReportError(err, "consistency proof", p.status());
      absl::StatusOr<std::vector<chain::Digest>> h = client::ProofHashes(p->hashes());
      if (!h.ok()) return VerifyFailure(err, "consistency proof", h.status());
      proof = *std::move(h);
    }
    if (absl::Status s = client::CheckExtends(*old, *c, proof); !s.ok()) {
      return VerifyFailure(err, "checkpoint", s);
    }
  }
  if (flags.json) {
    out << JsonLine(CheckpointV2Json(*c, served->note())) << "\n";
  } else {
    out << served->note();
  }
  out.flush();
  return kExitOk;
}

int RunVerifyReceipt(client::Client& client, const VerifyReceiptFlags& flags,
                     std::istream& in, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<chain::NoteVerifierKey>> keys = ParseKeys(flags.keys);
  if (!keys.ok()) return UsageError(err, chain::ToStd(keys.status().message()));
  absl::StatusOr<std::optional<chain::WitnessPolicy>> policy =
      chain::WitnessPolicyFromCommandLine(flags.witnesses, flags.quorum, flags.witness_policy,
                                          flags.allow_minority_quorum);
  if (!policy.ok()) return UsageError(err, chain::ToStd(policy.status().message()));
  if (keys->empty()) return NoKey(err, "verify-receipt");
  std::string text;
  if (flags.input.empty() || flags.input == "-") {
    std::stringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  } else {
    absl::StatusOr<std::string> t = ReadAll(flags.input);
    if (!t.ok()) return ReportError(err, "verify-receipt", t.status());
    text = *std::move(t);
  }
  std::vector<std::pair<v1::Receipt, std::string>> receipts;
  std::istringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    v1::Receipt r;
    std::string category;
    absl::Status s = j.is_discarded()
                         ? absl::InvalidArgumentError("not JSON")
                         : ReceiptFromJson(j, &r, &category);
    if (!s.ok()) {
      return UsageError(err, absl::StrCat("verify-receipt: line ", n, ": ",
                                          s.message()));
    }
    receipts.emplace_back(std::move(r), std::move(category));
  }
  if (receipts.empty()) return UsageError(err, "verify-receipt: no receipt in the input");
  client::TrustedState state;
  if (!flags.state.empty()) {
    absl::StatusOr<client::TrustedState> s = client::TrustedState::Load(flags.state);
    if (!s.ok()) return ReportError(err, "--state", s.status());
    state = *std::move(s);
  }
  std::vector<std::string> statements;
  for (const std::string& path : flags.rotations) {
    absl::StatusOr<std::string> t = ReadAll(path);
    if (!t.ok()) return UsageError(err, absl::StrCat("--rotation: ", t.status().message()));
    statements.push_back(*std::move(t));
  }
  client::LogVerifier verifier(&client, *std::move(keys), std::move(state), flags.state);
  if (absl::Status s = verifier.AddRotationStatements(statements); !s.ok()) {
    return UsageError(err, absl::StrCat("--rotation: ", s.message()));
  }
  if (policy->has_value()) {
    absl::Status s = verifier.SetWitnessPolicy(**std::move(policy), flags.allow_minority_quorum);
    if (!s.ok()) return UsageError(err, chain::ToStd(s.message()));
  }
  const auto deadline = std::chrono::steady_clock::now() + flags.wait;
  int rc = kExitOk;
  for (const auto& [r, category] : receipts) {
    absl::StatusOr<client::VerifiedReceipt> v = verifier.VerifyReceipt(r, category);
    // The daemon signs checkpoints periodically, and witnesses cosign them
    // after: wait for one covering it (and cosigned).
    while (!v.ok() &&
           (v.status().code() == absl::StatusCode::kNotFound ||
            chain::IsBelowQuorum(v.status())) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      v = verifier.VerifyReceipt(r, category);
    }
    const std::string what = absl::StrCat("tenant ", r.tenant(), " seq ", r.seq());
    if (!v.ok()) {
      if (flags.json) {
        out << JsonLine(json{{"tenant", r.tenant()},
                             {"seq", r.seq()},
                             {"verified", false},
                             {"problem", std::string(chain::ToStd(v.status().message()))}})
            << "\n";
      }
      if (chain::IsBelowQuorum(v.status()) || client::IsSignedByNoTrustedKey(v.status())) {
        // Not trusted (yet), as without a key: exit 3.
        err << "indelible: error: verify-receipt: " << what << ": not verified: "
            << chain::ToStd(v.status().message()) << "\n";
        return kExitRejected;
      }
      const int code = VerifyFailure(err, absl::StrCat("verify-receipt: ", what), v.status());
      if (code != kExitNotVerified) return code;
      rc = kExitNotVerified;
      continue;
    }
    if (flags.json) {
      json j{{"tenant", r.tenant()},
             {"seq", r.seq()},
             {"verified", true},
             {"leaf_hash", chain::ToHex(v->leaf_hash)},
             {"checkpoint", CheckpointV2Json(v->checkpoint, "")}};
      j["checkpoint"].erase("note");
      json proof = json::array();
      for (const chain::Digest& d : v->proof) {
        proof.push_back(chain::Base64Encode(chain::AsBytes(d)));
      }
      j["proof"] = std::move(proof);
      out << JsonLine(j) << "\n";
    } else {
      out << "verified: " << what << " is leaf " << r.seq() - 1
          << " of the tree of size " << v->checkpoint.size << " (root "
          << chain::ToHex(v->checkpoint.root) << ", signed by the trusted key)\n";
    }
  }
  out.flush();
  return rc;
}

int RunProve(client::Client& client, const ProveFlags& flags, std::ostream& out,
             std::ostream& err) {
  if ((flags.seq == 0) == (flags.old_size == 0)) {
    return UsageError(err, "prove: pass --seq (inclusion) or --old-size (consistency)");
  }
  json j;
  google::protobuf::RepeatedPtrField<std::string> hashes;
  if (flags.seq != 0) {
    absl::StatusOr<v1::GetInclusionProofResponse> p =
        client.GetInclusionProof(flags.tenant, flags.seq, flags.tree_size);
    if (!p.ok()) return ReportError(err, "prove", p.status());
    j = json{{"type", "inclusion"},     {"tenant", flags.tenant},
             {"seq", p->seq()},         {"leaf_index", p->leaf_index()},
             {"tree_size", p->tree_size()}, {"hashes", HashesJson(p->hashes())}};
    hashes = p->hashes();
  } else {
    absl::StatusOr<v1::GetConsistencyProofResponse> p =
        client.GetConsistencyProof(flags.tenant, flags.old_size, flags.new_size);
    if (!p.ok()) return ReportError(err, "prove", p.status());
    j = json{{"type", "consistency"},  {"tenant", flags.tenant},
             {"old_size", p->old_size()}, {"new_size", p->new_size()},
             {"hashes", HashesJson(p->hashes())}};
    hashes = p->hashes();
  }
  absl::StatusOr<std::vector<chain::Digest>> proof = client::ProofHashes(hashes);
  if (!proof.ok()) {
    ReportError(err, "prove", proof.status());
    return kExitRejected;
  }
  if (flags.json) {
    out << JsonLine(j) << "\n";
  } else {
    out << client::FormatProofFile(*proof);
  }
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
