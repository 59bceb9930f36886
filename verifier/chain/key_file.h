// Loading (or, for development, creating) an Ed25519 private key file: the
// daemon's checkpoint key and the report signing key of indelible-verify.
#ifndef INDELIBLE_VERIFIER_CHAIN_KEY_FILE_H_
#define INDELIBLE_VERIFIER_CHAIN_KEY_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "verifier/chain/signing.h"

namespace indelible::chain {

// Reads a PKCS#8 PEM Ed25519 private key from `path`. FailedPrecondition if
// the file is readable or writable by group or others (the key is never
// loaded from a loosely protected file). If the file does not exist and
// `create_if_missing`, generates a key, writes it with mode 0600 and sets
// *created. Errors never contain key material.
absl::StatusOr<Ed25519PrivateKey> LoadSigningKey(
    const std::string& path, bool create_if_missing, bool* created);

// Refuses a secret file (TLS key, token file, ...) that group or others may
// access: PermissionDenied "<what>: <path> has mode 0644; group and others
// must have no access (chmod 600)"; NotFound if it cannot be read. Never
// reads the content.
absl::Status CheckPrivateFile(const std::string& path, std::string_view what);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_KEY_FILE_H_
