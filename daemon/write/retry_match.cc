#include "daemon/write/retry_match.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

namespace indelible {

FirstRecord FirstRecordOf(const PreparedEvent& e) {
  FirstRecord f;
  f.body_digest = e.body_digest;
  std::string_view salt, ce;
  if (store::DecodeBody(e.body, &salt, &ce)) {
    chain::SaltFromBytes(salt, &f.salt);
    size_t offset;
    if (!chain::CanonicalEventOccurredAt(ce, &offset, &f.occurred_at_ns)) {
      f.occurred_at_ns = 0;
    }
  }
  return f;
}

bool FirstRecordFromBody(std::string_view body, const chain::Digest& body_digest,
                         FirstRecord* out) {
  std::string_view salt, ce;
  if (!store::DecodeBody(body, &salt, &ce) || !chain::SaltFromBytes(salt, &out->salt)) {
    return false;
  }
  size_t offset;
  if (!chain::CanonicalEventOccurredAt(ce, &offset, &out->occurred_at_ns)) {
    out->occurred_at_ns = 0;  // no retry matches a CE that does not decode
  }
  out->body_digest = body_digest;
  return true;
}

bool SameEvent(const FirstRecord& first, const PreparedEvent& retry) {
  std::string_view salt, ce;
  if (!store::DecodeBody(retry.body, &salt, &ce)) return false;
  if (!retry.occurred_at_defaulted) {
    return chain::BodyDigest(first.salt, ce) == first.body_digest;
  }
  size_t offset;
  uint64_t own;
  if (!chain::CanonicalEventOccurredAt(ce, &offset, &own)) return false;
  std::string patched(ce);
  std::string at;
  chain::PutU64(&at, first.occurred_at_ns);
  patched.replace(offset, at.size(), at);
  return chain::BodyDigest(first.salt, patched) == first.body_digest;
}

absl::Status ConflictError(const PreparedEvent& retry, const FirstRecord& first) {
  // Seq 0 is no record: the first is an earlier event of the same request,
  // not stored yet.
  if (first.receipt.seq == 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        retry.path.empty() ? "event" : retry.path, ".event_id: \"",
        chain::ToAbsl(retry.event_id),
        "\" is also the id of an earlier event of this request with different "
        "content; a different event needs a new event_id"));
  }
  return absl::AlreadyExistsError(absl::StrCat(
      retry.path.empty() ? "event" : retry.path, ".event_id: \"",
      chain::ToAbsl(retry.event_id), "\" was first stored as seq ", first.receipt.seq,
      " of tenant ", retry.tenant,
      " with different content; a retry must repeat the event exactly, a "
      "different event needs a new event_id"));
}

}  // namespace indelible
