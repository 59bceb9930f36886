// The one conversion of rocksdb::Status to absl::Status, shared by the
// daemon (daemon/write/storage.h) and every reader of a data directory
// (reader.h: the verifier, backups, restore).
#ifndef INDELIBLE_VERIFIER_STORE_ROCKS_STATUS_H_
#define INDELIBLE_VERIFIER_STORE_ROCKS_STATUS_H_

#include <string_view>

#include "absl/status/status.h"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace indelible::store {

// OK for OK; otherwise "<context>: <RocksDB's message>" with the code:
//   NoSpace (an IOError)        RESOURCE_EXHAUSTED, the message starting
//                               "disk full: " (docs/API.md tells it apart
//                               from a request over the size limit)
//   IOError on the LOCK file    FAILED_PRECONDITION, asking whether another
//                               indelibled uses the data directory
//   other IOError, Busy,        UNAVAILABLE
//     TimedOut, TryAgain
//   Corruption                  DATA_LOSS
//   NotFound                    NOT_FOUND
//   InvalidArgument             INVALID_ARGUMENT
//   NotSupported                FAILED_PRECONDITION
//   anything else               INTERNAL
absl::Status FromRocksDb(const rocksdb::Status& s, std::string_view context);

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_ROCKS_STATUS_H_
