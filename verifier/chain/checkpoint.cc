#include "verifier/chain/checkpoint.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::chain {

std::string HeadStatementText(std::string_view origin_prefix, const Checkpoint& c) {
  return absl::StrCat(ToAbsl(origin_prefix), c.tenant, "\n", c.seq, "\n",
                      Base64Encode(AsBytes(c.head)), "\n",
                      c.timestamp_ns, "\n");
}

absl::StatusOr<Checkpoint> ParseHeadStatementText(std::string_view text,
                                                  std::string_view origin_prefix,
                                                  std::string_view what) {
  auto Malformed = [what](std::string_view why) {
    return absl::DataLossError(absl::StrCat(ToAbsl(what), ": ", ToAbsl(why)));
  };
  if (text.empty() || text.back() != '\n') return Malformed("no final newline");
  text.remove_suffix(1);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() != 4) return Malformed("want 4 lines");
  Checkpoint c;
  if (lines[0].substr(0, origin_prefix.size()) != origin_prefix) {
    return Malformed(absl::StrCat("origin is not ", ToAbsl(origin_prefix), "<tenant>"));
  }
  c.tenant = std::string(lines[0].substr(origin_prefix.size()));
  if (!IsValidTenantId(c.tenant)) return Malformed("invalid tenant in origin");
  if (!ParseDecimal(lines[1], &c.seq)) return Malformed("bad seq");
  std::string head;
  if (!Base64Decode(lines[2], &head) || !DigestFromBytes(head, &c.head)) {
    return Malformed("bad head hash");
  }
  if (!ParseDecimal(lines[3], &c.timestamp_ns)) return Malformed("bad time");
  return c;
}

std::string CheckpointText(const Checkpoint& c) {
  return HeadStatementText(kOriginPrefix, c);
}

absl::StatusOr<Checkpoint> ParseCheckpointText(std::string_view text) {
  return ParseHeadStatementText(text, kOriginPrefix, "checkpoint");
}

absl::StatusOr<Checkpoint> VerifyCheckpoint(
    std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  auto text = VerifyNote(note, keys);
  if (!text.ok()) return text.status();
  return ParseCheckpointText(*text);
}

}  // namespace indelible::chain
