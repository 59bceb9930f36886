#include "verifier/chain/deletion.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(std::string("deletion certificate: ").append(what));
}

}  // namespace

std::string DeletionCertificateText(const DeletionCertificate& c) {
  return absl::StrCat(Av(kDeletionOriginPrefix), c.tenant, "\n", c.final_seq, "\n",
                      Base64Encode(AsBytes(c.final_head)), "\n", c.timestamp_ns, "\n");
}

absl::StatusOr<DeletionCertificate> ParseDeletionCertificateText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Malformed("no final newline");
  text.remove_suffix(1);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() != 4) return Malformed("want 4 lines");
  if (lines[0].substr(0, kDeletionOriginPrefix.size()) != kDeletionOriginPrefix) {
    return Malformed("origin is not indelible/v1/deletion/<tenant>");
  }
  DeletionCertificate c;
  c.tenant = std::string(lines[0].substr(kDeletionOriginPrefix.size()));
  if (!IsValidTenantId(c.tenant)) return Malformed("invalid tenant in origin");
  if (!ParseDecimal(lines[1], &c.final_seq)) return Malformed("bad seq");
  std::string head;
  if (!Base64Decode(lines[2], &head) || !DigestFromBytes(head, &c.final_head)) {
    return Malformed("bad head hash");
  }
  if (!ParseDecimal(lines[3], &c.timestamp_ns)) return Malformed("bad time");
  return c;
}

absl::StatusOr<DeletionCertificate> VerifyDeletionCertificate(
    std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  auto text = VerifyNote(note, keys);
  if (!text.ok()) return text.status();
  return ParseDeletionCertificateText(*text);
}

}  // namespace indelible::chain
