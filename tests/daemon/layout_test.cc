#include "verifier/store/layout.h"

#include "gtest/gtest.h"

namespace indelible::store {
namespace {

TEST(Layout, SeqKeysSortBySeqWithinTenant) {
  EXPECT_LT(SeqKey("acme", 1), SeqKey("acme", 2));
  EXPECT_LT(SeqKey("acme", 255), SeqKey("acme", 256));
  EXPECT_LT(SeqKey("acme", 0xffffffffull), SeqKey("acme", 0x100000000ull));
  // A tenant's keys never interleave with a tenant it prefixes.
  EXPECT_LT(SeqKey("acme", ~0ull), SeqKey("acme2", 0));
  EXPECT_EQ(SeqKey("acme", 1).rfind(TenantPrefix("acme"), 0), 0u);
  EXPECT_NE(SeqKey("acme2", 1).rfind(TenantPrefix("acme"), 0), 0u);
}

TEST(Layout, SeqKeyRoundTrip) {
  std::string_view t;
  uint64_t seq = 0;
  std::string k = SeqKey("a.b-c", 0x0102030405060708ull);
  ASSERT_TRUE(ParseSeqKey(k, &t, &seq));
  EXPECT_EQ(t, "a.b-c");
  EXPECT_EQ(seq, 0x0102030405060708ull);
  EXPECT_FALSE(ParseSeqKey("short", &t, &seq));
}

TEST(Layout, EventIdKeyIsTheIdThenTheTenant) {
  EXPECT_EQ(EventIdKey("acme", "evt-7"), std::string("evt-7\0acme", 10));
  std::string_view tenant, id;
  const std::string key = EventIdKey("a.b-c", "0190f1e2-x");
  ASSERT_TRUE(ParseEventIdKey(key, &tenant, &id));
  EXPECT_EQ(tenant, "a.b-c");
  EXPECT_EQ(id, "0190f1e2-x");
  EXPECT_FALSE(ParseEventIdKey("no-separator", &tenant, &id));
}

TEST(Layout, EventIdKeysOfIdsThatGrowSortByIdWhateverTheTenant) {
  // UUIDv7s of two milliseconds: every tenant's later id sorts after every
  // tenant's earlier one, so new index rows do not fall between old ones.
  const std::string earlier = "019a0000-0000-7000-8000-000000000000";
  const std::string later = "019a0000-0001-7000-8000-000000000000";
  for (const char* a : {"acme", "zeta", "a"}) {
    for (const char* b : {"acme", "zeta", "a"}) {
      EXPECT_LT(EventIdKey(a, earlier), EventIdKey(b, later)) << a << " " << b;
    }
  }
  // One id under two tenants: two keys.
  EXPECT_NE(EventIdKey("acme", "x"), EventIdKey("acme2", "x"));
  EXPECT_NE(EventIdKey("acme", "x0"), EventIdKey("acme0", "x"));
}

TEST(Layout, SkeletonAndHeadRoundTrip) {
  Skeleton s;
  s.received_at_ns = 42;
  s.body_digest = chain::Sha256("b");
  s.entry_hash = chain::Sha256("e");
  Skeleton back;
  ASSERT_TRUE(DecodeSkeleton(EncodeSkeleton(s), &back));
  EXPECT_EQ(back.received_at_ns, 42u);
  EXPECT_EQ(back.body_digest, s.body_digest);
  EXPECT_EQ(back.entry_hash, s.entry_hash);
  EXPECT_FALSE(DecodeSkeleton("x", &back));

  Head h{7, 9, chain::Sha256("h")};
  Head hb;
  ASSERT_TRUE(DecodeHead(EncodeHead(h), &hb));
  EXPECT_EQ(hb.seq, 7u);
  EXPECT_EQ(hb.received_at_ns, 9u);
  EXPECT_EQ(hb.entry_hash, h.entry_hash);
}

// A leaf's row keeps its category after the hash; a node's is the hash alone.
TEST(Layout, TreeRowRoundTrip) {
  const chain::Digest h = chain::Sha256("leaf");
  chain::Digest back{};
  std::string_view category;  // a view into the row decoded
  const std::string leaf = EncodeTreeRow(0, h, "trace");
  ASSERT_TRUE(DecodeTreeRow(0, leaf, &back, &category));
  EXPECT_EQ(back, h);
  EXPECT_EQ(category, "trace");
  const std::string unknown = EncodeTreeRow(0, h, "");
  ASSERT_TRUE(DecodeTreeRow(0, unknown, &back, &category));
  EXPECT_EQ(category, "");
  EXPECT_EQ(EncodeTreeRow(3, h, "trace"), chain::AsBytes(h));
  EXPECT_FALSE(DecodeTreeRow(3, std::string(chain::AsBytes(h)) + "x", &back, &category));
  EXPECT_FALSE(DecodeTreeRow(0, "short", &back, &category));
}

}  // namespace
}  // namespace indelible::store
