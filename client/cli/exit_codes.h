// Exit codes of the `indelible` command, documented in docs/CLI.md. Scripts
// branch on them, so they only ever grow.
#ifndef INDELIBLE_CLIENT_CLI_EXIT_CODES_H_
#define INDELIBLE_CLIENT_CLI_EXIT_CODES_H_

#include <ostream>
#include <string_view>

#include "absl/status/status.h"

namespace indelible::cli {

enum ExitCode : int {
  kExitOk = 0,
  // Only verify-receipt and checkpoint --v2 / --consistent-with: a receipt,
  // proof or checkpoint that does not verify.
  kExitNotVerified = 1,
  kExitUsage = 2,        // bad command line (unknown flag, bad value, ...)
  kExitRejected = 3,     // input refused: by the server, or a bad JSON line
  kExitUnavailable = 4,  // server unreachable or too slow (transport)
  kExitError = 5,        // anything else (server internal error, disk full)
  kExitPending = 6,      // recorded as a request: waits for a second admin
  kExitNotServing = 7,   // `health`: the daemon answered, but is not SERVING
};

// kExitRejected for InvalidArgument, PermissionDenied, Unauthenticated,
// FailedPrecondition, OutOfRange, AlreadyExists and NotFound;
// kExitUnavailable for Unavailable and DeadlineExceeded; kExitOk for OK;
// kExitError otherwise.
int ExitCodeFor(const absl::Status& status);

// Writes "indelible: error: <context>: <CODE>: <message>\n" (no context part
// if `context` is empty) and returns ExitCodeFor(status).
// REQUIRES: !status.ok().
int ReportError(std::ostream& err, std::string_view context,
                const absl::Status& status);

// Writes "indelible: error: <message>\n" and returns kExitUsage.
int UsageError(std::ostream& err, std::string_view message);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_EXIT_CODES_H_
