// The fields of an audit event, independent of any wire format. This is what
// the canonical encoding (canonical_event.h) consumes and produces.
#ifndef INDELIBLE_VERIFIER_CHAIN_EVENT_H_
#define INDELIBLE_VERIFIER_CHAIN_EVENT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace indelible::chain {

struct EventFields {
  std::string tenant;
  std::string event_id;
  uint64_t occurred_at_ns = 0;
  std::string actor_id;
  std::string actor_type;
  std::string actor_ip;
  std::string action;
  std::string resource_type;
  std::string resource_id;
  std::string reason;
  std::string outcome;
  std::string source;
  std::string category;
  // Key/value pairs. Encoding sorts them bytewise by key; keys must be unique.
  std::vector<std::pair<std::string, std::string>> metadata;

  bool operator==(const EventFields&) const = default;
};

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_EVENT_H_
