// `admin`: retention policies, legal holds, tenant purge and compaction
// through the daemon's Admin service (docs/RETENTION.md).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/cli/time_text.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;

void PrintReceipt(std::ostream& out, const v1::Receipt& r) {
  out << "seq:         " << r.seq() << "\n"
      << "received_at: " << FormatTimestamp(r.received_at_ns()) << "\n"
      << "entry_hash:  " << chain::ToHex(r.entry_hash()) << "\n";
}

// Creates `path` for the certificate, before the purge is asked for: it must
// not exist. Returns the open descriptor.
absl::StatusOr<int> CreateCertificateFile(const std::string& path) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  const int e = errno;
  if (e == EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat(
        path, " exists; it is not overwritten (nothing was purged)"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot create ", path, ": ", std::strerror(e), " (nothing was purged)"));
}

// Writes `text` to `fd`, syncs and closes it.
absl::Status WriteAndClose(int fd, std::string_view text,
                           const std::string& path) {
  bool ok = true;
  int e = 0;
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  if (ok && fsync(fd) != 0) ok = false;
  if (!ok) e = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

// OK if the note is a deletion certificate of `tenant` stating the fields
// sent beside it. The signature is not checked (indelible-verify
// verify-certificate does).
absl::Status CheckCertificate(const v1::PurgeTenantResponse& r,
                              const std::string& tenant) {
  const std::string_view note = r.certificate();
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::DataLossError("certificate: no blank line before signatures");
  }
  absl::StatusOr<chain::DeletionCertificate> c =
      chain::ParseDeletionCertificateText(note.substr(0, split + 1));
  if (!c.ok()) return absl::DataLossError(c.status().message());
  if (c->tenant != tenant) {
    return absl::DataLossError(absl::StrCat("the certificate is of tenant \"",
                                            c->tenant, "\", not \"", tenant,
                                            "\""));
  }
  if (c->final_seq != r.final_seq() ||
      r.final_head_hash() != chain::AsBytes(c->final_head) ||
      c->timestamp_ns != r.timestamp_ns() ||
      (c->version == 2 &&
       (r.final_root_hash() != chain::AsBytes(c->root) ||
        std::vector<std::string>(r.approvers().begin(), r.approvers().end()) !=
            c->approvers))) {
    return absl::DataLossError(
        "the fields sent with the certificate disagree with it");
  }
  return absl::OkStatus();
}

client::AdminContext Who(const std::string& actor, const std::string& reason) {
  return client::AdminContext{.actor = actor, .reason = reason};
}

}  // namespace

int RunRetentionSet(client::AdminClient& admin, const RetentionSetFlags& flags,
                    std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::SetRetentionResponse> r =
      admin.SetRetention(Who(flags.actor, flags.reason), flags.tenant,
                         flags.category, flags.retention);
  if (!r.ok()) return ReportError(err, "admin retention set", r.status());
  if (r->has_pending()) return ReportPending(r->pending(), flags.json, out);
  if (flags.json) {
    out << JsonLine(RetentionChangeToJson(flags.tenant, flags.category,
                                          flags.retention, *r))
        << "\n";
  } else {
    out << "tenant:      " << flags.tenant << "\n"
        << "category:    " << flags.category << "\n"
        << "retention:   " << flags.retention << "\n"
        << "previous:    " << r->previous_retention() << "\n";
    PrintReceipt(out, r->receipt());
  }
  out.flush();
  return kExitOk;
}

int RunRetentionGet(client::AdminClient& admin, const RetentionGetFlags& flags,
                    std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::GetRetentionResponse> r =
      admin.GetRetention(flags.tenant, flags.categories);
  if (!r.ok()) return ReportError(err, "admin retention get", r.status());
  if (flags.json) {
    out << JsonLine(RetentionToJson(flags.tenant, *r)) << "\n";
  } else {
    out << "tenant:      " << flags.tenant << "\n"
        << "legal_hold:  " << (r->legal_hold() ? "yes" : "no") << "\n"
        << "default:     " << r->default_retention() << "\n\n"
        << absl::StrFormat("%-32s %s\n", "CATEGORY", "RETENTION");
    for (const v1::RetentionEntry& e : r->entries()) {
      out << absl::StrFormat("%-32s %s\n", e.category(), e.retention());
    }
  }
  out.flush();
  return kExitOk;
}

