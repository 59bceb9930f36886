// Canonical event bytes (CE): the one encoding of an event that is hashed.
//
//   CE = "indelible/v1/event" || 0x00 || str(tenant) || str(event_id)
//        || u64(occurred_at_ns) || str(actor_id) || str(actor_type)
//        || str(actor_ip) || str(action) || str(resource_type)
//        || str(resource_id) || str(reason) || str(outcome) || str(source)
//        || str(category) || u32(n) || str(key_1) || str(value_1) || ...
//
// Metadata keys are unique and sorted bytewise; absent strings are empty.
// CE is built once at ingest and stored verbatim: it is never rebuilt before
// hashing, so decoding exists only for display and export.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_CANONICAL_EVENT_H_
#define INDELIBLE_VERIFIER_CHAIN_CANONICAL_EVENT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/chain/event.h"

namespace indelible::chain {

// The domain tag that opens every CE, without its 0x00 terminator.
inline constexpr std::string_view kEventTag = "indelible/v1/event";

// Encodes `event`. Metadata is sorted by key; a duplicate key is
// InvalidArgument naming it. Performs no other validation (see the daemon's
// ingest validation for sizes, UTF-8 and required fields).
absl::StatusOr<std::string> EncodeCanonicalEvent(const EventFields& event);

// Decodes CE produced by EncodeCanonicalEvent. Returns DataLoss if the bytes
// are not a well-formed v1 CE (wrong tag, truncated, trailing bytes, unsorted
// or duplicate metadata keys).
absl::StatusOr<EventFields> DecodeCanonicalEvent(std::string_view ce);

// The tenant of a CE that DecodeCanonicalEvent would decode (every check it
// makes, the same errors), as a view into `ce`: nothing is copied.
absl::StatusOr<std::string_view> CanonicalEventTenant(std::string_view ce);

// Returns the category of a CE without decoding the rest. DataLoss if
// malformed.
absl::StatusOr<std::string_view> CanonicalEventCategory(std::string_view ce);

// Finds u64(occurred_at_ns) in a CE without decoding the rest: its byte
// offset in `ce` (after the tag, tenant and event_id) and its value. False if
// `ce` is too short or has the wrong tag. Allocates nothing.
bool CanonicalEventOccurredAt(std::string_view ce, size_t* offset,
                              uint64_t* occurred_at_ns);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_CANONICAL_EVENT_H_
