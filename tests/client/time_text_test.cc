#include "client/cli/time_text.h"

#include "gtest/gtest.h"

namespace indelible::cli {
namespace {

TEST(TimeText, ParsesIntegerNanoseconds) {
  EXPECT_EQ(*ParseTimestamp("0"), 0u);
  EXPECT_EQ(*ParseTimestamp("1700000000123456789"), 1700000000123456789u);
  EXPECT_FALSE(ParseTimestamp("18446744073709551615").ok());  // > int64
}

TEST(TimeText, ParsesRfc3339WithZoneAndFraction) {
  EXPECT_EQ(*ParseTimestamp("2023-11-14T22:13:20Z"), 1700000000000000000u);
  EXPECT_EQ(*ParseTimestamp("2023-11-14T23:13:20.5+01:00"),
            1700000000500000000u);
  EXPECT_FALSE(ParseTimestamp("1969-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseTimestamp("2023-11-14 22:13:20").ok());
  EXPECT_FALSE(ParseTimestamp("").ok());
  EXPECT_FALSE(ParseTimestamp("-5").ok());
}

TEST(TimeText, FormatsUtcWithMinimalFraction) {
  EXPECT_EQ(FormatTimestamp(1700000000000000000u), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatTimestamp(1700000000123456789u),
            "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(FormatTimestamp(1700000000120000000u), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(*ParseTimestamp(FormatTimestamp(1700000000123456789u)),
            1700000000123456789u);
}

TEST(TimeText, ParsesTimeouts) {
  EXPECT_EQ(*ParseTimeout("10s"), std::chrono::milliseconds(10000));
  EXPECT_EQ(*ParseTimeout("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseTimeout("1m30s"), std::chrono::milliseconds(90000));
  EXPECT_EQ(*ParseTimeout("3"), std::chrono::milliseconds(3000));
  EXPECT_FALSE(ParseTimeout("0s").ok());
  EXPECT_FALSE(ParseTimeout("-1s").ok());
  EXPECT_FALSE(ParseTimeout("inf").ok());
  EXPECT_FALSE(ParseTimeout("soon").ok());
}

}  // namespace
}  // namespace indelible::cli
