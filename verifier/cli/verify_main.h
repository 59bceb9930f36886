// indelible-verify: the offline tool of auditors and operators. Main() builds
// the command line from one registration function per subcommand (check;
// export and verify-report join the same way), parses it and runs the chosen
// subcommand.
//
// Exit codes, shared by every subcommand:
//   0  verified: nothing wrong was found
//   1  findings: the data is damaged or was tampered with
//   2  usage error, or the input could not be read
//   3  not verified: no trusted key was given (--key / --key-pem), or
//      `check` verified no signature with one; nothing wrong was found,
//      but nothing was proven either (docs/VERIFY.md); also: a checkpoint
//      below the witness quorum demanded (--witness/--quorum or
//      --witness-policy), which is not trusted (yet)
#ifndef INDELIBLE_VERIFIER_CLI_VERIFY_MAIN_H_
#define INDELIBLE_VERIFIER_CLI_VERIFY_MAIN_H_

#include <functional>

namespace CLI {
class App;
}  // namespace CLI

namespace indelible::verify {

inline constexpr int kExitVerified = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitError = 2;
inline constexpr int kExitNoTrustedKey = 3;
// The same code: "not verified", distinguished in the output.
inline constexpr int kExitBelowQuorum = 3;

// What `indelible-verify --version` prints, and export manifests record.
inline constexpr char kVerifyVersion[] = "indelible-verify 0.1.0";

// What a subcommand's registration returns: the function that runs it once
// the command line has been parsed, returning the exit code.
using Command = std::function<int()>;

int Main(int argc, char** argv);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_VERIFY_MAIN_H_
