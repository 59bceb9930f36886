// Format v2 proofs for auditors without the data directory (docs/VERIFY.md):
//
//   indelible-verify consistency --old OLD --new NEW --proof FILE --key K
//   indelible-verify inclusion --checkpoint CP --proof FILE --seq N
//       --entry-hash HEX --category C --key K
//   indelible-verify check --remote HOST:PORT --tenant T --key K
//       [--state FILE] [--checkpoint KEPT]... [connection flags]
//
// Each also takes a witness policy (witness_flags.h): the checkpoint the
// log shows (consistency's --new, inclusion's --checkpoint, the served one)
// must then be cosigned by its quorum; kept ones (--old, --checkpoint of
// check, --state) are the auditor's own and need only the log's signature.
//
// Exit codes as verify_main.h: 0 verified, 1 not (a finding, a forged
// cosignature), 2 usage or I/O error, 3 no trusted key or below quorum.
#ifndef INDELIBLE_VERIFIER_CLI_PROOF_COMMANDS_H_
#define INDELIBLE_VERIFIER_CLI_PROOF_COMMANDS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "verifier/chain/witness_policy.h"
#include "verifier/cli/verify_main.h"
#include "verifier/cli/witness_flags.h"

namespace indelible::verify {

std::pair<CLI::App*, Command> RegisterConsistencyCommand(CLI::App* app);
std::pair<CLI::App*, Command> RegisterInclusionCommand(CLI::App* app);

// `check --remote`: the flags beside check's own.
struct RemoteFlags {
  std::string target;  // HOST:PORT; empty: not a remote check
  std::string state;   // trusted state file to resume from and update
  bool tls = false;
  std::string tls_ca, tls_cert, tls_key, token_file, reason;
};

// Adds the connection flags (--remote, --state, --tls, --tls-ca, --tls-cert,
// --tls-key, --token-file, --reason) to check.
void RegisterRemoteFlags(CLI::App* sub, RemoteFlags* f);

// Streams `tenant`'s records over the wire, recomputes chain and tree,
// verifies the served v2 checkpoint and `kept` checkpoint files against it,
// and resumes from / updates the state file. Key rotations are followed
// from the trusted keys: `rotations` (statement files), the state's learned
// keys, and the chain's indelible.key records from that record on.
int RunRemoteCheck(const RemoteFlags& remote, const std::string& tenant,
                   const std::vector<std::string>& keys,
                   const std::vector<std::string>& key_pems,
                   const std::vector<std::string>& rotations,
                   const std::vector<std::string>& kept, bool json,
                   const std::optional<chain::WitnessPolicy>& policy);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_PROOF_COMMANDS_H_
