// Erasure: a tenant whose content was erased as a whole, on purpose and on
// record, as opposed to pruned record by record by retention. Today the one
// way is a purge (its deletion certificate, docs/FORMAT.md section 15, is in
// the store's default column family under "purged/<tenant>"); a later one
// (a destroyed encryption key) takes the same shape: who erased, up to
// which seq, and whether the statement verified.
//
// The check then judges the tenant's records against it: every record up
// to `through` must have no body (one that still has is a finding: the
// content survived the erasure), none may come after it (appended after the
// purge), and the certificate's final head and tree must be the chain's and
// the tree's (its root must be the root of the stored v2 checkpoint of that
// size, which the tree check holds against the records). Bodies missing up
// to `through` are erased, not pruned: no retention rule judges them.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHECK_ERASURE_H_
#define INDELIBLE_VERIFIER_CHECK_ERASURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/chain/deletion.h"
#include "verifier/check/finding.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/store/reader.h"

namespace indelible::check {

struct Erasure {
  std::string by = "purge";  // what erased the content
  uint64_t through = 0;      // the last seq erased (the final seq)
  // The statement's signature verified under a trusted key; false when no
  // key was given (then it is only the store's word).
  bool verified = false;
  chain::DeletionCertificate certificate;
  std::string note;  // the stored signed note
};

// The erasure of `tenant` recorded in the store, parsed, or nullopt if
// there is none. A stored certificate that is malformed or of another
// tenant is a kPurge finding in `findings` and yields nullopt: the tenant's
// bodies are then judged as any others.
absl::StatusOr<std::optional<Erasure>> LoadErasure(const store::Reader& reader,
                                                   const std::string& tenant,
                                                   std::vector<Finding>* findings);

// Once the tenant's records were read (with `keys` the keys trusted at its
// end, rotations followed): the certificate's signature (e->verified; a
// failure is a finding when keys are given), the chain's last seq and hash
// against the certificate's, and (version 2) the certificate's root against
// the stored v2 checkpoint of its size.
absl::Status SettleErasure(const store::Reader& reader, const TrustedKeys& keys,
                           uint64_t head_seq, const chain::Digest& head_hash, Erasure* e,
                           std::vector<Finding>* findings);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_ERASURE_H_
