#include "verifier/cli/restore_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/text.h"
#include "verifier/store/backup_layout.h"
#include "verifier/store/restore.h"

namespace indelible::verify {
namespace {

using chain::ToStd;

struct RestoreFlags {
  std::string from;      // a finished backup directory
  std::string data_dir;  // new or empty
  bool json = false;
};

int Run(const RestoreFlags& f) {
  if (f.from.empty() || f.data_dir.empty()) {
    std::cerr << "indelible-verify restore: --from and --data-dir must not be empty\n";
    return kExitError;
  }
  absl::StatusOr<store::RestoreResult> r = store::RestoreBackup(f.from, f.data_dir);
  if (!r.ok()) {
    std::cerr << "indelible-verify restore: "
              << absl::StatusCodeToString(r.status().code()) << ": "
              << ToStd(r.status().message()) << "\n";
    // A copy that does not match its manifest is a damaged backup: a finding.
    return r.status().code() == absl::StatusCode::kDataLoss ? kExitFindings : kExitError;
  }
  if (f.json) {
    std::cout << nlohmann::ordered_json{{"from", f.from},
                                        {"data_dir", f.data_dir},
                                        {"backup", r->backup},
                                        {"created_at", r->created_at},
                                        {"tenants", r->tenants},
                                        {"files", r->files},
                                        {"purged_from_register", r->purged_from_register},
                                        {"verifier_key", r->verifier_key}}
                     .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << "restored " << f.from << " (taken " << r->created_at << ", " << r->tenants
              << " tenants) into " << f.data_dir << "\n"
              << "verified: the copy opens and its heads match the backup's manifest\n"
              << "next: start indelibled with --data-dir " << f.data_dir
              << " (or data_dir: in its config) and signing_key_file: or signer_socket: set "
                 "to the key of verifier key "
              << r->verifier_key << "\n";
    for (const std::string& t : r->purged_from_register) {
      std::cout << "purged: tenant " << t << " (in the purge register beside the backups; "
                << "its content was deleted from the restored copy)\n";
    }
    if (r->private_key_left_out) {
      std::cout << "note: the backup holds a private key (" << store::kSigningKeyFile
                << ", written by an earlier version); it was not copied into the data "
                   "directory\n";
    }
  }
  std::cout.flush();
  return kExitVerified;
}

}  // namespace

std::pair<CLI::App*, Command> RegisterRestoreCommand(CLI::App* app) {
  auto f = std::make_shared<RestoreFlags>();
  CLI::App* sub = app->add_subcommand(
      "restore",
      "Copy a backup into a new, empty data directory and check that it opens and "
      "matches the backup's manifest (offline: no daemon needed). Exit 0: restored, "
      "1: the backup is damaged (nothing left behind), 2: usage or I/O error, not a "
      "finished backup, or a destination that is not new or empty.");
  sub->add_option("--from", f->from, "Backup directory")->required();
  sub->add_option("--data-dir", f->data_dir,
                  "Data directory to create (must not exist, or be empty)")
      ->required();
  sub->add_flag("--json", f->json, "Print JSON");
  return {sub, [f] { return Run(*f); }};
}

}  // namespace indelible::verify
