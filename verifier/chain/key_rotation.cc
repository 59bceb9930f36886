#include "verifier/chain/key_rotation.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

// The value of the line "<name> <value>", or false.
bool TakeField(std::string_view line, std::string_view name, std::string_view* value) {
  if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
      line[name.size()] != ' ') {
    return false;
  }
  *value = line.substr(name.size() + 1);
  return true;
}

absl::Status CheckSignedBy(const SplitNoteResult& split, const NoteVerifierKey& key,
                           std::string_view role) {
  for (const NoteSignature& sig : split.signatures) {
    if (sig.name != key.name || sig.key_id != key.key_id) continue;
    if (auto s = VerifyEd25519(key.public_key, split.text, sig.signature); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("key rotation: the signature by the ", ToAbsl(role), " key does not verify"));
    }
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat("key rotation: no signature by the ", ToAbsl(role), " key ",
                                          NoteVerifierKeyString(key)));
}

}  // namespace

std::string KeyRotationText(const KeyRotation& r) {
  return absl::StrCat(ToAbsl(kKeyRotationHeader), "\nlog ", r.log_name, "\nold ",
                      NoteVerifierKeyString(r.old_key), "\nnew ",
                      NoteVerifierKeyString(r.new_key), "\ntime ", r.timestamp_ns, "\n");
}

absl::StatusOr<KeyRotation> ParseKeyRotationText(std::string_view text) {
  auto bad = [](std::string_view why) {
    return absl::DataLossError(absl::StrCat("key rotation: ", ToAbsl(why)));
  };
  if (text.empty() || text.back() != '\n') return bad("text must end in a newline");
  std::vector<std::string_view> lines = Split(text.substr(0, text.size() - 1), '\n');
  if (lines.size() != 5) return bad("want 5 lines");
  if (lines[0] != kKeyRotationHeader) {
    return bad(absl::StrCat("the first line must be ", ToAbsl(kKeyRotationHeader)));
  }
  KeyRotation r;
  std::string_view v;
  if (!TakeField(lines[1], "log", &v) || !IsValidLogName(v)) {
    return bad("line 2 must be \"log <log name>\"");
  }
  r.log_name = std::string(v);
  for (int i : {2, 3}) {
    const std::string_view name = i == 2 ? "old" : "new";
    if (!TakeField(lines[i], name, &v)) {
      return bad(absl::StrCat("line ", i + 1, " must be \"", ToAbsl(name), " <verifier key>\""));
    }
    auto key = ParseNoteVerifierKey(v);
    if (!key.ok()) {
      return bad(absl::StrCat(ToAbsl(name), " key: ", key.status().message()));
    }
    (i == 2 ? r.old_key : r.new_key) = *std::move(key);
  }
  if (!TakeField(lines[4], "time", &v) || !ParseDecimal(v, &r.timestamp_ns)) {
    return bad("line 5 must be \"time <decimal ns>\"");
  }
  if (r.old_key.public_key == r.new_key.public_key) {
    return bad("the old and the new key are the same key");
  }
  if (KeyRotationText(r) != text) return bad("not in canonical form");
  return r;
}

absl::StatusOr<std::string> SignKeyRotation(const KeyRotation& r, const NoteSigner& old_signer,
                                            const NoteSigner& new_signer) {
  const NoteVerifierKey& o = old_signer.verifier_key();
  const NoteVerifierKey& n = new_signer.verifier_key();
  if (o.public_key != r.old_key.public_key || o.name != r.old_key.name ||
      n.public_key != r.new_key.public_key || n.name != r.new_key.name) {
    return absl::InvalidArgumentError("key rotation: the signers are not the statement's keys");
  }
  if (o.public_key == n.public_key) {
    return absl::InvalidArgumentError("key rotation: the old and the new key are the same key");
  }
  const std::string text = KeyRotationText(r);
  const std::string by_new = new_signer.Sign(text);
  // Sign() gives "<text>\n<signature line>": keep the old key's note and
  // append the new key's line.
  return absl::StrCat(old_signer.Sign(text), ToAbsl(std::string_view(by_new).substr(text.size() + 1)));
}

absl::StatusOr<KeyRotation> VerifyKeyRotation(std::string_view note) {
  auto split = SplitNote(note);
  if (!split.ok()) return split.status();
  auto r = ParseKeyRotationText(split->text);
  if (!r.ok()) return r.status();
  if (auto s = CheckSignedBy(*split, r->old_key, "old"); !s.ok()) return s;
  if (auto s = CheckSignedBy(*split, r->new_key, "new"); !s.ok()) return s;
  return r;
}

absl::Status FollowKeyRotations(const std::vector<std::string>& statements,
                                const std::function<bool(const NoteVerifierKey&)>& trusts,
                                const std::function<void(const NoteVerifierKey&)>& adopt) {
  std::vector<KeyRotation> pending;
  for (size_t i = 0; i < statements.size(); ++i) {
    auto r = VerifyKeyRotation(statements[i]);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rotation statement ", i + 1, ": ", r.status().message()));
    }
    pending.push_back(*std::move(r));
  }
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (!trusts(it->old_key)) {
        ++it;
        continue;
      }
      if (!trusts(it->new_key)) adopt(it->new_key);
      it = pending.erase(it);
      progress = true;
    }
  }
  if (!pending.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rotation statement to ", NoteVerifierKeyString(pending.front().new_key),
        " is signed by ", NoteVerifierKeyString(pending.front().old_key),
        ", which no trusted key leads to"));
  }
  return absl::OkStatus();
}

}  // namespace indelible::chain
