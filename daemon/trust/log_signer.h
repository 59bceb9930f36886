// LogSigner: what signs the log's statements (docs/SECURITY.md, "Key
// custody"). Either a key the daemon holds (signing_key_file, the simple
// mode: KeyLogSigner) or indelible-signer behind a Unix socket
// (signer_socket: SignerClient, signer_client.h), which signs a checkpoint
// only as a consistent extension of the last one it signed.
//
// Every signature is made from a v2 checkpoint: its note, the v1
// checkpoint of the same tenant, size, chain head and time, and on request
// the deletion certificate of the same final tree and head (version 2,
// chain/deletion.h) with the purge's approvers. Nothing else is signed.
//
// Thread-safe: Sign may be called from several threads.
#ifndef INDELIBLE_DAEMON_TRUST_LOG_SIGNER_H_
#define INDELIBLE_DAEMON_TRUST_LOG_SIGNER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"

namespace indelible {

struct SignedCheckpoint {
  std::string v2;        // the signed v2 checkpoint note
  std::string v1;        // the signed v1 checkpoint note of the same head
  std::string deletion;  // the deletion certificate, if asked for
};

// The RFC 9162 consistency proof from a tree of `old_size` leaves to the
// checkpoint's tree, read from the store.
using ConsistencyProofSource =
    std::function<absl::StatusOr<std::vector<chain::Digest>>(uint64_t old_size)>;

class LogSigner {
 public:
  virtual ~LogSigner() = default;

  virtual const chain::NoteVerifierKey& verifier_key() const = 0;
  // The SubjectPublicKeyInfo PEM of the key.
  std::string PublicKeyPem() const;

  // Signs `cp` (and what it implies, above); with `deletion` (the purge's
  // approvers, at least one) also the version 2 deletion certificate of
  // `cp` naming them. `old_size` is the size the
  // caller believes was signed last for the origin. PermissionDenied with
  // the reason if the signer refuses (not a consistent extension);
  // Unavailable if it cannot be reached; other errors of `proof` as they are.
  virtual absl::StatusOr<SignedCheckpoint> Sign(const chain::CheckpointV2& cp,
                                        const std::vector<std::string>* deletion,
                                                uint64_t old_size,
                                                const ConsistencyProofSource& proof) = 0;
};

// The simple mode: a key in the daemon's process. Signs whatever it is
// given (the daemon's own checks are all there is).
class KeyLogSigner final : public LogSigner {
 public:
  explicit KeyLogSigner(chain::NoteSigner signer) : signer_(std::move(signer)) {}
  const chain::NoteVerifierKey& verifier_key() const override { return signer_.verifier_key(); }
  absl::StatusOr<SignedCheckpoint> Sign(const chain::CheckpointV2& cp,
                                        const std::vector<std::string>* deletion,
                                        uint64_t old_size,
                                        const ConsistencyProofSource& proof) override;

 private:
  const chain::NoteSigner signer_;
};

// Where the development key lives when signing_key_file is not set: beside
// the data directory, never in it ("<data_dir>.signing-key.pem").
std::string DevelopmentKeyPath(const std::string& data_dir);

// FailedPrecondition if a private key file would lie inside `data_dir`
// (`key_path` is in it), or an older release's development key
// (<data_dir>/signing-key.pem) is still there; the message says how to move
// it out.
absl::Status CheckNoKeyInDataDir(const std::string& key_path, const std::string& data_dir);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_TRUST_LOG_SIGNER_H_
