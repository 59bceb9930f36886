#include "verifier/chain/checkpoint_v2.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"
#include "verifier/chain/witness_policy.h"

namespace indelible::chain {
namespace {

constexpr std::string_view kChainPrefix = "chain ";
constexpr std::string_view kTimePrefix = "time ";
constexpr size_t kMaxLogName = 200;

absl::Status Malformed(std::string_view why) {
  return absl::DataLossError(absl::StrCat("checkpoint: ", ToAbsl(why)));
}

bool DecodeDigest(std::string_view b64, Digest* out) {
  std::string bytes;
  return Base64Decode(b64, &bytes) && DigestFromBytes(bytes, out);
}

}  // namespace

absl::StatusOr<TlogCheckpoint> ParseTlogCheckpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Malformed("no final newline");
  text.remove_suffix(1);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() < 3) return Malformed("want at least 3 lines");
  TlogCheckpoint c;
  if (lines[0].empty()) return Malformed("empty origin");
  c.origin = std::string(lines[0]);
  if (!ParseDecimal(lines[1], &c.size)) return Malformed("bad tree size");
  if (!DecodeDigest(lines[2], &c.root)) return Malformed("bad root hash");
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Malformed("empty extension line");
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

bool IsValidLogName(std::string_view n) {
  if (n.empty() || n.size() > kMaxLogName || n.front() == '/' ||
      n.back() == '/') {
    return false;
  }
  for (char c : n) {
    if (c <= 0x20 || c >= 0x7f || c == '+') return false;
  }
  return true;
}

std::string CheckpointV2Text(const CheckpointV2& c) {
  return absl::StrCat(c.log_name, "/", c.tenant, "\n", c.size, "\n",
                      Base64Encode(AsBytes(c.root)), "\n", ToAbsl(kChainPrefix),
                      Base64Encode(AsBytes(c.chain_head)), "\n",
                      ToAbsl(kTimePrefix), c.timestamp_ns, "\n");
}

absl::StatusOr<CheckpointV2> ParseCheckpointV2Text(std::string_view text) {
  absl::StatusOr<TlogCheckpoint> t = ParseTlogCheckpoint(text);
  if (!t.ok()) return t.status();
  if (t->extensions.size() != 2) {
    return Malformed("want the chain and time extension lines only");
  }
  CheckpointV2 c;
  const size_t slash = t->origin.rfind('/');
  if (slash == std::string::npos)
    return Malformed("origin is not <log_name>/<tenant>");
  c.log_name = t->origin.substr(0, slash);
  c.tenant = t->origin.substr(slash + 1);
  if (!IsValidLogName(c.log_name))
    return Malformed("invalid log name in origin");
  if (!IsValidTenantId(c.tenant)) return Malformed("invalid tenant in origin");
  c.size = t->size;
  c.root = t->root;
  std::string_view chain = t->extensions[0];
  if (chain.substr(0, kChainPrefix.size()) != kChainPrefix ||
      !DecodeDigest(chain.substr(kChainPrefix.size()), &c.chain_head)) {
    return Malformed("bad chain line");
  }
  std::string_view time = t->extensions[1];
  if (time.substr(0, kTimePrefix.size()) != kTimePrefix ||
      !ParseDecimal(time.substr(kTimePrefix.size()), &c.timestamp_ns)) {
    return Malformed("bad time line");
  }
  return c;
}

absl::StatusOr<CheckpointV2> VerifyCheckpointV2(
    std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  absl::StatusOr<std::string> text = VerifyNote(note, keys);
  if (!text.ok()) return text.status();
  return ParseCheckpointV2Text(*text);
}

absl::StatusOr<CheckpointV2> VerifyWitnessedCheckpointV2(
    std::string_view note, const std::vector<NoteVerifierKey>& keys,
    const WitnessPolicy& policy,
    std::vector<WitnessCosignature>* cosignatures) {
  absl::StatusOr<CheckpointV2> c = VerifyCheckpointV2(note, keys);
  if (!c.ok()) return c.status();
  absl::StatusOr<QuorumCheck> check = CheckQuorum(note, policy);
  if (!check.ok()) return check.status();
  if (absl::Status s = QuorumStatus(*check); !s.ok()) return s;
  if (cosignatures != nullptr) *cosignatures = std::move(check->cosigned);
  return c;
}

}  // namespace indelible::chain
