#include "verifier/check/checkpoint_rows.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::check {

using chain::ToAbsl;
using chain::ToStd;

void AddStoredCheckpoint(uint64_t key_seq, std::string_view note,
                         const TrustedKeys& keys, ChainChecker* checker) {
  auto parsed = ParseCheckpointNote(note);
  if (!parsed.ok()) {
    checker->CountRejectedCheckpoint();
    checker->Report(Kind::kMalformed, key_seq,
                    absl::StrCat("checkpoint row: ",
                                 ToAbsl(ToStd(parsed.status().message()))));
    return;
  }
  if (parsed->tenant != checker->tenant() || parsed->seq != key_seq) {
    checker->CountRejectedCheckpoint();
    checker->Report(
        Kind::kCheckpointMismatch, key_seq,
        absl::StrCat("the checkpoint row at seq ", key_seq,
                     " holds a checkpoint of tenant \"", parsed->tenant,
                     "\" seq ", parsed->seq, ": moved from elsewhere"));
    return;
  }
  CheckpointClaim claim;
  claim.source = CheckpointClaim::Source::kStored;
  claim.checkpoint = *std::move(parsed);
  if (!keys.empty()) {
    auto verified = keys.VerifyCheckpoint(note);
    if (!verified.ok()) {
      checker->CountRejectedCheckpoint();
      checker->Report(Kind::kCheckpointSignature, key_seq,
                      absl::StrCat("checkpoint signature: ",
                                   ToAbsl(ToStd(verified.status().message())),
                                   " (forged, or signed by a key not given)"));
      return;
    }
    claim.signature_verified = true;
  }
  checker->AddCheckpoint(claim);
}

absl::StatusOr<CheckpointClaim> LoadSuppliedCheckpoint(
    std::string_view note, const TrustedKeys& keys) {
  CheckpointClaim claim;
  claim.source = CheckpointClaim::Source::kSupplied;
  auto cp = keys.empty() ? ParseCheckpointNote(note)
                         : keys.VerifyCheckpoint(note);
  if (!cp.ok()) {
    return absl::InvalidArgumentError(std::string(ToStd(cp.status().message())));
  }
  claim.checkpoint = *std::move(cp);
  claim.signature_verified = !keys.empty();
  return claim;
}

}  // namespace indelible::check