int RunHold(client::AdminClient& admin, const HoldFlags& flags,
            std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::SetLegalHoldResponse> resp = admin.SetLegalHold(
      Who(flags.actor, flags.reason), flags.tenant, flags.place);
  if (!resp.ok()) return ReportError(err, "admin hold", resp.status());
  if (resp->has_pending()) return ReportPending(resp->pending(), flags.json, out);
  const v1::Receipt* r = &resp->receipt();
  if (flags.json) {
    out << JsonLine(LegalHoldChangeToJson(flags.tenant, flags.place, *r))
        << "\n";
  } else {
    out << "tenant:      " << flags.tenant << "\n"
        << "legal_hold:  " << (flags.place ? "placed" : "lifted") << "\n";
    PrintReceipt(out, *r);
  }
  out.flush();
  return kExitOk;
}

int RunPurge(client::AdminClient& admin, const PurgeFlags& flags,
             std::ostream& out, std::ostream& err) {
  if (!flags.yes) {
    return UsageError(
        err, absl::StrCat("admin purge: deleting every record of tenant \"",
                          flags.tenant,
                          "\" is irreversible; pass --yes to confirm"));
  }
  absl::StatusOr<int> fd = CreateCertificateFile(flags.out);
  if (!fd.ok()) return ReportError(err, "admin purge", fd.status());
  absl::StatusOr<v1::PurgeTenantResponse> r =
      admin.PurgeTenant(Who(flags.actor, flags.reason), flags.tenant);
  if (!r.ok()) {
    close(*fd);
    unlink(flags.out.c_str());
    return ReportError(err, "admin purge", r.status());
  }
  if (r->has_pending()) {
    // Nothing was purged yet; the approver's `admin approve --out` gets the
    // certificate.
    close(*fd);
    unlink(flags.out.c_str());
    return ReportPending(r->pending(), flags.json, out);
  }
  if (absl::Status s = WriteAndClose(*fd, r->certificate(), flags.out);
      !s.ok()) {
    // The tenant is gone: the certificate must not be lost with the file.
    out << r->certificate();
    out.flush();
    return ReportError(
        err, "admin purge",
        absl::Status(s.code(),
                     absl::StrCat(s.message(),
                                  "; the certificate went to stdout instead")));
  }
  if (absl::Status s = CheckCertificate(*r, flags.tenant); !s.ok()) {
    ReportError(err, "admin purge",
                absl::Status(s.code(), absl::StrCat(s.message(), " (kept in ",
                                                    flags.out, ")")));
    return kExitRejected;
  }
  if (flags.json) {
    out << JsonLine(PurgeToJson(flags.tenant, *r, flags.out)) << "\n";
  } else {
    out << "tenant:      " << flags.tenant << "\n"
        << "final_seq:   " << r->final_seq() << "\n"
        << "final_head:  " << chain::ToHex(r->final_head_hash()) << "\n";
    if (r->approvers_size() > 0) {  // a version 2 certificate
      out << "final_root:  " << chain::ToHex(r->final_root_hash()) << "\n";
    }
    out << "purged_at:   " << FormatTimestamp(r->timestamp_ns()) << "\n";
    if (r->approvers_size() > 0) {
      out << "approvers:   " << absl::StrJoin(r->approvers(), ", ") << "\n";
    }
    out << "certificate: " << flags.out << "\n";
  }
  out.flush();
  return kExitOk;
}

int RunCompact(client::AdminClient& admin, const CompactFlags& flags,
               std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::CompactResponse> r = admin.Compact();
  if (!r.ok()) return ReportError(err, "admin compact", r.status());
  if (flags.json) {
    out << JsonLine(CompactToJson(*r)) << "\n";
  } else {
    out << "bodies_dropped:    " << r->bodies_dropped() << "\n"
        << "event_ids_dropped: " << r->event_ids_dropped() << "\n";
  }
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
