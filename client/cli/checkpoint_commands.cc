// `checkpoint` and `public-key`: the daemon's signed statements about its
// chains, and the key they are signed with.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/text.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;

// The checkpoint a note states, its signature not checked. DataLoss if the
// note has no signature block or its text is not a checkpoint.
absl::StatusOr<chain::Checkpoint> ParseNote(std::string_view note) {
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::DataLossError("note: no blank line before signatures");
  }
  return chain::ParseCheckpointText(note.substr(0, split + 1));
}

// The checks RunCheckpoint documents; the checkpoint the note states.
absl::StatusOr<chain::Checkpoint> CheckServed(
    const v1::Checkpoint& served, const CheckpointFlags& flags,
    const std::vector<chain::NoteVerifierKey>& keys) {
  absl::StatusOr<chain::Checkpoint> c;
  if (keys.empty()) {
    c = ParseNote(served.note());
  } else {
    c = chain::VerifyCheckpoint(served.note(), keys);
    if (!c.ok()) {
      return absl::DataLossError(
          absl::StrCat("not verified under --key: ", c.status().message()));
    }
  }
  if (!c.ok()) return c.status();
  if (c->tenant != flags.tenant) {
    return absl::DataLossError(
        absl::StrCat("the note is a checkpoint of tenant \"", c->tenant,
                     "\", not \"", flags.tenant, "\""));
  }
  if (c->seq < flags.min_seq) {
    return absl::DataLossError(absl::StrCat(
        "the note is at seq ", c->seq, ", below --min-seq ", flags.min_seq));
  }
  // The fields beside the note are the server's parse of it; a note signed
  // by an older key comes without them.
  const bool has_fields =
      served.has_seq() || served.has_head_hash() || served.has_timestamp_ns();
  if ((served.has_tenant() && served.tenant() != c->tenant) ||
      (has_fields && (served.seq() != c->seq ||
                      served.head_hash() != chain::AsBytes(c->head) ||
                      served.timestamp_ns() != c->timestamp_ns))) {
    return absl::DataLossError(
        "the fields sent with the note disagree with the note");
  }
  return c;
}

// OK if the fields of `k` describe one key.
absl::Status CheckPublicKey(const v1::GetPublicKeyResponse& k) {
  absl::StatusOr<chain::NoteVerifierKey> vk =
      chain::ParseNoteVerifierKey(k.verifier_key());
  if (!vk.ok()) {
    return absl::DataLossError(absl::StrCat("verifier_key \"", k.verifier_key(),
                                            "\": ", vk.status().message()));
  }
  if (vk->name != k.key_name()) {
    return absl::DataLossError(absl::StrCat("key_name \"", k.key_name(),
                                            "\" is not the verifier key's \"",
                                            vk->name, "\""));
  }
  if (absl::StrFormat("%08x", vk->key_id) != k.key_id_hex()) {
    return absl::DataLossError(absl::StrCat("key_id_hex \"", k.key_id_hex(),
                                            "\" is not the verifier key's"));
  }
  absl::StatusOr<std::string> pem_key =
      chain::PublicKeyFromPem(k.public_key_pem());
  if (!pem_key.ok()) {
    return absl::DataLossError(
        absl::StrCat("public_key_pem: ", pem_key.status().message()));
  }
  if (*pem_key != vk->public_key) {
    return absl::DataLossError(
        "public_key_pem holds another key than the verifier key");
  }
  return absl::OkStatus();
}

}  // namespace

int RunCheckpoint(client::Client& client, const CheckpointFlags& flags,
                  std::ostream& out, std::ostream& err) {
  std::vector<chain::NoteVerifierKey> keys;
  for (const std::string& k : flags.keys) {
    absl::StatusOr<chain::NoteVerifierKey> vk = chain::ParseNoteVerifierKey(k);
    if (!vk.ok()) {
      return UsageError(
          err, absl::StrCat("--key \"", k, "\": ", vk.status().message()));
    }
    keys.push_back(*std::move(vk));
  }
  absl::StatusOr<v1::Checkpoint> cp =
      client.GetCheckpoint(flags.tenant, flags.min_seq);
  if (!cp.ok()) return ReportError(err, "checkpoint", cp.status());
  absl::StatusOr<chain::Checkpoint> c = CheckServed(*cp, flags, keys);
  if (!c.ok()) {
    ReportError(err, "checkpoint", c.status());
    return kExitRejected;
  }
  if (flags.json) {
    // The fields as the note states them (the server may leave them unset).
    v1::Checkpoint shown;
    shown.set_note(cp->note());
    shown.set_tenant(c->tenant);
    shown.set_seq(c->seq);
    shown.set_head_hash(std::string(chain::AsBytes(c->head)));
    shown.set_timestamp_ns(c->timestamp_ns);
    out << JsonLine(CheckpointToJson(shown)) << "\n";
  } else {
    out << cp->note();
  }
  out.flush();
  return kExitOk;
}

int RunPublicKey(client::Client& client, const PublicKeyFlags& flags,
                 std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::GetPublicKeyResponse> k = client.GetPublicKey();
  if (!k.ok()) return ReportError(err, "public-key", k.status());
  if (absl::Status s = CheckPublicKey(*k); !s.ok()) {
    ReportError(err, "public-key", s);
    return kExitRejected;
  }
  if (flags.json) {
    out << JsonLine(PublicKeyToJson(*k)) << "\n";
  } else if (flags.pem) {
    out << k->public_key_pem();
    if (k->public_key_pem().back() != '\n') out << "\n";
  } else {
    out << k->verifier_key() << "\n";
  }
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
