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

// A row of bodies: each body with its seq, read back in order.
TEST(Layout, BodyRunRoundTrip) {
  std::string row;
  AppendToBodyRun(&row, 7, "first");
  AppendToBodyRun(&row, 8, "");
  AppendToBodyRun(&row, 10, std::string(300, 'x'));
  EXPECT_EQ(row.size(), 3 * kBodyRunEntryHeader + 5 + 300);
  BodyRun run(7, row);
  uint64_t seq;
  std::string_view body;
  ASSERT_TRUE(run.Next(&seq, &body));
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(body, "first");
  ASSERT_TRUE(run.Next(&seq, &body));
  EXPECT_EQ(seq, 8u);
  EXPECT_EQ(body, "");
  ASSERT_TRUE(run.Next(&seq, &body));
  EXPECT_EQ(seq, 10u);
  EXPECT_EQ(body, std::string(300, 'x'));
  EXPECT_FALSE(run.Next(&seq, &body));
  EXPECT_FALSE(run.malformed());
  EXPECT_EQ(run.next_min_seq(), 11u);
  // The key's seq may be below the first body's (retention took it).
  BodyRun later(3, row);
  ASSERT_TRUE(later.Next(&seq, &body));
  EXPECT_EQ(seq, 7u);
}

// Decoding stops at the first body that does not decode, and says where.
TEST(Layout, BodyRunStopsWhereItDoesNotDecode) {
  std::string good;
  AppendToBodyRun(&good, 5, "five");
  const auto stops_after = [&](const std::string& tail, uint64_t key_seq, int bodies) {
    const std::string row = good + tail;
    BodyRun run(key_seq, row);
    uint64_t seq;
    std::string_view body;
    int n = 0;
    while (run.Next(&seq, &body)) ++n;
    EXPECT_EQ(n, bodies) << chain::ToHex(tail);
    EXPECT_TRUE(run.malformed()) << chain::ToHex(tail);
    EXPECT_EQ(run.rest(), bodies == 0 ? row : tail);
    EXPECT_EQ(run.next_min_seq(), bodies == 0 ? key_seq : 6u);
  };
  stops_after("short", 5, 1);  // less than a header
  std::string past_end;
  chain::PutU64(&past_end, 6);
  chain::PutU32(&past_end, 10);
  past_end += "123456789";  // one byte short
  stops_after(past_end, 5, 1);
  std::string not_above;
  AppendToBodyRun(&not_above, 5, "again");  // seq 5 twice
  stops_after(not_above, 5, 1);
  // The first body below the key's seq.
  stops_after("", 6, 0);
  // Nothing may follow seq 2^64 - 1.
  std::string max;
  AppendToBodyRun(&max, UINT64_MAX, "last");
  AppendToBodyRun(&max, 1, "wrapped");
  BodyRun run(0, max);
  uint64_t seq;
  std::string_view body;
  ASSERT_TRUE(run.Next(&seq, &body));
  EXPECT_EQ(seq, UINT64_MAX);
  EXPECT_FALSE(run.Next(&seq, &body));
  EXPECT_TRUE(run.malformed());
}

}  // namespace
}  // namespace indelible::store
