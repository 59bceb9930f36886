// EventFactory::AppendEncoded, the stream load's encoder, against protobuf's
// own serializer: the bytes of n entries are those of an AppendBatchRequest
// of the same n events, as Fill and Renew make them, in every id format and
// with lengths that take more than one varint byte.
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tools/loadgen/workload.h"

namespace indelible::tools {
namespace {

struct Case {
  IdFormat ids;
  int tenants;
  size_t event_bytes;
  std::string prefix;
};

class AppendEncodedTest : public ::testing::TestWithParam<Case> {};

TEST_P(AppendEncodedTest, BytesAreProtobufsSerializationOfTheSameEvents) {
  const Case& c = GetParam();
  EventFactory factory("run1", c.tenants, c.event_bytes, c.prefix, c.ids);
  constexpr int kEvents = 300;  // past 128 for the run counter's ids
  std::string encoded;
  for (int i = 0; i < kEvents; ++i) factory.AppendEncoded(&encoded);

  v1::AppendBatchRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded));
  ASSERT_EQ(parsed.events_size(), kEvents);
  // What Fill and Renew would send with the same tenants and ids.
  v1::AppendBatchRequest expected;
  std::set<std::string> ids;
  for (int i = 0; i < kEvents; ++i) {
    const v1::Event& got = parsed.events(i);
    EXPECT_EQ(got.tenant(), factory.tenants()[i % c.tenants]) << i;
    if (c.ids == IdFormat::kRunCounter) {
      EXPECT_EQ(got.event_id(), "run1-" + std::to_string(i));
    }
    ids.insert(got.event_id());
    v1::Event* e = expected.add_events();
    factory.Fill(e);
    e->set_tenant(got.tenant());
    e->set_event_id(got.event_id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(encoded, expected.SerializeAsString());
}

INSTANTIATE_TEST_SUITE_P(
    Formats, AppendEncodedTest,
    ::testing::Values(Case{IdFormat::kRunCounter, 1, 512, ""},
                      Case{IdFormat::kRunCounter, 3, 512, "bench"},
                      Case{IdFormat::kUuid4, 8, 512, "bench"},
                      Case{IdFormat::kUuid7, 2, 512, ""},
                      // A 4 KiB event: its length takes two varint bytes.
                      Case{IdFormat::kRunCounter, 2, 4096, ""},
                      // The longest tenant id.
                      Case{IdFormat::kUuid7, 2, 512, std::string(61, 't')}));

}  // namespace
}  // namespace indelible::tools
