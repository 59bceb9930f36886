#include "client/cli/event_json.h"

#include "client/cli/output_json.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;

v1::Event Full() {
  v1::Event e;
  e.set_tenant("acme");
  e.set_event_id("e-1");
  e.set_occurred_at_ns(1700000000123456789);
  e.mutable_actor()->set_id("alice");
  e.mutable_actor()->set_type("user");
  e.mutable_actor()->set_ip("10.0.0.1");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("42");
  e.set_reason("ticket 7");
  e.set_outcome("allowed");
  e.set_source("crm");
  e.set_category("access");
  auto* m = e.add_metadata();
  m->set_key("k");
  m->set_value("v");
  return e;
}

void ExpectEq(const v1::Event& got, const v1::Event& want) {
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, want))
      << "got:  " << got.ShortDebugString()
      << "\nwant: " << want.ShortDebugString();
}

TEST(EventJson, NestedSnakeCase) {
  auto e = ParseEventJson(
      R"({"tenant":"acme","event_id":"e-1","occurred_at_ns":1700000000123456789,)"
      R"("actor":{"id":"alice","type":"user","ip":"10.0.0.1"},)"
      R"("action":"customer.read","resource":{"type":"customer","id":"42"},)"
      R"("reason":"ticket 7","outcome":"allowed","source":"crm",)"
      R"("category":"access","metadata":[{"key":"k","value":"v"}]})");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectEq(*e, Full());
}

TEST(EventJson, FlatNamesRfc3339AndMetadataObject) {
  auto e = ParseEventJson(
      R"({"tenant":"acme","event_id":"e-1",)"
      R"("occurred_at":"2023-11-14T22:13:20.123456789Z",)"
      R"("actor_id":"alice","actor_type":"user","actor_ip":"10.0.0.1",)"
      R"("action":"customer.read","resource_type":"customer",)"
      R"("resource_id":"42","reason":"ticket 7","outcome":"allowed",)"
      R"("source":"crm","category":"access","metadata":{"k":"v"}})");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectEq(*e, Full());
}

TEST(EventJson, AcceptsProtoJsonEncoderOutput) {
  std::string line;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(Full(), &line).ok());
  auto e = ParseEventJson(line);
  ASSERT_TRUE(e.ok()) << e.status() << " for " << line;
  ExpectEq(*e, Full());
}

TEST(EventJson, RoundTripsThroughOutputShape) {
  auto e = ParseEventJson(JsonLine(EventToJson(Full())));
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectEq(*e, Full());
}

TEST(EventJson, MinimalEventAndNulls) {
  auto e = ParseEventJson(
      R"({"actor_id":"bob","action":"login","reason":null,"metadata":null})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->actor().id(), "bob");
  EXPECT_EQ(e->action(), "login");
  EXPECT_TRUE(e->tenant().empty());
  EXPECT_TRUE(e->event_id().empty());
  EXPECT_EQ(e->occurred_at_ns(), 0u);
  EXPECT_EQ(e->metadata_size(), 0);
}

TEST(EventJson, OccurredAtForms) {
  EXPECT_EQ(ParseEventJson(R"({"occurred_at_ns":"42"})")->occurred_at_ns(),
            42u);
  EXPECT_EQ(ParseEventJson(R"({"occurred_at":42})")->occurred_at_ns(), 42u);
  EXPECT_EQ(ParseEventJson(R"({"occurredAt":"1970-01-01T00:00:01+01:00"})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // before the epoch
  EXPECT_EQ(ParseEventJson(R"({"occurred_at":"1970-01-01T01:00:01+01:00"})")
                ->occurred_at_ns(),
            1000000000u);
}

// Each bad line is refused with a message naming the problem.
struct BadCase {
  const char* line;
  const char* message_part;
};

class EventJsonBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(EventJsonBad, IsInvalidArgumentNamingTheField) {
  auto e = ParseEventJson(GetParam().line);
  ASSERT_FALSE(e.ok()) << GetParam().line;
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(e.status().message()).find(GetParam().message_part),
            std::string::npos)
      << e.status();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EventJsonBad,
    ::testing::Values(
        BadCase{R"({"tenant":"acme",)", "invalid JSON"},
        BadCase{R"(["a"])", "expected a JSON object"},
        BadCase{R"("text")", "expected a JSON object"},
        BadCase{R"({"tenant":"a"} {"tenant":"b"})", "invalid JSON"},
        BadCase{R"({"actr_id":"x"})", "actr_id: unknown field"},
        BadCase{R"({"actor":{"name":"x"}})", "actor.name: unknown field"},
        BadCase{R"({"actor":"alice"})", "actor: must be an object"},
        BadCase{R"({"action":7})", "action: must be a string, not number"},
        BadCase{R"({"actor":{"id":"a"},"actor_id":"b"})",
                "actor.id: given twice"},
        BadCase{R"({"event_id":"a","eventId":"b"})", "event_id: given twice"},
        BadCase{R"({"occurred_at":"now","occurred_at_ns":1})", ""},
        BadCase{R"({"occurred_at_ns":1,"occurred_at":2})", "given twice"},
        BadCase{R"({"occurred_at_ns":-1})", "non-negative integer"},
        BadCase{R"({"occurred_at_ns":1.5})", "non-negative integer"},
        BadCase{R"({"occurred_at_ns":"2023-11-14T22:13:20Z"})",
                "integer nanoseconds"},
        BadCase{R"({"occurred_at":"yesterday"})", "not an RFC 3339 time"},
        BadCase{R"({"metadata":[{"key":"k","value":"1"},{"key":"k"}]})",
                "duplicate key \"k\""},
        BadCase{R"({"metadata":[{"value":"v"}]})", "metadata[0]: empty key"},
        BadCase{R"({"metadata":[{"key":"k","val":"v"}]})",
                "metadata[0].val: unknown field"},
        BadCase{R"({"metadata":{"k":1}})", "metadata.k: must be a string"},
        BadCase{R"({"metadata":"k=v"})", "metadata: must be an array"}));

// Hostile input (tests/fuzz/cli_input_fuzz): nlohmann throws out_of_range,
// not parse_error, for a number beyond a double; it escaped ParseEventJson
// and ended `indelible append --stdin`.
TEST(EventJson, NumberOverflowIsInvalidArgument) {
  for (const char* line : {"1e999", "{\"occurred_at_ns\": 1e999}",
                           "[-1e400]"}) {
    auto e = ParseEventJson(line);
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << line;
  }
}

}  // namespace
}  // namespace indelible::cli
