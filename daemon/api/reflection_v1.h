// grpc.reflection.v1.ServerReflection. Debian's gRPC 1.51 reflection library
// serves only grpc.reflection.v1alpha; v1 has the same messages under another
// package, and current grpcurl and Postman ask for v1 first. This service
// answers v1 from the protobuf generated pool, as the library answers v1alpha:
// a file with all its dependencies, NOT_FOUND errors inside the stream for
// unknown names.
//
// Thread safety: calls may run concurrently; the service holds no mutable
// state outside a stream.
#ifndef INDELIBLE_DAEMON_API_REFLECTION_V1_H_
#define INDELIBLE_DAEMON_API_REFLECTION_V1_H_

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace indelible {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `services`: the full names list_services answers with (every service the
  // server registers).
  explicit ReflectionV1Service(std::vector<std::string> services);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  const std::vector<std::string> services_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_REFLECTION_V1_H_
