#include "verifier/store/rocks_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "rocksdb/status.h"
#include "verifier/chain/text.h"

namespace indelible::store {
namespace {

// RocksDB reports a LOCK file held by another process as "While lock file:
// <dir>/LOCK: ..." and one held by this process as "lock hold by current
// process ...". A path that merely contains "lock" is not a lock error.
bool IsLockError(const std::string& text) {
  return text.find("While lock file") != std::string::npos ||
         text.find("lock hold by current process") != std::string::npos;
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  const std::string text = s.ToString();
  std::string msg = absl::StrCat(chain::ToAbsl(context), ": ", text);
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", msg));
  }
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotSupported()) return absl::FailedPreconditionError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsIOError()) {
    if (IsLockError(text)) {
      return absl::FailedPreconditionError(absl::StrCat(
          msg, " (is another indelibled using this data directory?)"));
    }
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

}  // namespace indelible::store
