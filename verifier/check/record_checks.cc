#include "verifier/check/record_checks.h"

#include "absl/strings/str_cat.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/text.h"

namespace indelible::check {
namespace {

using chain::Av;

void Add(std::vector<Finding>* out, std::string_view tenant, uint64_t seq,
         Kind kind, std::string detail) {
  out->push_back(Finding{std::string(tenant), seq, kind, std::move(detail)});
}

bool CheckBody(std::string_view tenant, const RecordView& r,
               std::vector<Finding>* out, chain::EventFields* decoded) {
  std::string_view salt, ce;
  uint64_t body_received_at = 0;
  if (!store::DecodeBody(r.body, &body_received_at, &salt, &ce)) {
    Add(out, tenant, r.seq, Kind::kMalformed,
        absl::StrCat("body is ", r.body.size(),
                     " bytes, shorter than its 8-byte time and 16-byte salt"));
    return false;
  }
  // body_received_at only serves retention's filter; the hashes do not
  // cover it (docs/VERIFY.md, "What a check cannot see on its own").
  (void)body_received_at;
  // The digest covers the stored bytes whatever they decode to: check it
  // first, so a modified body is named as such even when it no longer
  // decodes.
  if (chain::BodyDigest(salt, ce) != r.skeleton.body_digest) {
    Add(out, tenant, r.seq, Kind::kBodyDigestMismatch,
        "SHA-256(salt || CE) differs from the skeleton's body_digest: the "
        "body was modified");
  }
  auto event = chain::DecodeCanonicalEvent(ce);
  if (!event.ok()) {
    Add(out, tenant, r.seq, Kind::kMalformed,
        std::string(chain::Sv(event.status().message())));
    return false;
  }
  if (event->tenant != tenant) {
    Add(out, tenant, r.seq, Kind::kTenantMismatch,
        absl::StrCat("the event belongs to tenant \"", event->tenant,
                     "\": spliced in from another chain"));
  }
  if (decoded != nullptr) *decoded = *std::move(event);
  return true;
}

}  // namespace

bool CheckRecordContent(std::string_view tenant, const RecordView& r,
                        const chain::Digest* prev, std::vector<Finding>* out,
                        chain::EventFields* decoded) {
  const bool decoded_ok = r.has_body && CheckBody(tenant, r, out, decoded);
  if (prev == nullptr) return decoded_ok;
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
  return decoded_ok;
}

}  // namespace indelible::check
