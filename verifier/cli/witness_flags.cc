#include "verifier/cli/witness_flags.h"

#include "CLI/CLI.hpp"

namespace indelible::verify {

void WitnessFlags::Register(CLI::App* sub) {
  sub->add_option("--witness", witnesses,
                  "A trusted witness's verifier key (name+id+base64, as the "
                  "witness prints it); repeat for each witness");
  sub->add_option("--quorum", quorum,
                  "How many distinct --witness must have cosigned a checkpoint "
                  "(default: all of them)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--witness-policy", policy_file,
                  "A witness policy file (lines 'witness VKEY' and 'quorum K'; "
                  "docs/WITNESS.md) instead of --witness and --quorum")
      ->check(CLI::ExistingFile);
  sub->add_flag("--allow-minority-quorum", allow_minority_quorum,
                "Accept a quorum of at most half the witnesses (refused by default, "
                "exit 2: two views of one size could each reach it)");
}

absl::StatusOr<std::optional<chain::WitnessPolicy>> WitnessFlags::Load() const {
  return chain::WitnessPolicyFromCommandLine(witnesses, quorum, policy_file,
                                             allow_minority_quorum);
}

}  // namespace indelible::verify
