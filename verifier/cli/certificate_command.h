// `indelible-verify verify-certificate`: checks a tenant's deletion
// certificate (docs/RETENTION.md) against the daemon's key, and with a kept
// v2 checkpoint that the purged log's final tree extends it.
//
//   indelible-verify verify-certificate --cert FILE (--key K | --key-pem F)...
//       [--checkpoint KEPT --proof FILE] [--json]
//   exit 0: valid; 1: forged, altered, signed by another key, or not an
//   extension of KEPT; 2: usage or I/O error (also a KEPT not signed by a
//   trusted key, or of another origin); 3: no trusted key.
#ifndef INDELIBLE_VERIFIER_CLI_CERTIFICATE_COMMAND_H_
#define INDELIBLE_VERIFIER_CLI_CERTIFICATE_COMMAND_H_

#include <utility>

#include "verifier/cli/verify_main.h"

namespace indelible::verify {

std::pair<CLI::App*, Command> RegisterVerifyCertificateCommand(CLI::App* app);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_CERTIFICATE_COMMAND_H_
