// The `indelible` command line: argument handling and dispatch, kept out of
// main() so tests can run the command in-process (docs/CLI.md).
//
//   indelible [--target HOST:PORT] [--timeout DURATION] <command> [flags]
//   commands: append, head, read, checkpoint, verify-receipt, prove,
//             public-key, keygen, rotation-statement,
//             admin {retention {set,get}, hold, purge, compact}
//
// Thread safety: not thread-safe (reads the environment).
#ifndef INDELIBLE_CLIENT_CLI_CLI_H_
#define INDELIBLE_CLIENT_CLI_CLI_H_

#include <istream>
#include <ostream>

namespace indelible::cli {

// Default of --target when INDELIBLE_TARGET is unset or empty.
inline constexpr const char* kDefaultTarget = "127.0.0.1:7410";
inline constexpr const char* kTargetEnv = "INDELIBLE_TARGET";

// Parses argv (argv[0] is the program name), runs the command and returns
// its exit code (exit_codes.h). `in` is the input of `append --stdin`;
// results go to `out`, help to `out`, errors to `err`.
int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_CLI_H_
