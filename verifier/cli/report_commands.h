// `indelible-verify export` and `indelible-verify verify-report`: signed
// reports for compliance officers and their check for auditors
// (docs/REPORTS.md).
//
//   indelible-verify export --data-dir DIR --tenant T --out FILE
//       --sign-key KEY.pem [--key-name N] [--format csv|json]
//       [--from T] [--to T] [--time-field occurred_at|received_at]
//       [--actor ID] [--action A] [--resource-type T] [--resource-id ID]
//       [--category C] [--outcome O] [--key K]... [--key-pem F]...
//       [--checkpoint FILE]... [--json]
//   exit 0: exported; 1: the chain did not verify, nothing written;
//   2: usage or I/O error.
//
//   indelible-verify verify-report --report FILE [--manifest FILE]
//       [--key K | --key-pem F]... [--json]
//   exit 0: genuine; 1: problems found; 2: usage or I/O error.
#ifndef INDELIBLE_VERIFIER_CLI_REPORT_COMMANDS_H_
#define INDELIBLE_VERIFIER_CLI_REPORT_COMMANDS_H_

#include <utility>

#include "verifier/cli/verify_main.h"

namespace indelible::verify {

std::pair<CLI::App*, Command> RegisterExportCommand(CLI::App* app);
std::pair<CLI::App*, Command> RegisterVerifyReportCommand(CLI::App* app);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_REPORT_COMMANDS_H_
