#include "verifier/check/erasure.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

namespace indelible::check {
namespace {

void Add(std::vector<Finding>* findings, const std::string& tenant, uint64_t seq,
         std::string detail) {
  findings->push_back(Finding{tenant, seq, Kind::kPurge, std::move(detail)});
}

}  // namespace

absl::StatusOr<std::optional<Erasure>> LoadErasure(const store::Reader& reader,
                                                   const std::string& tenant,
                                                   std::vector<Finding>* findings) {
  auto note = reader.Get("default", std::string(store::kPurgedPrefix) + tenant);
  if (!note.ok()) return note.status();
  if (!note->has_value()) return std::nullopt;
  const size_t end = (*note)->find("\n\n");
  absl::StatusOr<chain::DeletionCertificate> c =
      end == std::string::npos
          ? absl::StatusOr<chain::DeletionCertificate>(
                absl::DataLossError("deletion certificate: not a signed note"))
          : chain::ParseDeletionCertificateText(std::string_view(**note).substr(0, end + 1));
  if (!c.ok()) {
    Add(findings, tenant, 0,
        absl::StrCat("the stored deletion certificate is malformed: ",
                     chain::ToAbsl(chain::ToStd(c.status().message()))));
    return std::nullopt;
  }
  if (c->tenant != tenant) {
    Add(findings, tenant, 0,
        absl::StrCat("the stored deletion certificate is of tenant ", c->tenant));
    return std::nullopt;
  }
  Erasure e;
  e.through = c->final_seq;
  e.certificate = *std::move(c);
  e.note = **std::move(note);
  return e;
}

absl::Status SettleErasure(const store::Reader& reader, const TrustedKeys& keys,
                           uint64_t head_seq, const chain::Digest& head_hash, Erasure* e,
                           std::vector<Finding>* findings) {
  const chain::DeletionCertificate& c = e->certificate;
  if (!keys.empty()) {
    auto verified = chain::VerifyDeletionCertificate(e->note, keys.KeysFor(e->note));
    e->verified = verified.ok() && *verified == c;
    if (!e->verified) {
      Add(findings, c.tenant, 0,
          absl::StrCat("the stored deletion certificate's signature does not verify under "
                       "the trusted keys",
                       verified.ok() ? "" : ": ",
                       chain::ToAbsl(verified.ok() ? "" : chain::ToStd(verified.status().message()))));
    }
  }
  if (head_seq < c.final_seq) {
    Add(findings, c.tenant, head_seq + 1,
        absl::StrCat("the chain ends at seq ", head_seq, " but the deletion certificate "
                     "states its final seq ", c.final_seq));
  } else if (head_seq == c.final_seq && head_hash != c.final_head) {
    Add(findings, c.tenant, head_seq,
        "the chain's last entry hash is not the deletion certificate's final head");
  }
  if (c.version != 2) return absl::OkStatus();
  auto row = reader.Get(store::kCheckpointsV2Cf, store::SeqKey(c.tenant, c.final_seq));
  if (!row.ok()) return row.status();
  std::optional<chain::CheckpointV2> cp;
  if (row->has_value()) {
    const std::string& note = **row;
    const size_t end = note.find("\n\n");
    if (end != std::string::npos) {
      auto parsed = chain::ParseCheckpointV2Text(std::string_view(note).substr(0, end + 1));
      if (parsed.ok()) cp = *parsed;
    }
  }
  if (!cp) {
    Add(findings, c.tenant, c.final_seq,
        "no readable v2 checkpoint of the deletion certificate's final size is stored");
  } else if (cp->root != c.root || cp->chain_head != c.final_head ||
             cp->origin() != c.origin()) {
    Add(findings, c.tenant, c.final_seq,
        "the deletion certificate's final tree is not the stored v2 checkpoint of its size");
  }
  return absl::OkStatus();
}

}  // namespace indelible::check
