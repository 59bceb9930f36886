// The flags by which an auditor says what they trust — checkpoint keys and
// checkpoints they saved — shared by `check` and `export`.
#ifndef INDELIBLE_VERIFIER_CLI_TRUST_FLAGS_H_
#define INDELIBLE_VERIFIER_CLI_TRUST_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/check/store_check.h"

namespace CLI {
class App;
}  // namespace CLI

namespace indelible::verify {

struct TrustFlags {
  std::vector<std::string> keys;
  std::vector<std::string> key_pems;
  std::vector<std::string> checkpoints;
  std::vector<std::string> rotations;

  // Adds --key, --key-pem, --rotation and --checkpoint to `sub`.
  void Register(CLI::App* sub);
  // Loads them into options.keys and options.supplied. The error names the
  // flag and the value.
  absl::Status Apply(check::StoreCheckOptions* options) const;
};

absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_TRUST_FLAGS_H_
