// Loading (or, for development, creating) an Ed25519 private key file: the
// daemon's checkpoint key and the report signing key of indelible-verify.
#ifndef INDELIBLE_VERIFIER_CHAIN_KEY_FILE_H_
#define INDELIBLE_VERIFIER_CHAIN_KEY_FILE_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/signing.h"

namespace indelible::chain {

// The rule for every secret file (signing keys, TLS keys, pseudonym keys,
// token files; docs/SECURITY.md, "Key files"): others have no access; the
// group may at most read, and only if the file is owned by the reading user
// or root and its group is one the reader is in (a group kept for the
// service, such as the pod's fsGroup, with which Kubernetes mounts a secret
// root:<fsGroup> mode 0440). Returns why a file with this owner, group and
// mode may not be used by a process with effective uid `euid` in `groups`,
// or "" if it may.
std::string SecretModeProblem(uid_t owner, gid_t group, mode_t mode, uid_t euid,
                              const std::vector<gid_t>& groups);
// The same for this process (its effective uid, gid and supplementary groups).
std::string SecretModeProblem(uid_t owner, gid_t group, mode_t mode);

// Reads a PKCS#8 PEM Ed25519 private key from `path`. FailedPrecondition if
// SecretModeProblem finds fault with the file (the key is never loaded from
// a loosely protected file). If the file does not exist and
// `create_if_missing`, generates a key, writes it with mode 0600 and sets
// *created. Errors never contain key material.
absl::StatusOr<Ed25519PrivateKey> LoadSigningKey(
    const std::string& path, bool create_if_missing, bool* created);

// Refuses a secret file (TLS key, token file, ...) that SecretModeProblem
// finds fault with: PermissionDenied "<what>: <path> has mode 0644; others
// must have no access (chmod 600)"; NotFound if it cannot be read. Never
// reads the content.
absl::Status CheckPrivateFile(const std::string& path, std::string_view what);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_KEY_FILE_H_
