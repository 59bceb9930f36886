#include "client/channel.h"

#include <chrono>

#include "gtest/gtest.h"

namespace indelible::client {
namespace {

using std::chrono::milliseconds;

TEST(ChannelTest, RefusesAnEmptyTargetNamingTheClient) {
  auto c = OpenChannel("admin client", "", milliseconds(1000), nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "admin client: target is empty");
}

TEST(ChannelTest, RefusesADeadlineThatIsNotPositive) {
  auto c = OpenChannel("client", "127.0.0.1:1", milliseconds(0), nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "client: deadline must be positive");
}

TEST(ChannelTest, OpensLazilyWithoutAServer) {
  // Nothing listens on port 1; the channel is made all the same.
  auto c = OpenChannel("client", "127.0.0.1:1", milliseconds(1000), nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NE(*c, nullptr);
}

TEST(ChannelTest, ContextDeadlineIsNowPlusTheCallDeadline) {
  grpc::ClientContext ctx;
  const auto before = std::chrono::system_clock::now();
  PrepareCallContext(&ctx, milliseconds(5000), "token");
  const auto after = std::chrono::system_clock::now();
  EXPECT_GE(ctx.deadline(), before + milliseconds(5000));
  EXPECT_LE(ctx.deadline(), after + milliseconds(5000));
}

}  // namespace
}  // namespace indelible::client
