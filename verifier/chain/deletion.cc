#include "verifier/chain/deletion.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

// Version 2's lines after the origin, with their keywords.
absl::StatusOr<DeletionCertificate> ParseV2(std::string_view text) {
  auto Malformed = [](std::string_view why) {
    return absl::DataLossError(absl::StrCat("deletion certificate: ", ToAbsl(why)));
  };
  if (text.empty() || text.back() != '\n') return Malformed("no final newline");
  text.remove_suffix(1);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() < 7) return Malformed("want at least 7 lines");
  DeletionCertificate c;
  c.version = 2;
  c.tenant = std::string(lines[0].substr(kDeletionV2OriginPrefix.size()));
  if (!IsValidTenantId(c.tenant)) return Malformed("invalid tenant in origin");
  auto Field = [&](size_t i, std::string_view keyword, std::string_view* value) {
    const std::string prefix = absl::StrCat(ToAbsl(keyword), " ");
    if (lines[i].substr(0, prefix.size()) != prefix) return false;
    *value = lines[i].substr(prefix.size());
    return true;
  };
  std::string_view v;
  const std::string suffix = "/" + c.tenant;
  if (!Field(1, "origin", &v) || v.size() <= suffix.size() ||
      v.substr(v.size() - suffix.size()) != suffix) {
    return Malformed("line 2 is not \"origin <log_name>/<tenant>\"");
  }
  c.log_name = std::string(v.substr(0, v.size() - suffix.size()));
  if (!IsValidLogName(c.log_name)) return Malformed("invalid log name in origin");
  if (!Field(2, "size", &v) || !ParseDecimal(v, &c.final_seq) || c.final_seq == 0) {
    return Malformed("line 3 is not \"size <N>\" with N >= 1");
  }
  std::string bytes;
  if (!Field(3, "root", &v) || !Base64Decode(v, &bytes) || !DigestFromBytes(bytes, &c.root)) {
    return Malformed("line 4 is not \"root <base64 of 32 bytes>\"");
  }
  if (!Field(4, "chain", &v) || !Base64Decode(v, &bytes) ||
      !DigestFromBytes(bytes, &c.final_head)) {
    return Malformed("line 5 is not \"chain <base64 of 32 bytes>\"");
  }
  if (!Field(5, "time", &v) || !ParseDecimal(v, &c.timestamp_ns)) {
    return Malformed("line 6 is not \"time <ns>\"");
  }
  if (lines.size() - 6 > kMaxApprovers) return Malformed("too many approvers");
  for (size_t i = 6; i < lines.size(); ++i) {
    if (!Field(i, "approver", &v) || !IsValidApproverName(v)) {
      return Malformed(absl::StrCat("line ", i + 1, " is not \"approver <name>\""));
    }
    c.approvers.emplace_back(v);
  }
  // One spelling per certificate (base64 and decimals have one each).
  if (DeletionCertificateText(c) != absl::StrCat(ToAbsl(text), "\n")) {
    return Malformed("not in its canonical spelling");
  }
  return c;
}

}  // namespace

bool IsValidApproverName(std::string_view name) {
  if (name.empty() || name.size() > kMaxApproverBytes) return false;
  for (unsigned char ch : name) {
    if (ch < 0x20 || ch == 0x7f) return false;
  }
  return true;
}

std::string DeletionCertificateText(const DeletionCertificate& c) {
  if (c.version != 2) {
    return HeadStatementText(kDeletionOriginPrefix,
                             Checkpoint{c.tenant, c.final_seq, c.final_head, c.timestamp_ns});
  }
  std::string out = absl::StrCat(ToAbsl(kDeletionV2OriginPrefix), c.tenant, "\n",
                                 "origin ", c.origin(), "\n",
                                 "size ", c.final_seq, "\n",
                                 "root ", Base64Encode(AsBytes(c.root)), "\n",
                                 "chain ", Base64Encode(AsBytes(c.final_head)), "\n",
                                 "time ", c.timestamp_ns, "\n");
  for (const auto& a : c.approvers) absl::StrAppend(&out, "approver ", a, "\n");
  return out;
}

absl::StatusOr<DeletionCertificate> ParseDeletionCertificateText(std::string_view text) {
  if (text.substr(0, kDeletionV2OriginPrefix.size()) == kDeletionV2OriginPrefix) {
    return ParseV2(text);
  }
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
