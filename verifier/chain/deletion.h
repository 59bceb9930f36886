// Deletion certificates: signed statements "tenant T was purged; its log
// ended here", in C2SP signed-note form (note.h) with their own origins so
// they can never pass for a checkpoint (docs/FORMAT.md section 16).
//
// Version 1 (still verified; no longer issued):
//
//   indelible/v1/deletion/<tenant>\n
//   <final seq>\n                   decimal, no leading zeros
//   <base64(entry_hash(final seq))>\n
//   <timestamp_ns>\n                decimal
//
// Version 2 (issued since the tree is kept through a purge): also the final
// Merkle tree (size and root of the v2 checkpoint it was signed with) and
// who approved the purge, so an auditor's earlier checkpoint can be proven
// to be a prefix of the purged log:
//
//   indelible/v2/deletion/<tenant>\n
//   origin <log_name>/<tenant>\n    the v2 checkpoints' origin
//   size <N>\n                      final tree size = final seq, >= 1
//   root <base64(root(N))>\n
//   chain <base64(entry_hash(N))>\n
//   time <timestamp_ns>\n
//   approver <name>\n               one or more, in order of approval
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
inline constexpr std::string_view kDeletionV2OriginPrefix = "indelible/v2/deletion/";
inline constexpr size_t kMaxApproverBytes = 256;
inline constexpr size_t kMaxApprovers = 16;

struct DeletionCertificate {
  std::string tenant;
  uint64_t final_seq = 0;
  Digest final_head{};
  uint64_t timestamp_ns = 0;
  // 1 or 2. The fields below are version 2's (empty in version 1).
  int version = 1;
  std::string log_name;  // the tree's origin is log_name + "/" + tenant
  Digest root{};         // root(final_seq)
  std::vector<std::string> approvers;

  std::string origin() const { return log_name + "/" + tenant; }
  bool operator==(const DeletionCertificate&) const = default;
};

// An approver's name as a certificate may carry it: 1..kMaxApproverBytes
// bytes, no control character (below 0x20, or 0x7f).
bool IsValidApproverName(std::string_view name);

// The text of `c` in its version's form (the lines above, each with its
// newline). REQUIRES for version 2: IsValidLogName(log_name), 1..kMaxApprovers
// approvers, each IsValidApproverName.
std::string DeletionCertificateText(const DeletionCertificate& c);
// Parses exactly the text DeletionCertificateText produces, of either
// version (told apart by the origin line). DataLoss if malformed.
absl::StatusOr<DeletionCertificate> ParseDeletionCertificateText(std::string_view text);
// Verifies the signature against `keys` and parses the text.
absl::StatusOr<DeletionCertificate> VerifyDeletionCertificate(
    std::string_view note, const std::vector<NoteVerifierKey>& keys);

}  // namespace indelible::chain

#endif  // INDELIBLE_VERIFIER_CHAIN_DELETION_H_
