#include "verifier/check/record_checks.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/text.h"

namespace indelible::check {
namespace {

using chain::ToAbsl;

void Add(std::vector<Finding>* out, std::string_view tenant, uint64_t seq,
         Kind kind, std::string detail) {
  out->push_back(Finding{std::string(tenant), seq, kind, std::move(detail)});
}

bool CheckBody(std::string_view tenant, const RecordView& r,
               std::vector<Finding>* out, chain::EventFields* decoded) {
  std::string_view salt, ce;
  if (!store::DecodeBody(r.body, &salt, &ce)) {
    Add(out, tenant, r.seq, Kind::kMalformed,
        absl::StrCat("body is ", r.body.size(),
                     " bytes, shorter than its 8-byte time and 16-byte salt"));
    return false;
  }
  // The digest covers the stored bytes whatever they decode to: check it
  // first, so a modified body is named as such even when it no longer
  // decodes.
  if (chain::BodyDigest(salt, ce) != r.skeleton.body_digest) {
    Add(out, tenant, r.seq, Kind::kBodyDigestMismatch,
        "SHA-256(salt || CE) differs from the skeleton's body_digest: the "
        "body was modified");
  }
  // Decoded only for a caller that wants the event; validated in place
  // (nothing copied) for one that does not.
  absl::StatusOr<chain::EventFields> event;
  absl::StatusOr<std::string_view> event_tenant;
  if (decoded != nullptr) {
    event = chain::DecodeCanonicalEvent(ce);
    event_tenant = event.ok() ? absl::StatusOr<std::string_view>(event->tenant) : event.status();
  } else {
    event_tenant = chain::CanonicalEventTenant(ce);
  }
  if (!event_tenant.ok()) {
    Add(out, tenant, r.seq, Kind::kMalformed,
        std::string(chain::ToStd(event_tenant.status().message())));
    return false;
  }
  if (*event_tenant != tenant) {
    Add(out, tenant, r.seq, Kind::kTenantMismatch,
        absl::StrCat("the event belongs to tenant \"", ToAbsl(*event_tenant),
                     "\": spliced in from another chain"));
  }
  if (decoded != nullptr) *decoded = *std::move(event);
  return true;
}

// The body's copy of received_at is covered by no hash; it must equal the
// skeleton's, which the chain covers.
void CheckBodyTime(std::string_view tenant, const RecordView& r,
                   std::vector<Finding>* out) {
  uint64_t copy;
  std::string_view salt, ce;
  if (!r.has_body || !store::DecodeBody(r.body, &copy, &salt, &ce) ||
      copy == r.skeleton.received_at_ns) {
    return;
  }
  Add(out, tenant, r.seq, Kind::kBodyReceivedAtMismatch,
      absl::StrCat("the body's copy of received_at_ns (", copy,
                   ") differs from the skeleton's (", r.skeleton.received_at_ns,
                   "): the copy, which no hash covers, was modified"));
}

}  // namespace

bool CheckRecordContent(std::string_view tenant, const RecordView& r,
                        const chain::Digest* prev, std::vector<Finding>* out,
                        chain::EventFields* decoded) {
  const bool decoded_ok = r.has_body && CheckBody(tenant, r, out, decoded);
  if (prev == nullptr) {
    CheckBodyTime(tenant, r, out);
    return decoded_ok;
  }
  const chain::Digest want =
      chain::EntryHash(tenant, r.seq, r.skeleton.received_at_ns, *prev,
                       r.skeleton.body_digest);
  if (want != r.skeleton.entry_hash) {
    Add(out, tenant, r.seq, Kind::kEntryHashMismatch,
        absl::StrCat("stored entry_hash ", chain::ToHex(r.skeleton.entry_hash),
                     " does not follow from the previous record (want ",
                     chain::ToHex(want),
                     "): this skeleton or the one before was modified, or "
                     "records were inserted or reordered"));
  }
  CheckBodyTime(tenant, r, out);
  return decoded_ok;
}

}  // namespace indelible::check
