#include "verifier/chain/checkpoint.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(std::string("checkpoint: ").append(what));
}

}  // namespace

std::string CheckpointText(const Checkpoint& c) {
  return absl::StrCat(Av(kOriginPrefix), c.tenant, "\n", c.seq, "\n",
                      Base64Encode(AsBytes(c.head)), "\n",
                      c.timestamp_ns, "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpointText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Malformed("no final newline");
  text.remove_suffix(1);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() != 4) return Malformed("want 4 lines");
  Checkpoint c;
  if (lines[0].substr(0, kOriginPrefix.size()) != kOriginPrefix) {
    return Malformed("origin is not indelible/v1/<tenant>");
  }
  c.tenant = std::string(lines[0].substr(kOriginPrefix.size()));
  if (!IsValidTenantId(c.tenant)) return Malformed("invalid tenant in origin");
  if (!ParseDecimal(lines[1], &c.seq)) return Malformed("bad seq");
  std::string head;
  if (!Base64Decode(lines[2], &head) || !DigestFromBytes(head, &c.head)) {
    return Malformed("bad head hash");
  }
  if (!ParseDecimal(lines[3], &c.timestamp_ns)) return Malformed("bad time");
  return c;
}

absl::StatusOr<Checkpoint> VerifyCheckpoint(
    std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  auto text = VerifyNote(note, keys);
  if (!text.ok()) return text.status();
  return ParseCheckpointText(*text);
}

}  // namespace indelible::chain
