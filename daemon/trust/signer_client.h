// SignerClient: the daemon's side of indelible-signer (signer/wire.h) on
// its Unix socket. It learns the signer's key once, at Connect, and sends
// each checkpoint with the consistency proof from the size it believes the
// signer holds; told that size is stale (409 with the signer's size), it
// proves from the size the signer named and tries once more.
//
// Thread-safe.
#ifndef INDELIBLE_DAEMON_TRUST_SIGNER_CLIENT_H_
#define INDELIBLE_DAEMON_TRUST_SIGNER_CLIENT_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "daemon/trust/log_signer.h"

namespace indelible {

class SignerClient final : public LogSigner {
 public:
  // Asks the signer at `socket_path` for its verifier key. Unavailable if
  // it cannot be reached; DataLoss if its answer is not a verifier key.
  static absl::StatusOr<std::unique_ptr<SignerClient>> Connect(
      const std::string& socket_path,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  const chain::NoteVerifierKey& verifier_key() const override { return key_; }
  absl::StatusOr<SignedCheckpoint> Sign(const chain::CheckpointV2& cp,
                                        const std::vector<std::string>* deletion,
                                        uint64_t old_size,
                                        const ConsistencyProofSource& proof) override;

 private:
  SignerClient(std::string socket_path, std::chrono::milliseconds timeout,
               chain::NoteVerifierKey key)
      : socket_path_(std::move(socket_path)), timeout_(timeout), key_(std::move(key)) {}

  const std::string socket_path_;
  const std::chrono::milliseconds timeout_;
  const chain::NoteVerifierKey key_;
  std::mutex mu_;
  std::map<std::string, uint64_t> signer_sizes_;  // origin -> size; guarded by mu_
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_TRUST_SIGNER_CLIENT_H_
