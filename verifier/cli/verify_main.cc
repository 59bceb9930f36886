#include "verifier/cli/verify_main.h"

#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "verifier/cli/certificate_command.h"
#include "verifier/cli/check_command.h"
#include "verifier/cli/proof_commands.h"
#include "verifier/cli/report_commands.h"
#include "verifier/cli/restore_command.h"

namespace indelible::verify {

int Main(int argc, char** argv) {
  CLI::App app{
      "indelible-verify: checks of Indelible data directories, proofs and "
      "checkpoints, offline or over the wire"};
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);
  app.set_version_flag("--version", kVerifyVersion);

  // Each entry: the subcommand, and what runs it.
  std::vector<std::pair<CLI::App*, Command>> commands;
  commands.push_back(RegisterCheckCommand(&app));
  commands.push_back(RegisterExportCommand(&app));
  commands.push_back(RegisterVerifyReportCommand(&app));
  commands.push_back(RegisterVerifyCertificateCommand(&app));
  commands.push_back(RegisterConsistencyCommand(&app));
  commands.push_back(RegisterInclusionCommand(&app));
  commands.push_back(RegisterRestoreCommand(&app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitVerified : kExitError;
  }
  for (auto& [sub, run] : commands) {
    if (sub->parsed()) return run();
  }
  return kExitError;  // unreachable: require_subcommand(1)
}

}  // namespace indelible::verify
