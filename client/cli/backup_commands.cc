// `indelible backup`, and `indelible restore`, which moved to
// `indelible-verify restore` (docs/OPERATIONS.md).
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/cli/time_text.h"
#include "verifier/chain/hash.h"

namespace indelible::cli {

int RunBackup(client::AdminClient& admin, const BackupFlags& flags, std::ostream& out,
              std::ostream& err) {
  absl::StatusOr<v1::BackupResponse> r = admin.Backup(flags.label, flags.reason);
  if (!r.ok()) return ReportError(err, "backup", r.status());
  if (flags.json) {
    out << JsonLine(BackupToJson(*r)) << "\n";
  } else {
    out << "path:        " << r->path() << "\n"
        << "created_at:  " << FormatTimestamp(r->created_at_ns()) << "\n"
        << "tenants:     " << r->heads_size() << "\n";
    for (const v1::BackupHead& h : r->heads()) {
      out << "  " << h.tenant() << " seq=" << h.seq()
          << " head=" << chain::ToHex(h.head_hash())
          << " checkpoint_seq=" << h.checkpoint_seq() << "\n";
    }
    out << "files:       " << r->files() << "\n"
        << "size_bytes:  " << r->size_bytes() << "\n";
    for (const std::string& p : r->pruned()) out << "pruned:      " << p << "\n";
  }
  out.flush();
  return kExitOk;
}

int RunRestore(const RestoreFlags& flags, std::ostream& err) {
  return UsageError(
      err, absl::StrCat("restore moved to indelible-verify, which opens stores (this command "
                        "does not): run indelible-verify restore --from ",
                        flags.from.empty() ? "BACKUP" : flags.from, " --data-dir ",
                        flags.data_dir.empty() ? "NEW_DIR" : flags.data_dir,
                        " (docs/CLI.md, \"restore\")"));
}

}  // namespace indelible::cli
