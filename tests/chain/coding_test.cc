#include "verifier/chain/coding.h"

#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "verifier/chain/hash.h"

namespace indelible::chain {
namespace {

TEST(Coding, BigEndianRoundTrip) {
  std::string buf;
  PutU32(&buf, 0x01020304u);
  PutU64(&buf, 0x0102030405060708ull);
  PutStr(&buf, "ab");
  EXPECT_EQ(ToHex(buf), "01020304" "0102030405060708" "00000002" "6162");
  std::string_view in = buf;
  uint32_t a;
  uint64_t b;
  std::string_view s;
  ASSERT_TRUE(GetU32(&in, &a));
  ASSERT_TRUE(GetU64(&in, &b));
  ASSERT_TRUE(GetStr(&in, &s));
  EXPECT_EQ(a, 0x01020304u);
  EXPECT_EQ(b, 0x0102030405060708ull);
  EXPECT_EQ(s, "ab");
  EXPECT_TRUE(in.empty());
}

TEST(Coding, TruncatedInputFails) {
  std::string buf;
  PutStr(&buf, "hello");
  std::string_view in(buf.data(), buf.size() - 1);
  std::string_view s;
  EXPECT_FALSE(GetStr(&in, &s));
  std::string_view three("abc");
  uint32_t v;
  EXPECT_FALSE(GetU32(&three, &v));
}

TEST(TenantId, AcceptsAndRejects) {
  EXPECT_TRUE(IsValidTenantId("acme"));
  EXPECT_TRUE(IsValidTenantId("0"));
  EXPECT_TRUE(IsValidTenantId("a.b_c-d9"));
  EXPECT_TRUE(IsValidTenantId(std::string(63, 'a')));
  EXPECT_FALSE(IsValidTenantId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidTenantId(""));
  EXPECT_FALSE(IsValidTenantId("Acme"));
  EXPECT_FALSE(IsValidTenantId("-acme"));
  EXPECT_FALSE(IsValidTenantId(".acme"));
  EXPECT_FALSE(IsValidTenantId("ac me"));
  EXPECT_FALSE(IsValidTenantId("ac/me"));
  EXPECT_FALSE(IsValidTenantId(std::string("ac\0me", 5)));
}

TEST(Hash, GenesisSeparatesTenants) {
  EXPECT_NE(Genesis("a"), Genesis("b"));
  // Length prefix: "ab" as one tenant differs from any concatenation trick.
  EXPECT_NE(Genesis("ab"), Genesis("a"));
}

TEST(Hash, HexRoundTrip) {
  std::string bytes;
  ASSERT_TRUE(FromHex("00ff10", &bytes));
  EXPECT_EQ(bytes, std::string("\x00\xff\x10", 3));
  EXPECT_EQ(ToHex(bytes), "00ff10");
  EXPECT_FALSE(FromHex("abc", &bytes));
  EXPECT_FALSE(FromHex("zz", &bytes));
}

// Salts are drawn 64 at a time per thread: across refills and threads,
// none may repeat (a repeat would be a broken buffer, not bad luck: the
// chance for 16 random bytes is negligible).
TEST(Hash, RandomSaltsNeverRepeat) {
  constexpr int kThreads = 4, kPerThread = 1000;
  std::vector<std::vector<Salt>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&got, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Salt s;
        ASSERT_TRUE(RandomSalt(&s).ok());
        got[t].push_back(s);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Salt> all;
  for (const auto& v : got) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(all.count(Salt{}), 0u);
}

}  // namespace
}  // namespace indelible::chain
