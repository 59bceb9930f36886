// The daemon serves the standard gRPC health and reflection services, so
// Kubernetes probes and grpcurl work against it.
#include <set>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
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

// Health answers for each service by name as for "", and an unknown name is
// NOT_FOUND.
TEST(GrpcProbes, HealthAnswersForEachServiceName) {
  TempDir dir;
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data")});
  ASSERT_TRUE(d.ok()) << d.status();
  {
    auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());
    auto health = grpc::health::v1::Health::NewStub(channel);
    for (const std::string name : {"", "indelible.v1.AuditLog", "indelible.v1.Admin"}) {
      grpc::ClientContext ctx;
      grpc::health::v1::HealthCheckRequest req;
      req.set_service(name);
      grpc::health::v1::HealthCheckResponse resp;
      const grpc::Status s = health->Check(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
      EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << name;
    }
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("indelible.v1.NoSuchService");
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_EQ(health->Check(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ((*d)->Stop(), 0);
}

template <typename Stub, typename Request, typename Response>
std::vector<Response> Reflect(Stub* stub, const std::vector<Request>& requests) {
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  for (const Request& r : requests) EXPECT_TRUE(stream->Write(r));
  stream->WritesDone();
  std::vector<Response> out;
  Response r;
  while (stream->Read(&r)) out.push_back(r);
  EXPECT_TRUE(stream->Finish().ok());
  return out;
}

// grpc.reflection.v1 (what current grpcurl asks first) answers as v1alpha
// does: the same services, the same files, NOT_FOUND for unknown symbols.
TEST(GrpcProbes, ReflectionV1AnswersAsV1alpha) {
  namespace v1r = grpc::reflection::v1;
  namespace v1a = grpc::reflection::v1alpha;
  TempDir dir;
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data")});
  ASSERT_TRUE(d.ok()) << d.status();
  {
    auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());
    auto stub_v1 = v1r::ServerReflection::NewStub(channel);
    auto stub_v1a = v1a::ServerReflection::NewStub(channel);
    std::vector<v1r::ServerReflectionRequest> req_v1(4);
    req_v1[0].set_list_services("");
    req_v1[1].set_file_containing_symbol("indelible.v1.AuditLog");
    req_v1[2].set_file_containing_symbol("indelible.v1.Admin");
    req_v1[3].set_file_containing_symbol("indelible.v1.NoSuchThing");
    std::vector<v1a::ServerReflectionRequest> req_v1a(req_v1.size());
    for (size_t i = 0; i < req_v1.size(); ++i) {
      ASSERT_TRUE(req_v1a[i].ParseFromString(req_v1[i].SerializeAsString()));
    }
    const auto got_v1 =
        Reflect<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest,
                v1r::ServerReflectionResponse>(stub_v1.get(), req_v1);
    const auto got_v1a =
        Reflect<v1a::ServerReflection::Stub, v1a::ServerReflectionRequest,
                v1a::ServerReflectionResponse>(stub_v1a.get(), req_v1a);
    ASSERT_EQ(got_v1.size(), 4u);
    ASSERT_EQ(got_v1a.size(), 4u);

    std::set<std::string> services_v1, services_v1a;
    for (const auto& s : got_v1[0].list_services_response().service()) {
      services_v1.insert(s.name());
    }
    for (const auto& s : got_v1a[0].list_services_response().service()) {
      services_v1a.insert(s.name());
    }
    EXPECT_EQ(services_v1, services_v1a);
    EXPECT_TRUE(services_v1.count("grpc.reflection.v1.ServerReflection"));
    EXPECT_TRUE(services_v1.count("indelible.v1.AuditLog"));

    for (size_t i = 1; i < 3; ++i) {
      SCOPED_TRACE(i);
      std::set<std::string> files_v1, files_v1a;
      for (const auto& f : got_v1[i].file_descriptor_response().file_descriptor_proto()) {
        files_v1.insert(f);
      }
      for (const auto& f : got_v1a[i].file_descriptor_response().file_descriptor_proto()) {
        files_v1a.insert(f);
      }
      EXPECT_EQ(files_v1, files_v1a);
    }
    EXPECT_GT(got_v1[1].file_descriptor_response().file_descriptor_proto_size(), 0);
    EXPECT_EQ(got_v1[3].error_response().error_code(),
              static_cast<int>(grpc::StatusCode::NOT_FOUND));
    EXPECT_EQ(got_v1a[3].error_response().error_code(),
              static_cast<int>(grpc::StatusCode::NOT_FOUND));
    EXPECT_EQ(got_v1[1].original_request().file_containing_symbol(), "indelible.v1.AuditLog");
  }
  EXPECT_EQ((*d)->Stop(), 0);
}

}  // namespace
}  // namespace indelible
