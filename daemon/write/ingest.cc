#include "daemon/write/ingest.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/tenant_id.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"
#include "wire/event_mapper.h"

namespace indelible {
namespace {

using chain::ToAbsl;

constexpr char kDefaultCategory[] = "access";

enum class Text {
  kLine,       // no control characters at all
  kMultiline,  // \t, \n and \r allowed
};

absl::Status Invalid(std::string_view path, std::string_view field,
                     std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(path), ".", ToAbsl(field), ": ", ToAbsl(what)));
}

// True if `s` holds a control character not allowed by `kind` (C0, DEL, C1).
bool HasForbiddenControl(std::string_view s, Text kind) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      if (kind == Text::kMultiline && (c == '\t' || c == '\n' || c == '\r')) {
        continue;
      }
      return true;
    }
    // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xc2 && i + 1 < s.size() &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      return true;
    }
  }
  return false;
}

// Length of the longest prefix of `s` made of whole 8-byte words of
// printable ASCII (0x20..0x7e), found a word at a time: those bytes need no
// UTF-8 or control-character check. Most event text is such ASCII.
size_t PrintableAsciiPrefix(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, sizeof w);
    // With no byte >= 0x80, (x - n*ones) & ~x & high is non-zero exactly
    // when some byte of x is < n.
    const uint64_t del = w ^ (kOnes * 0x7f);
    const uint64_t bad = (w | ((w - kOnes * 0x20) & ~w) | ((del - kOnes) & ~del)) & kHigh;
    if (bad != 0) break;
  }
  return i;
}

absl::Status CheckText(std::string_view path, std::string_view field,
                       std::string_view value, size_t max_bytes, bool required,
                       Text kind = Text::kLine) {
  if (value.empty()) {
    return required ? Invalid(path, field, "required") : absl::OkStatus();
  }
  if (value.size() > max_bytes) {
    return Invalid(path, field,
                   absl::StrCat("too long (", value.size(), " bytes, max ",
                                max_bytes, ")"));
  }
  const std::string_view rest = value.substr(PrintableAsciiPrefix(value));
  if (!IsValidUtf8(rest)) return Invalid(path, field, "invalid UTF-8");
  if (HasForbiddenControl(rest, kind)) {
    return Invalid(path, field, "control characters not allowed");
  }
  return absl::OkStatus();
}

bool IsValidIp(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

bool IsValidCategory(std::string_view c) {
  for (char ch : c) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
          ch == '_' || ch == '-')) {
      return false;
    }
  }
  return true;
}

// The field checks of PrepareFields: text, sizes, formats and the clock skew.
absl::Status CheckFields(const chain::EventFields& f, const IngestLimits& lim,
                         uint64_t now_ns, std::string_view path) {
  if (!chain::IsValidTenantId(f.tenant)) {
    return chain::CheckTenantId(f.tenant, absl::StrCat(ToAbsl(path), ".tenant"));
  }
  absl::Status s;
  if (!(s = CheckText(path, "event_id", f.event_id, lim.max_event_id_bytes,
                      true)).ok() ||
      !(s = CheckText(path, "actor.id", f.actor_id,
                      lim.max_actor_id_bytes, true)).ok() ||
      !(s = CheckText(path, "actor.type", f.actor_type,
                      lim.max_short_field_bytes, false)).ok() ||
      !(s = CheckText(path, "actor.ip", f.actor_ip, 64, false)).ok() ||
      !(s = CheckText(path, "action", f.action, lim.max_short_field_bytes,
                      true)).ok() ||
      !(s = CheckText(path, "resource.type", f.resource_type,
                      lim.max_short_field_bytes, false)).ok() ||
      !(s = CheckText(path, "resource.id", f.resource_id,
                      lim.max_resource_id_bytes, false)).ok() ||
      !(s = CheckText(path, "reason", f.reason, lim.max_reason_bytes, false,
                      Text::kMultiline)).ok() ||
      !(s = CheckText(path, "outcome", f.outcome, lim.max_short_field_bytes,
                      false)).ok() ||
      !(s = CheckText(path, "source", f.source, lim.max_short_field_bytes,
                      false)).ok() ||
      !(s = CheckText(path, "category", f.category,
                      lim.max_short_field_bytes, false)).ok()) {
    return s;
  }
  if (!f.actor_ip.empty() && !IsValidIp(f.actor_ip)) {
    return Invalid(path, "actor.ip", "not an IPv4 or IPv6 address");
  }
  if (!IsValidCategory(f.category)) {
    return Invalid(path, "category", "must match [a-z0-9._-]+");
  }
  if (f.occurred_at_ns > now_ns &&
      f.occurred_at_ns - now_ns > lim.max_future_skew_ns) {
    return Invalid(path, "occurred_at_ns",
                   absl::StrCat("more than ", lim.max_future_skew_ns / 1000000000,
                                "s ahead of the daemon's clock"));
  }
  if (f.metadata.size() > lim.max_metadata_entries) {
    return Invalid(path, "metadata",
                   absl::StrCat("too many entries (", f.metadata.size(),
                                ", max ", lim.max_metadata_entries, ")"));
  }
  for (size_t i = 0; i < f.metadata.size(); ++i) {
    const auto& [key, value] = f.metadata[i];
    const std::string field = absl::StrCat("metadata[", i, "]");
    if (!(s = CheckText(path, field + ".key", key,
                        lim.max_metadata_key_bytes, true)).ok() ||
        !(s = CheckText(path, field + ".value", value,
                        lim.max_metadata_value_bytes, false,
                        Text::kMultiline)).ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong lead (C0/C1) or > F4
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;  // overlong, out of range, or a surrogate
    }
    i += len;
  }
  return true;
}

absl::Status PrepareEvent(const v1::Event& ev, const IngestLimits& lim,
                          uint64_t now_ns, const SaltSource& salt_source,
                          std::string_view path, PreparedEvent* out,
                          const IngestRules* rules) {
  return PrepareFields(EventFromProto(ev), lim, now_ns, salt_source, path, out, rules);
}

absl::Status PrepareFields(chain::EventFields f, const IngestLimits& lim,
                           uint64_t now_ns, const SaltSource& salt_source,
                           std::string_view path, PreparedEvent* out,
                           const IngestRules* rules) {
  if (auto s = CheckFields(f, lim, now_ns, path); !s.ok()) return s;
  const bool occurred_at_defaulted = f.occurred_at_ns == 0;
  if (occurred_at_defaulted) f.occurred_at_ns = now_ns;
  if (f.category.empty()) f.category = kDefaultCategory;
  if (rules != nullptr) rules->Apply(&f);

  auto ce = chain::EncodeCanonicalEvent(f);
  if (!ce.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(path), ".", ce.status().message()));
  }
  if (ce->size() > lim.max_event_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(path), ": event too large (", ce->size(), " bytes encoded, max ",
        lim.max_event_bytes, ")"));
  }
  chain::Salt salt;
  if (auto st = salt_source(&salt); !st.ok()) return st;
  out->tenant = std::move(f.tenant);
  out->event_id = std::move(f.event_id);
  out->body_digest = chain::BodyDigest(salt, *ce);
  out->category = f.category;
  out->body = store::EncodeBody(0, salt, *ce);  // received_at: sequencer
  out->occurred_at_defaulted = occurred_at_defaulted;
  out->path.assign(path);
  return absl::OkStatus();
}

}  // namespace indelible
