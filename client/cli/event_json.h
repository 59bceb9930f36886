// Events as JSON: what `indelible append --stdin` reads, one object per line.
//
// Accepted shape (every field optional here; the server decides what is
// required). Field names are the proto's, in snake_case or the lowerCamelCase
// of proto JSON, so the output of a proto JSON encoder is accepted as is:
//
//   {"tenant": "acme", "event_id": "e-1",
//    "occurred_at_ns": 1700000000000000000,     // integer or decimal string
//    "actor": {"id": "alice", "type": "user", "ip": "10.0.0.1"},
//    "action": "customer.read",
//    "resource": {"type": "customer", "id": "42"},
//    "reason": "ticket 7", "outcome": "allowed", "source": "crm",
//    "category": "access",
//    "metadata": [{"key": "k", "value": "v"}]}
//
// and, for hand-written lines, the flat forms:
//   "actor_id", "actor_type", "actor_ip", "resource_type", "resource_id";
//   "occurred_at": RFC 3339 text or integer nanoseconds;
//   "metadata": {"k": "v", ...} (an object instead of an array).
//
// null counts as absent. Unknown fields, a field given twice (e.g. both
// "actor": {"id": ...} and "actor_id"), a metadata key given twice, an empty
// metadata key and values of the wrong JSON type are InvalidArgument, with a
// message naming the field.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_CLIENT_CLI_EVENT_JSON_H_
#define INDELIBLE_CLIENT_CLI_EVENT_JSON_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "indelible/v1/indelible.pb.h"

namespace indelible::cli {

// Parses one line (one JSON object). InvalidArgument if it is not valid
// JSON, not an object, or not of the shape above.
absl::StatusOr<indelible::v1::Event> ParseEventJson(std::string_view line);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_EVENT_JSON_H_
