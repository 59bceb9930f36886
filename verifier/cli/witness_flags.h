// The flags by which an auditor demands witness cosignatures, shared by
// every indelible-verify subcommand that trusts a checkpoint: repeated
// --witness VKEY with --quorum K, or --witness-policy FILE (the format of
// verifier/chain/witness_policy.h, docs/WITNESS.md).
#ifndef INDELIBLE_VERIFIER_CLI_WITNESS_FLAGS_H_
#define INDELIBLE_VERIFIER_CLI_WITNESS_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/witness_policy.h"

namespace CLI {
class App;
}  // namespace CLI

namespace indelible::verify {

struct WitnessFlags {
  std::vector<std::string> witnesses;
  size_t quorum = 0;  // 0: not given
  std::string policy_file;
  bool allow_minority_quorum = false;

  // Adds --witness, --quorum, --witness-policy and --allow-minority-quorum
  // to `sub`.
  void Register(CLI::App* sub);
  // The policy, or nullopt when none of the flags was given.
  // InvalidArgument naming the flag (or the file and line) if bad, or if
  // its quorum is no majority without --allow-minority-quorum (exit 2).
  absl::StatusOr<std::optional<chain::WitnessPolicy>> Load() const;
};

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_WITNESS_FLAGS_H_
