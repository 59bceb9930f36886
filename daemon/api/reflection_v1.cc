#include "daemon/api/reflection_v1.h"

#include <unordered_set>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace indelible {
namespace {

namespace pb = google::protobuf;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;

// The file and, depth first, its dependencies, each once per answer (as the
// v1alpha service answers: every answer is complete on its own).
void AddFile(const pb::FileDescriptor* file, ServerReflectionResponse* resp,
             std::unordered_set<std::string>* seen) {
  if (!seen->insert(file->name()).second) return;
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(
      resp->mutable_file_descriptor_response()->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), resp, seen);
}

void NotFound(const std::string& what, ServerReflectionResponse* resp) {
  resp->mutable_error_response()->set_error_code(
      static_cast<int32_t>(grpc::StatusCode::NOT_FOUND));
  resp->mutable_error_response()->set_error_message(what + " not found");
}

}  // namespace

ReflectionV1Service::ReflectionV1Service(std::vector<std::string> services)
    : services_(std::move(services)) {}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  ServerReflectionRequest req;
  while (stream->Read(&req)) {
    std::unordered_set<std::string> seen;
    ServerReflectionResponse resp;
    resp.set_valid_host(req.host());
    *resp.mutable_original_request() = req;
    switch (req.message_request_case()) {
      case ServerReflectionRequest::kFileByFilename:
        if (const auto* f = pool->FindFileByName(req.file_by_filename())) {
          AddFile(f, &resp, &seen);
        } else {
          NotFound("file", &resp);
        }
        break;
      case ServerReflectionRequest::kFileContainingSymbol:
        if (const auto* f = pool->FindFileContainingSymbol(req.file_containing_symbol())) {
          AddFile(f, &resp, &seen);
        } else {
          NotFound("symbol", &resp);
        }
        break;
      case ServerReflectionRequest::kFileContainingExtension: {
        const auto* type =
            pool->FindMessageTypeByName(req.file_containing_extension().containing_type());
        const auto* ext =
            type == nullptr ? nullptr
                            : pool->FindExtensionByNumber(
                                  type, req.file_containing_extension().extension_number());
        if (ext != nullptr) {
          AddFile(ext->file(), &resp, &seen);
        } else {
          NotFound("extension", &resp);
        }
        break;
      }
      case ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const auto* type = pool->FindMessageTypeByName(req.all_extension_numbers_of_type());
        if (type == nullptr) {
          NotFound("type", &resp);
          break;
        }
        std::vector<const pb::FieldDescriptor*> exts;
        pool->FindAllExtensions(type, &exts);
        auto* out = resp.mutable_all_extension_numbers_response();
        out->set_base_type_name(type->full_name());
        for (const auto* e : exts) out->add_extension_number(e->number());
        break;
      }
      case ServerReflectionRequest::kListServices:
        for (const auto& name : services_) {
          resp.mutable_list_services_response()->add_service()->set_name(name);
        }
        break;
      default:
        resp.mutable_error_response()->set_error_code(
            static_cast<int32_t>(grpc::StatusCode::UNIMPLEMENTED));
        resp.mutable_error_response()->set_error_message("request type not implemented");
    }
    if (!stream->Write(resp)) break;
  }
  return grpc::Status::OK;
}

}  // namespace indelible
