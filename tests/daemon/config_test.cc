#include "daemon/config.h"

#include "gtest/gtest.h"

namespace indelible {
namespace {

TEST(Config, EmptyMeansDefaults) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:7410");
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(Config, ReadsValues) {
  auto c = ParseConfig(R"(
listen: 127.0.0.1:9000
data_dir: /var/lib/indelible
log_level: debug
limits:
  max_event_bytes: 1000
  max_future_skew_seconds: 60
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:9000");
  EXPECT_EQ(c->data_dir, "/var/lib/indelible");
  EXPECT_EQ(c->limits.max_event_bytes, 1000u);
  EXPECT_EQ(c->limits.max_future_skew_ns, 60ull * 1000000000);
}

TEST(Config, UnknownKeyIsNamed) {
  auto c = ParseConfig("listne: 1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("listne"), std::string::npos);
  c = ParseConfig("limits:\n  max_evnt_bytes: 1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("limits.max_evnt_bytes"),
            std::string::npos);
}

TEST(Config, BadValueIsNamed) {
  auto c = ParseConfig("limits:\n  max_event_bytes: lots\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("limits.max_event_bytes"),
            std::string::npos);
  EXPECT_FALSE(ParseConfig("listen: [unclosed").ok());
}

TEST(Config, RefusesNonLoopbackWithoutTls) {
  auto c = ParseConfig("listen: 0.0.0.0:7410\n");
  ASSERT_TRUE(c.ok());
  absl::Status s = ValidateConfig(*c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("listen"), std::string::npos);
}

TEST(Config, RefusesUnknownLogLevel) {
  auto c = ParseConfig("log_level: loud\n");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(ValidateConfig(*c).ok());
}

}  // namespace
}  // namespace indelible
