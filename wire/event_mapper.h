// The one mapping between an audit event's wire form (v1::Event) and its
// fields (chain::EventFields, what the canonical encoding consumes). Every
// field is copied as it is, in order (metadata too): no validation and no
// normalisation, which belong to the daemon's ingest (daemon/write/ingest.h).
//
// Layering: proto and verifier/chain below, daemon, client and tools above.
// Thread-safe: pure functions.
#ifndef INDELIBLE_WIRE_EVENT_MAPPER_H_
#define INDELIBLE_WIRE_EVENT_MAPPER_H_

#include "indelible/v1/indelible.pb.h"
#include "verifier/chain/event.h"

namespace indelible {

// Fills *out (cleared first) from `f`.
void EventToProto(const chain::EventFields& f, v1::Event* out);
v1::Event EventToProto(const chain::EventFields& f);

chain::EventFields EventFromProto(const v1::Event& e);

}  // namespace indelible

#endif  // INDELIBLE_WIRE_EVENT_MAPPER_H_
