// The signer proper: signs an Indelible log's checkpoints with a key the
// daemon never holds, and only as consistent extensions of what it signed
// before (docs/SECURITY.md, "Key custody"). No sockets here: signer_main.cc
// serves it over a Unix socket.
//
// A request is the body of tlog-witness add-checkpoint (witness/extension.h)
// whose checkpoint is the UNSIGNED text of a v2 checkpoint (CheckpointV2Text,
// exactly; origin "<log_name>/<tenant>" of the configured log_name). The
// signer checks it against the newest state of its origin (CheckExtension),
// makes the new state durable, and only then signs. It signs nothing else
// the caller wrote: the v1 checkpoint and the deletion certificate are texts
// it builds itself from the accepted v2 checkpoint (same tenant, size, chain
// head and time), so every signature it makes is bound to a tree that
// extends all earlier ones.
//
// A deletion request (sign-deletion) starts with the purge's approvers, one
// line "approver <name>\n" each (at least one, chain::IsValidApproverName),
// then the checkpoint request. The version 2 deletion certificate the signer
// builds states the accepted checkpoint (origin, size, root, chain head,
// time) and these names: the names are the daemon's word, the tree is not.
//
// Answers (status, body):
//   200  JSON {"checkpoint": v2 note, "checkpoint_v1": v1 note,
//        and, for a deletion, "deletion_certificate": version 2 note}
//   400  malformed request or checkpoint text, size 0, old size above size,
//        a deletion without a valid approver line
//   404  the origin is not "<log_name>/<tenant>" of this signer's log
//   409  a stale old size: the body is the signer's size and a newline,
//        Content-Type text/x.tlog.size (retry from that size); or the same
//        size with another root (a fork: refused)
//   422  the consistency proof does not verify (a rewrite: refused)
//   500  the new state could not be made durable (nothing signed)
//
// Thread-safe: Sign may run on many threads; one origin at a time.
#ifndef INDELIBLE_SIGNER_SIGNER_H_
#define INDELIBLE_SIGNER_SIGNER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signer/wire.h"

#include "verifier/chain/note.h"
#include "witness/state.h"

namespace indelible::signer {

inline constexpr size_t kMaxRequestBytes = 64 * 1024;
inline constexpr char kSizeContentType[] = "text/x.tlog.size";
inline constexpr char kStateKind[] = "signer";

// What a request came to, for metrics and logs.
enum class Result {
  kSigned = 0,
  kBadRequest,
  kUnknownLog,
  kStale,
  kFork,
  kInconsistent,
  kInternal,
};
inline constexpr size_t kNumResults = 7;
const char* ResultName(Result r);

struct Response {
  int status = 500;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  Result result = Result::kInternal;
};

// A log name the signer may serve: chain::IsValidLogName, and not under
// "indelible/" (the origins of v1 checkpoints and deletion certificates),
// so no v2 origin can be mistaken for one of those.
bool IsValidSignerLogName(std::string_view log_name);

class Signer {
 public:
  // REQUIRES: IsValidSignerLogName(log_name); store outlives the signer.
  Signer(std::string log_name, chain::NoteSigner key, witness::StateStore* store);

  // The checkpoint request above. `deletion`: the request starts with its
  // approver lines, and the deletion certificate of the tenant at the
  // accepted checkpoint is signed too.
  Response Sign(std::string_view body, bool deletion);

  const chain::NoteVerifierKey& verifier_key() const { return key_.verifier_key(); }
  const std::string& log_name() const { return log_name_; }
  uint64_t Count(Result r) const { return counts_[static_cast<size_t>(r)].load(); }

 private:
  Response Handle(std::string_view body, bool deletion);

  const std::string log_name_;
  const chain::NoteSigner key_;
  witness::StateStore* const store_;
  std::array<std::atomic<uint64_t>, kNumResults> counts_{};
};

}  // namespace indelible::signer

#endif  // INDELIBLE_SIGNER_SIGNER_H_
