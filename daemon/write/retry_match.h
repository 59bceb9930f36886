// Whether an append that repeats a stored (tenant, event_id) is a retry of
// the first record or a different event under the same id.
//
// A retry matches when it would store the same canonical bytes (CE, after
// normalisation and the tenant's ingest rules). The comparison goes through
// the first record's hashed digest, SHA-256(first salt || CE of the retry)
// == first body_digest, so it needs neither the first CE in memory nor
// trust in a stored copy. One exception: a retry that left occurred_at
// unset (the daemon filled in its receive time) matches the first record's
// occurred_at, whatever it is.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_DAEMON_WRITE_RETRY_MATCH_H_
#define INDELIBLE_DAEMON_WRITE_RETRY_MATCH_H_

#include <string_view>

#include "absl/status/status.h"
#include "daemon/write/sequencer.h"
#include "verifier/chain/hash.h"

namespace indelible {

// The comparable part of `e` as a first record (its receipt left empty).
// occurred_at_ns is 0 when e's CE is not well-formed.
FirstRecord FirstRecordOf(const PreparedEvent& e);

// The comparable part of a stored record from its body value (u64 || salt
// || CE) and its skeleton's body_digest. False if the body is shorter than
// its time and salt.
bool FirstRecordFromBody(std::string_view body, const chain::Digest& body_digest,
                         FirstRecord* out);

// True if `retry` would store the same canonical bytes as `first`.
bool SameEvent(const FirstRecord& first, const PreparedEvent& retry);

// AlreadyExists: "<path>.event_id: ... first stored as seq N ...", or, when
// the first is an earlier event of the same request (no seq yet), says so.
absl::Status ConflictError(const PreparedEvent& retry, const FirstRecord& first);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_RETRY_MATCH_H_
