#include "client/event_id.h"

#include <chrono>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace indelible::client {
namespace {

const std::regex kUuid7("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The first 48 bits of the id: its milliseconds.
uint64_t IdMs(const std::string& id) {
  return std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
}

TEST(EventId, IsUuidV7TextWithTheTimeOfTheCall) {
  for (int i = 0; i < 100; ++i) {
    const uint64_t before = NowMs();
    auto id = NewEventId();
    const uint64_t after = NowMs();
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_TRUE(std::regex_match(*id, kUuid7)) << *id;
    EXPECT_GE(IdMs(*id), before) << *id;
    EXPECT_LE(IdMs(*id), after) << *id;
  }
}

// RFC 9562's example time, 2022-02-22T19:22:22Z (0x017F22E279B0 ms).
TEST(EventId, PutsTheTimeInTheFirst48Bits) {
  auto id = NewEventIdAt(0x017F22E279B0);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->substr(0, 15), "017f22e2-79b0-7") << *id;
  EXPECT_TRUE(std::regex_match(*id, kUuid7)) << *id;
  // Only the low 48 bits of the time are used.
  auto wrapped = NewEventIdAt((uint64_t{1} << 48) | 0x017F22E279B0);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  EXPECT_EQ(wrapped->substr(0, 15), "017f22e2-79b0-7") << *wrapped;
}

// Ids of later milliseconds sort after earlier ones, as text: what lets a
// client's ids land next to each other in the daemon's index.
TEST(EventId, SortsByTime) {
  std::string prev;
  for (uint64_t ms = 1700000000000; ms < 1700000000000 + 2000; ms += 7) {
    auto id = NewEventIdAt(ms);
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_LT(prev, *id);
    prev = *id;
  }
}

TEST(EventId, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(*NewEventId());
  EXPECT_EQ(seen.size(), 10000u);
  // Nor within one millisecond: 74 random bits.
  seen.clear();
  for (int i = 0; i < 10000; ++i) seen.insert(*NewEventIdAt(1700000000000));
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace indelible::client
