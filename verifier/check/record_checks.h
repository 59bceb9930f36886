// The checks of one record that need nothing but the record itself and the
// previous record's entry_hash (docs/FORMAT.md section 6, steps 2.3 and
// 2.4, and the body's copy of received_at_ns, section 11). They are pure and independent of each other, which is what lets the
// store check run them on many records in parallel.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_VERIFIER_CHECK_RECORD_CHECKS_H_
#define INDELIBLE_VERIFIER_CHECK_RECORD_CHECKS_H_

#include <string_view>
#include <vector>

#include "verifier/chain/hash.h"
#include "verifier/check/finding.h"
#include "verifier/chain/event.h"
#include "verifier/check/record.h"

namespace indelible::check {

// Checks `r` of `tenant`'s chain and appends findings to *out, in this order:
// kMalformed (body shorter than its 8-byte received_at_ns and 16-byte salt),
// kBodyDigestMismatch, kMalformed (CE not well-formed), kTenantMismatch,
// kEntryHashMismatch, kBodyReceivedAtMismatch (the body's copy of
// received_at_ns differs from the skeleton's). `prev` is the stored
// entry_hash of the record before (genesis for seq 1), or null when the link
// cannot be checked (the record before is missing): then only the body is
// checked.
// Returns true when the record has a body whose CE decoded; then, if
// `decoded` is not null, the event is moved into it.
bool CheckRecordContent(std::string_view tenant, const RecordView& r,
                        const chain::Digest* prev, std::vector<Finding>* out,
                        chain::EventFields* decoded = nullptr);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_RECORD_CHECKS_H_
