// The daemon serves the standard gRPC health and reflection services, so
// Kubernetes probes and grpcurl work against it.
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace indelible {
namespace {

using testing::DaemonProcess;
using testing::TempDir;

TEST(GrpcProbes, HealthIsServingAndReflectionListsTheService) {
  TempDir dir;
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data")});
  ASSERT_TRUE(d.ok()) << d.status();
  {  // the channel closes before Stop(): an idle connection slows shutdown
  auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());

  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = reflection->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  grpc::reflection::v1alpha::ServerReflectionRequest file;
  file.set_file_containing_symbol("indelible.v1.AuditLog");
  ASSERT_TRUE(stream->Write(file));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse r;
  ASSERT_TRUE(stream->Read(&r));
  std::vector<std::string> services;
  for (const auto& s : r.list_services_response().service()) services.push_back(s.name());
  EXPECT_NE(std::find(services.begin(), services.end(), "indelible.v1.AuditLog"),
            services.end());
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"),
            services.end());
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_GT(r.file_descriptor_response().file_descriptor_proto_size(), 0);
  while (stream->Read(&r)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  }
  EXPECT_EQ((*d)->Stop(), 0);
}

}  // namespace
}  // namespace indelible
