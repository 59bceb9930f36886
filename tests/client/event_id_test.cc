#include "client/event_id.h"

#include <regex>
#include <set>

#include "gtest/gtest.h"

namespace indelible::client {
namespace {

TEST(EventId, IsUuidV4Text) {
  const std::regex uuid4(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 100; ++i) {
    auto id = NewEventId();
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_TRUE(std::regex_match(*id, uuid4)) << *id;
  }
}

TEST(EventId, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(*NewEventId());
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace indelible::client
