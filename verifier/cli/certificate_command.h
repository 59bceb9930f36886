// `indelible-verify verify-certificate`: checks a tenant's deletion
// certificate (docs/RETENTION.md) against the daemon's key.
//
//   indelible-verify verify-certificate --cert FILE (--key K | --key-pem F)...
//       [--json]
//   exit 0: valid; 1: forged, altered or signed by another key; 2: usage or
//   I/O error.
#ifndef INDELIBLE_VERIFIER_CLI_CERTIFICATE_COMMAND_H_
#define INDELIBLE_VERIFIER_CLI_CERTIFICATE_COMMAND_H_

#include <utility>

#include "verifier/cli/verify_main.h"

namespace indelible::verify {

std::pair<CLI::App*, Command> RegisterVerifyCertificateCommand(CLI::App* app);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_CERTIFICATE_COMMAND_H_
