#include "wire/event_mapper.h"

#include "gtest/gtest.h"

namespace indelible {
namespace {

chain::EventFields Full() {
  chain::EventFields f;
  f.tenant = "acme";
  f.event_id = "e-1";
  f.occurred_at_ns = 1700000000123456789ull;
  f.actor_id = "alice";
  f.actor_type = "user";
  f.actor_ip = "10.0.0.1";
  f.action = "customer.read";
  f.resource_type = "customer";
  f.resource_id = "c-9";
  f.reason = "ticket 7";
  f.outcome = "allowed";
  f.source = "crm";
  f.category = "access";
  // Not sorted: the mapper keeps the order it is given.
  f.metadata = {{"z", "1"}, {"a", "2"}};
  return f;
}

TEST(EventMapperTest, EveryFieldGoesToItsProtoField) {
  const v1::Event e = EventToProto(Full());
  EXPECT_EQ(e.tenant(), "acme");
  EXPECT_EQ(e.event_id(), "e-1");
  EXPECT_EQ(e.occurred_at_ns(), 1700000000123456789ull);
  EXPECT_EQ(e.actor().id(), "alice");
  EXPECT_EQ(e.actor().type(), "user");
  EXPECT_EQ(e.actor().ip(), "10.0.0.1");
  EXPECT_EQ(e.action(), "customer.read");
  EXPECT_EQ(e.resource().type(), "customer");
  EXPECT_EQ(e.resource().id(), "c-9");
  EXPECT_EQ(e.reason(), "ticket 7");
  EXPECT_EQ(e.outcome(), "allowed");
  EXPECT_EQ(e.source(), "crm");
  EXPECT_EQ(e.category(), "access");
  ASSERT_EQ(e.metadata_size(), 2);
  EXPECT_EQ(e.metadata(0).key(), "z");
  EXPECT_EQ(e.metadata(0).value(), "1");
  EXPECT_EQ(e.metadata(1).key(), "a");
  EXPECT_EQ(e.metadata(1).value(), "2");
}

TEST(EventMapperTest, RoundTripsBothWays) {
  const chain::EventFields f = Full();
  EXPECT_EQ(EventFromProto(EventToProto(f)), f);
  const v1::Event e = EventToProto(f);
  EXPECT_EQ(EventToProto(EventFromProto(e)).SerializeAsString(), e.SerializeAsString());
}

TEST(EventMapperTest, NoDefaultsAreFilledIn) {
  v1::Event e;
  e.set_tenant("acme");
  const chain::EventFields f = EventFromProto(e);
  EXPECT_EQ(f.occurred_at_ns, 0u);
  EXPECT_EQ(f.category, "");
  EXPECT_TRUE(f.metadata.empty());
}

TEST(EventMapperTest, ToProtoReplacesWhatWasThere) {
  v1::Event e;
  e.set_reason("old");
  e.add_metadata()->set_key("stale");
  chain::EventFields f;
  f.tenant = "acme";
  EventToProto(f, &e);
  EXPECT_EQ(e.reason(), "");
  EXPECT_EQ(e.metadata_size(), 0);
}

}  // namespace
}  // namespace indelible
