// Deletion certificates: signed statements "tenant T was purged; its chain
// ended at seq N with head H; purged at time S", in C2SP signed-note form
// (note.h) with their own origin so they can never pass for a checkpoint:
//
//   indelible/v1/deletion/<tenant>\n
//   <final seq>\n                   decimal, no leading zeros
//   <base64(entry_hash(final seq))>\n
//   <timestamp_ns>\n                decimal
//   \n
//   — <key_name> <base64(key_id || signature)>\n
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHAIN_DELETION_H_
#define INDELIBLE_VERIFIER_CHAIN_DELETION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"

namespace indelible::chain {

inline constexpr std::string_view kDeletionOriginPrefix = "indelible/v1/deletion/";

struct DeletionCertificate {
  std::string tenant;
  uint64_t final_seq = 0;
  Digest final_head{};
  uint64_t timestamp_ns = 0;

  bool operator==(const DeletionCertificate&) const = default;
};

std::string DeletionCertificateText(const DeletionCertificate& c);
absl::StatusOr<DeletionCertificate> ParseDeletionCertificateText(std::string_view text);
// Verifies the signature against `keys` and parses the text.
absl::StatusOr<DeletionCertificate> VerifyDeletionCertificate(
    std::string_view note, const std::vector<NoteVerifierKey>& keys);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_DELETION_H_
