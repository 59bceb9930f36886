#include "wire/event_mapper.h"

namespace indelible {

void EventToProto(const chain::EventFields& f, v1::Event* e) {
  e->Clear();
  e->set_tenant(f.tenant);
  e->set_event_id(f.event_id);
  e->set_occurred_at_ns(f.occurred_at_ns);
  e->mutable_actor()->set_id(f.actor_id);
  e->mutable_actor()->set_type(f.actor_type);
  e->mutable_actor()->set_ip(f.actor_ip);
  e->set_action(f.action);
  e->mutable_resource()->set_type(f.resource_type);
  e->mutable_resource()->set_id(f.resource_id);
  e->set_reason(f.reason);
  e->set_outcome(f.outcome);
  e->set_source(f.source);
  e->set_category(f.category);
  for (const auto& [k, v] : f.metadata) {
    v1::MetadataEntry* m = e->add_metadata();
    m->set_key(k);
    m->set_value(v);
  }
}

v1::Event EventToProto(const chain::EventFields& f) {
  v1::Event e;
  EventToProto(f, &e);
  return e;
}

chain::EventFields EventFromProto(const v1::Event& e) {
  chain::EventFields f;
  f.tenant = e.tenant();
  f.event_id = e.event_id();
  f.occurred_at_ns = e.occurred_at_ns();
  f.actor_id = e.actor().id();
  f.actor_type = e.actor().type();
  f.actor_ip = e.actor().ip();
  f.action = e.action();
  f.resource_type = e.resource().type();
  f.resource_id = e.resource().id();
  f.reason = e.reason();
  f.outcome = e.outcome();
  f.source = e.source();
  f.category = e.category();
  f.metadata.reserve(e.metadata_size());
  for (const v1::MetadataEntry& m : e.metadata()) f.metadata.emplace_back(m.key(), m.value());
  return f;
}

}  // namespace indelible
