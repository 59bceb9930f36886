#include "client/cli/exit_codes.h"

#include "verifier/chain/text.h"

namespace indelible::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kNotFound:
      return kExitRejected;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitError;
  }
}

int ReportError(std::ostream& err, std::string_view context,
                const absl::Status& status) {
  err << "indelible: error: ";
  if (!context.empty()) err << context << ": ";
  err << absl::StatusCodeToString(status.code()) << ": "
      << chain::ToStd(status.message()) << "\n";
  err.flush();
  return ExitCodeFor(status);
}

int UsageError(std::ostream& err, std::string_view message) {
  err << "indelible: error: " << message << "\n";
  err.flush();
  return kExitUsage;
}

}  // namespace indelible::cli
