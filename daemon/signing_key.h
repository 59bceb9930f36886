// Loading (or, for development, creating) the daemon's Ed25519 signing key.
#ifndef INDELIBLE_DAEMON_SIGNING_KEY_H_
#define INDELIBLE_DAEMON_SIGNING_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "verifier/chain/signing.h"

namespace indelible {

// Reads a PKCS#8 PEM Ed25519 private key from `path`. FailedPrecondition if
// the file is readable or writable by group or others (the key is never
// loaded from a loosely protected file). If the file does not exist and
// `create_if_missing`, generates a key, writes it with mode 0600 and sets
// *created. Errors never contain key material.
absl::StatusOr<chain::Ed25519PrivateKey> LoadSigningKey(
    const std::string& path, bool create_if_missing, bool* created);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SIGNING_KEY_H_
