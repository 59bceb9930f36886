// Random event ids: the idempotency key that makes retried appends safe.
//
// An id is 128 bits from OpenSSL's CSPRNG in the UUID version 4 text form,
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (lower-case hex, y in 8..b), so two
// clients never collide in practice and the server can deduplicate retries.
//
// Thread-safe.
#ifndef INDELIBLE_CLIENT_EVENT_ID_H_
#define INDELIBLE_CLIENT_EVENT_ID_H_

#include <string>

#include "absl/status/statusor.h"

namespace indelible::client {

// Internal if the CSPRNG fails (the caller must not send an event whose
// retries would not be idempotent).
absl::StatusOr<std::string> NewEventId();

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_EVENT_ID_H_
