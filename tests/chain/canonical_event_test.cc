#include "verifier/chain/canonical_event.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace indelible::chain {
namespace {

EventFields Sample() {
  EventFields e;
  e.tenant = "acme";
  e.event_id = "e1";
  e.occurred_at_ns = 42;
  e.actor_id = "alice";
  e.action = "read";
  e.category = "access";
  e.metadata = {{"z", "1"}, {"a", "2"}};
  return e;
}

TEST(CanonicalEvent, RoundTripSortsMetadata) {
  auto ce = EncodeCanonicalEvent(Sample());
  ASSERT_TRUE(ce.ok());
  auto back = DecodeCanonicalEvent(*ce);
  ASSERT_TRUE(back.ok()) << back.status();
  EventFields want = Sample();
  want.metadata = {{"a", "2"}, {"z", "1"}};
  EXPECT_EQ(*back, want);
  auto cat = CanonicalEventCategory(*ce);
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(*cat, "access");
}

TEST(CanonicalEvent, MetadataOrderDoesNotChangeBytes) {
  EventFields a = Sample();
  EventFields b = Sample();
  std::swap(b.metadata[0], b.metadata[1]);
  EXPECT_EQ(*EncodeCanonicalEvent(a), *EncodeCanonicalEvent(b));
}

TEST(CanonicalEvent, DuplicateKeyRejectedNamingIt) {
  EventFields e = Sample();
  e.metadata.push_back({"z", "other"});
  auto ce = EncodeCanonicalEvent(e);
  ASSERT_FALSE(ce.ok());
  EXPECT_EQ(ce.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ce.status().message().find("\"z\""), std::string::npos);
}

TEST(CanonicalEvent, EmptyFieldsAreEncodedNotOmitted) {
  EventFields e;
  auto ce = EncodeCanonicalEvent(e);
  ASSERT_TRUE(ce.ok());
  // tag+NUL (19) + two str (8) + u64 (8) + ten str (40) + u32 count (4).
  EXPECT_EQ(ce->size(), 19u + 8 + 8 + 40 + 4);
}

TEST(CanonicalEvent, MalformedInputIsDataLoss) {
  std::string ce = *EncodeCanonicalEvent(Sample());
  for (size_t cut : {size_t{0}, size_t{5}, ce.size() - 1}) {
    auto r = DecodeCanonicalEvent(std::string_view(ce).substr(0, cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_FALSE(DecodeCanonicalEvent(ce + "x").ok());
  std::string bad_tag = ce;
  bad_tag[0] = 'X';
  EXPECT_FALSE(DecodeCanonicalEvent(bad_tag).ok());
  // A huge metadata count with no data must fail, not allocate.
  std::string huge = *EncodeCanonicalEvent(EventFields{});
  huge.replace(huge.size() - 4, 4, "\xff\xff\xff\xff", 4);
  EXPECT_FALSE(DecodeCanonicalEvent(huge).ok());
}

// The check validates events it does not need decoded with
// CanonicalEventTenant: the same verdict, to the message, on every cut of a
// CE and on each kind of damage.
TEST(CanonicalEvent, TenantOnlyReadingJudgesAsDecodingDoes) {
  const std::string ce = *EncodeCanonicalEvent(Sample());
  auto tenant = CanonicalEventTenant(ce);
  ASSERT_TRUE(tenant.ok()) << tenant.status();
  EXPECT_EQ(*tenant, Sample().tenant);
  std::vector<std::string> bad;
  for (size_t cut = 0; cut < ce.size(); ++cut) bad.push_back(ce.substr(0, cut));
  bad.push_back(ce + "x");
  bad.push_back("X" + ce.substr(1));
  std::string huge = *EncodeCanonicalEvent(EventFields{});
  huge.replace(huge.size() - 4, 4, "\xff\xff\xff\xff", 4);
  bad.push_back(huge);
  // Two metadata pairs with their keys swapped in the bytes.
  EventFields two = Sample();
  two.metadata = {{"ka", "v"}, {"kb", "v"}};
  std::string keys = *EncodeCanonicalEvent(two);
  const size_t a = keys.rfind("ka"), b = keys.rfind("kb");
  ASSERT_NE(a, std::string::npos);
  keys[a + 1] = 'b';
  keys[b + 1] = 'a';
  bad.push_back(keys);
  for (const std::string& c : bad) {
    auto want = DecodeCanonicalEvent(c);
    auto got = CanonicalEventTenant(c);
    ASSERT_FALSE(want.ok()) << c.size();
    EXPECT_EQ(got.status(), want.status()) << c.size();
  }
}

}  // namespace
}  // namespace indelible::chain
