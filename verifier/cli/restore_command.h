// `indelible-verify restore`: a backup copied into a new data directory and
// checked against its manifest, offline.
//
//   indelible-verify restore --from BACKUP --data-dir NEW_DIR [--json]
//
// Exit 0: restored, the copy opens and its heads match the backup's
// manifest; 1: they do not (the backup is damaged; nothing is left in
// NEW_DIR); 2: usage error, not a finished backup, a destination that is
// not new or empty, or the copy failed (docs/CLI.md, "restore").
#ifndef INDELIBLE_VERIFIER_CLI_RESTORE_COMMAND_H_
#define INDELIBLE_VERIFIER_CLI_RESTORE_COMMAND_H_

#include <utility>

#include "verifier/cli/verify_main.h"

namespace indelible::verify {

std::pair<CLI::App*, Command> RegisterRestoreCommand(CLI::App* app);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_RESTORE_COMMAND_H_
