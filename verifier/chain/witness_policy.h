// Witness policies: which witnesses a verifier trusts and how many of them
// must have cosigned a checkpoint (a quorum) before it is trusted. Every
// verifier (indelible-verify, `indelible verify-receipt`, the client's
// LogVerifier) takes one; docs/WITNESS.md, "Verifier policies".
//
// Given on a command line as repeated `--witness VKEY` and `--quorum K`, or
// as a policy file:
//
//   # comment lines and blank lines are ignored
//   witness <name>+<hex key id>+<base64(0x04 || pubkey)>    one or more
//   quorum <K>                                             exactly once
//
// VKEY is the witness's verifier key as it publishes it (cosignature.h).
// A quorum is 1..(number of distinct witnesses); witnesses are told apart by
// public key, so one listed twice counts once.
//
// A quorum must also be a majority (2K > N for K of N distinct witnesses):
// an honest witness cosigns at most one checkpoint of each size, so two
// views of one size can each reach K only if 2K <= N (the two sets of K
// witnesses need not share one). Verifiers refuse such a policy unless told
// explicitly (--allow-minority-quorum; CheckMajorityQuorum).
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_WITNESS_POLICY_H_
#define INDELIBLE_VERIFIER_CHAIN_WITNESS_POLICY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/chain/cosignature.h"

namespace indelible::chain {

// Parses a policy file's text. InvalidArgument naming the line if a line is
// neither a comment, `witness VKEY` nor `quorum K`, a key does not parse,
// `quorum` is missing, repeated, 0 or above the distinct witnesses.
absl::StatusOr<WitnessPolicy> ParseWitnessPolicy(std::string_view text);

// The policy of `--witness VKEY`... and `--quorum K`; without a quorum,
// every distinct witness must cosign. InvalidArgument naming the flag if a
// key does not parse, there are no witnesses, or the quorum is 0 or above
// the distinct witnesses.
absl::StatusOr<WitnessPolicy> WitnessPolicyFromFlags(
    const std::vector<std::string>& witnesses, std::optional<size_t> quorum);

// The policy of a command line: the policy file `file` (ParseWitnessPolicy)
// or `witnesses` with `quorum` (0: not given; WitnessPolicyFromFlags).
// nullopt when none is given; InvalidArgument naming the flag, file or line
// if bad, or if both a file and --witness/--quorum are given, or (unless
// `allow_minority`) if the quorum is no majority (CheckMajorityQuorum);
// NotFound if the file cannot be read.
absl::StatusOr<std::optional<WitnessPolicy>> WitnessPolicyFromCommandLine(
    const std::vector<std::string>& witnesses, size_t quorum, const std::string& file,
    bool allow_minority);

// OK if 2 * policy.quorum > the number of distinct witnesses; otherwise
// InvalidArgument "witness policy: quorum 1 of 2 witnesses is not a
// majority: ..." naming the split view such a policy would accept.
absl::Status CheckMajorityQuorum(const WitnessPolicy& policy);

// The policy's text as ParseWitnessPolicy reads it (one line per witness).
std::string FormatWitnessPolicy(const WitnessPolicy& policy);

// How a note's cosignatures stand against a policy.
struct QuorumCheck {
  size_t quorum = 0;
  // The distinct witnesses that validly cosigned, in policy order.
  std::vector<WitnessCosignature> cosigned;
  // The names of the distinct witnesses that did not, in policy order.
  std::vector<std::string> missing;

  bool met() const { return cosigned.size() >= quorum; }
};

// Counts the policy witnesses that cosigned `note` (VerifyCosignatures'
// rules: unknown lines ignored, each witness once). DataLoss "cosignature by
// NAME does not verify" (a line with a policy witness's name and key id whose
// signature fails: a forgery, never ignored) or if the note is malformed;
// InvalidArgument for a bad policy. The log's signature is not checked.
absl::StatusOr<QuorumCheck> CheckQuorum(std::string_view note,
                                        const WitnessPolicy& policy);

// OK if check.met(); else the below-quorum status: Unauthenticated
// "cosigned by 1 of the 2 witnesses required (w1); missing: w2, w3",
// recognised by IsBelowQuorum. Below quorum is "not (yet) trusted", not
// evidence of tampering: witnesses may lag, or may have refused the tree.
absl::Status QuorumStatus(const QuorumCheck& check);
bool IsBelowQuorum(const absl::Status& status);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_WITNESS_POLICY_H_
