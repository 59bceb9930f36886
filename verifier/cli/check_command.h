// `indelible-verify check`: the offline chain check of a data directory.
//
//   indelible-verify check --data-dir DIR [--tenant T] [--key K]...
//       [--key-pem FILE]... [--checkpoint FILE]... [--json] [--threads N]
//       [--max-findings N]
//
// See docs/VERIFY.md for the output, the exit codes and every finding kind.
#ifndef INDELIBLE_VERIFIER_CLI_CHECK_COMMAND_H_
#define INDELIBLE_VERIFIER_CLI_CHECK_COMMAND_H_

#include <utility>

#include "verifier/cli/verify_main.h"

namespace indelible::verify {

// Adds the `check` subcommand to `app`; returns it and its runner.
std::pair<CLI::App*, Command> RegisterCheckCommand(CLI::App* app);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_CHECK_COMMAND_H_
