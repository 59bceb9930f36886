#include "verifier/chain/deletion.h"

#include "verifier/chain/checkpoint.h"

namespace indelible::chain {

std::string DeletionCertificateText(const DeletionCertificate& c) {
  return HeadStatementText(kDeletionOriginPrefix,
                           Checkpoint{c.tenant, c.final_seq, c.final_head, c.timestamp_ns});
}

absl::StatusOr<DeletionCertificate> ParseDeletionCertificateText(std::string_view text) {
  auto s = ParseHeadStatementText(text, kDeletionOriginPrefix, "deletion certificate");
  if (!s.ok()) return s.status();
  return DeletionCertificate{s->tenant, s->seq, s->head, s->timestamp_ns};
}

absl::StatusOr<DeletionCertificate> VerifyDeletionCertificate(
    std::string_view note, const std::vector<NoteVerifierKey>& keys) {
  auto text = VerifyNote(note, keys);
  if (!text.ok()) return text.status();
  return ParseDeletionCertificateText(*text);
}

}  // namespace indelible::chain
