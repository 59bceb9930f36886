// Event ids: the idempotency key that makes retried appends safe.
//
// An id is a UUID version 7 (RFC 9562) in its text form,
// "tttttttt-tttt-7xxx-yxxx-xxxxxxxxxxxx" (lower-case hex, y in 8..b): the
// first 48 bits are the Unix time in milliseconds, the other 74 free bits
// come from OpenSSL's CSPRNG. Two clients never collide in practice, and
// the ids a client makes grow with time, so each lands next to its
// tenant's previous ones in the daemon's idempotency index, which costs it
// less than random ids would (docs/PERFORMANCE.md, "Event ids"). The time
// in an id is the client's clock when the event was handed over; the event
// carries its times anyway.
//
// Thread-safe.
#ifndef INDELIBLE_CLIENT_EVENT_ID_H_
#define INDELIBLE_CLIENT_EVENT_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace indelible::client {

// Internal if the CSPRNG fails (the caller must not send an event whose
// retries would not be idempotent).
absl::StatusOr<std::string> NewEventId();
// The same with the time given, in milliseconds since the Unix epoch (its
// low 48 bits are used).
absl::StatusOr<std::string> NewEventIdAt(uint64_t unix_ms);

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_EVENT_ID_H_
