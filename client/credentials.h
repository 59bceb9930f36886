// Channel credentials from files, for a daemon listening with TLS
// (docs/SECURITY.md).
#ifndef INDELIBLE_CLIENT_CREDENTIALS_H_
#define INDELIBLE_CLIENT_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace indelible::client {

struct TlsFiles {
  std::string ca_file;    // PEM CA bundle that signed the server certificate
  std::string cert_file;  // client certificate (mutual TLS), optional
  std::string key_file;   // its private key: must not be readable by others
};

// TLS credentials that trust `ca_file` and, when cert_file is set, present
// the client certificate. Errors name the flag's file, never its content.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const TlsFiles& files);

// Reads a bearer token from a file (first line, trailing whitespace
// dropped). The file must not be readable by group or others.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_CREDENTIALS_H_
