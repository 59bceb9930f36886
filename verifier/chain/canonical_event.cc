#include "verifier/chain/canonical_event.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/chain/coding.h"

namespace indelible::chain {
namespace {

// The strings between event_id/occurred_at and the metadata count, in order.
constexpr int kTrailingStrings = 10;

std::string_view Tag() { return {"indelible/v1/event\0", kEventTag.size() + 1}; }

}  // namespace

absl::StatusOr<std::string> EncodeCanonicalEvent(const EventFields& e) {
  std::vector<const std::pair<std::string, std::string>*> md;
  md.reserve(e.metadata.size());
  for (const auto& kv : e.metadata) md.push_back(&kv);
  std::sort(md.begin(), md.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  for (size_t i = 1; i < md.size(); ++i) {
    if (md[i - 1]->first == md[i]->first) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata: duplicate key \"", md[i]->first, "\""));
    }
  }

  size_t size = Tag().size() + 8 + 4 * (2 + kTrailingStrings + 1) +
                e.tenant.size() + e.event_id.size() + e.actor_id.size() +
                e.actor_type.size() + e.actor_ip.size() + e.action.size() +
                e.resource_type.size() + e.resource_id.size() +
                e.reason.size() + e.outcome.size() + e.source.size() +
                e.category.size();
  for (const auto* kv : md) size += 8 + kv->first.size() + kv->second.size();

  std::string out;
  out.reserve(size);
  out.append(Tag());
  PutStr(&out, e.tenant);
  PutStr(&out, e.event_id);
  PutU64(&out, e.occurred_at_ns);
  PutStr(&out, e.actor_id);
  PutStr(&out, e.actor_type);
  PutStr(&out, e.actor_ip);
  PutStr(&out, e.action);
  PutStr(&out, e.resource_type);
  PutStr(&out, e.resource_id);
  PutStr(&out, e.reason);
  PutStr(&out, e.outcome);
  PutStr(&out, e.source);
  PutStr(&out, e.category);
  PutU32(&out, static_cast<uint32_t>(md.size()));
  for (const auto* kv : md) {
    PutStr(&out, kv->first);
    PutStr(&out, kv->second);
  }
  return out;
}

namespace {

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(std::string("canonical event: ").append(what));
}

// Consumes the tag, tenant, event_id and occurred_at, read as views.
absl::Status ReadHeadViews(std::string_view* in, std::string_view* tenant,
                           std::string_view* event_id, uint64_t* occurred_at_ns) {
  if (in->substr(0, Tag().size()) != Tag()) return Malformed("bad tag");
  in->remove_prefix(Tag().size());
  if (!GetStr(in, tenant) || !GetStr(in, event_id) || !GetU64(in, occurred_at_ns)) {
    return Malformed("truncated header");
  }
  return absl::OkStatus();
}

// Every check of the format, handing the fields out as views into `in`:
// field(i, v) for the i-th trailing string, meta(n, k, v) for each of the n
// metadata pairs.
template <typename Field, typename Meta>
absl::Status WalkCanonicalEvent(std::string_view in, std::string_view* tenant,
                                std::string_view* event_id, uint64_t* occurred_at_ns,
                                Field field, Meta meta) {
  if (auto s = ReadHeadViews(&in, tenant, event_id, occurred_at_ns); !s.ok()) return s;
  for (int i = 0; i < kTrailingStrings; ++i) {
    std::string_view v;
    if (!GetStr(&in, &v)) return Malformed("truncated field");
    field(i, v);
  }
  uint32_t n;
  if (!GetU32(&in, &n)) return Malformed("truncated metadata count");
  // Each pair needs at least 8 bytes: reject absurd counts before reserving.
  if (n > in.size() / 8) return Malformed("metadata count exceeds data");
  std::string_view prev;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view k, v;
    if (!GetStr(&in, &k) || !GetStr(&in, &v)) {
      return Malformed("truncated metadata");
    }
    if (i > 0 && !(prev < k)) {
      return Malformed("metadata keys not unique and sorted");
    }
    prev = k;
    meta(n, k, v);
  }
  if (!in.empty()) return Malformed("trailing bytes");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EventFields> DecodeCanonicalEvent(std::string_view in) {
  EventFields e;
  std::string* fields[kTrailingStrings] = {
      &e.actor_id,    &e.actor_type, &e.actor_ip, &e.action, &e.resource_type,
      &e.resource_id, &e.reason,     &e.outcome,  &e.source, &e.category};
  std::string_view tenant, event_id;
  auto s = WalkCanonicalEvent(
      in, &tenant, &event_id, &e.occurred_at_ns,
      [&](int i, std::string_view v) { fields[i]->assign(v); },
      [&](uint32_t n, std::string_view k, std::string_view v) {
        if (e.metadata.empty()) e.metadata.reserve(n);
        e.metadata.emplace_back(std::string(k), std::string(v));
      });
  if (!s.ok()) return s;
  e.tenant.assign(tenant);
  e.event_id.assign(event_id);
  return e;
}

absl::StatusOr<std::string_view> CanonicalEventTenant(std::string_view ce) {
  std::string_view tenant, event_id;
  uint64_t occurred_at_ns = 0;
  auto s = WalkCanonicalEvent(
      ce, &tenant, &event_id, &occurred_at_ns, [](int, std::string_view) {},
      [](uint32_t, std::string_view, std::string_view) {});
  if (!s.ok()) return s;
  return tenant;
}

absl::StatusOr<std::string_view> CanonicalEventCategory(std::string_view in) {
  // Read once or twice for every record a check reads: nothing is copied.
  std::string_view tenant, event_id;
  uint64_t occurred_at_ns = 0;
  if (auto s = ReadHeadViews(&in, &tenant, &event_id, &occurred_at_ns); !s.ok()) return s;
  std::string_view v;
  for (int i = 0; i < kTrailingStrings; ++i) {
    if (!GetStr(&in, &v)) return Malformed("truncated field");
  }
  return v;
}

bool CanonicalEventOccurredAt(std::string_view ce, size_t* offset,
                              uint64_t* occurred_at_ns) {
  std::string_view in = ce;
  std::string_view tenant, event_id;
  if (in.substr(0, Tag().size()) != Tag()) return false;
  in.remove_prefix(Tag().size());
  if (!GetStr(&in, &tenant) || !GetStr(&in, &event_id)) return false;
  const size_t at = ce.size() - in.size();
  if (!GetU64(&in, occurred_at_ns)) return false;
  *offset = at;
  return true;
}

}  // namespace indelible::chain
