#include "client/status_convert.h"

#include "gtest/gtest.h"

namespace indelible::client {
namespace {

TEST(StatusConvert, OkIsOk) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(StatusConvert, EveryCodeAndMessageSurvivesBothWays) {
  for (int code = 1; code <= 16; ++code) {
    grpc::Status g(static_cast<grpc::StatusCode>(code), "why: field x");
    absl::Status a = FromGrpcStatus(g);
    EXPECT_EQ(static_cast<int>(a.code()), code);
    EXPECT_EQ(a.message(), "why: field x");
    grpc::Status back = ToGrpcStatus(a);
    EXPECT_EQ(back.error_code(), g.error_code());
    EXPECT_EQ(back.error_message(), g.error_message());
  }
  EXPECT_EQ(
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "x")).code(),
      absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace indelible::client
