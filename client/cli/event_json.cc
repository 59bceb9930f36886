#include "client/cli/event_json.h"

#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/cli/time_text.h"
#include "verifier/chain/text.h"

namespace indelible::cli {
namespace {

using chain::ToAbsl;
using nlohmann::json;
namespace v1 = ::indelible::v1;

enum class Kind { kString, kNanos, kTime, kActor, kResource, kMetadata };

// A JSON key, the event field it sets (the name errors use) and its type.
struct FieldSpec {
  std::string_view key;
  std::string_view field;
  Kind kind;
};

constexpr FieldSpec kEventFields[] = {
    {"tenant", "tenant", Kind::kString},
    {"event_id", "event_id", Kind::kString},
    {"eventId", "event_id", Kind::kString},
    {"occurred_at_ns", "occurred_at_ns", Kind::kNanos},
    {"occurredAtNs", "occurred_at_ns", Kind::kNanos},
    {"occurred_at", "occurred_at_ns", Kind::kTime},
    {"occurredAt", "occurred_at_ns", Kind::kTime},
    {"actor", "actor", Kind::kActor},
    {"actor_id", "actor.id", Kind::kString},
    {"actorId", "actor.id", Kind::kString},
    {"actor_type", "actor.type", Kind::kString},
    {"actorType", "actor.type", Kind::kString},
    {"actor_ip", "actor.ip", Kind::kString},
    {"actorIp", "actor.ip", Kind::kString},
    {"action", "action", Kind::kString},
    {"resource", "resource", Kind::kResource},
    {"resource_type", "resource.type", Kind::kString},
    {"resourceType", "resource.type", Kind::kString},
    {"resource_id", "resource.id", Kind::kString},
    {"resourceId", "resource.id", Kind::kString},
    {"reason", "reason", Kind::kString},
    {"outcome", "outcome", Kind::kString},
    {"source", "source", Kind::kString},
    {"category", "category", Kind::kString},
    {"metadata", "metadata", Kind::kMetadata},
};

constexpr FieldSpec kActorFields[] = {
    {"id", "actor.id", Kind::kString},
    {"type", "actor.type", Kind::kString},
    {"ip", "actor.ip", Kind::kString},
};

constexpr FieldSpec kResourceFields[] = {
    {"type", "resource.type", Kind::kString},
    {"id", "resource.id", Kind::kString},
};

absl::Status Bad(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), ": ", ToAbsl(what)));
}

const char* TypeName(const json& v) { return v.type_name(); }

class EventBuilder {
 public:
  absl::Status Object(const json& obj, std::span<const FieldSpec> specs,
                      std::string_view prefix) {
    for (const auto& [key, value] : obj.items()) {
      const FieldSpec* spec = nullptr;
      for (const FieldSpec& s : specs) {
        if (s.key == key) spec = &s;
      }
      if (spec == nullptr) {
        return Bad(absl::StrCat(ToAbsl(prefix), key), "unknown field");
      }
      if (value.is_null()) continue;
      absl::Status s = Set(*spec, value);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  v1::Event& event() { return event_; }

 private:
  absl::Status Set(const FieldSpec& spec, const json& v) {
    if (spec.kind != Kind::kActor && spec.kind != Kind::kResource &&
        !seen_.insert(spec.field).second) {
      return Bad(spec.field, "given twice");
    }
    switch (spec.kind) {
      case Kind::kString:
        if (!v.is_string()) {
          return Bad(spec.field,
                     absl::StrCat("must be a string, not ", TypeName(v)));
        }
        *StringField(spec.field) = v.get<std::string>();
        return absl::OkStatus();
      case Kind::kNanos:
      case Kind::kTime:
        return SetTime(spec, v);
      case Kind::kActor:
        if (!v.is_object()) return Bad(spec.field, "must be an object");
        return Object(v, kActorFields, "actor.");
      case Kind::kResource:
        if (!v.is_object()) return Bad(spec.field, "must be an object");
        return Object(v, kResourceFields, "resource.");
      case Kind::kMetadata:
        return SetMetadata(v);
    }
    return Bad(spec.field, "unhandled");
  }

  // kNanos: integer ns (a JSON number or a decimal string, as proto JSON
  // writes 64-bit integers). kTime also takes RFC 3339 text.
  absl::Status SetTime(const FieldSpec& spec, const json& v) {
    if (v.is_number_unsigned()) {
      event_.set_occurred_at_ns(v.get<uint64_t>());
      return absl::OkStatus();
    }
    if (v.is_number()) {
      return Bad(spec.field, "must be a non-negative integer (nanoseconds)");
    }
    if (!v.is_string()) {
      return Bad(spec.field,
                 absl::StrCat("must be a number or string, not ", TypeName(v)));
    }
    const std::string& text = v.get_ref<const std::string&>();
    uint64_t ns = 0;
    if (chain::ParseDecimal(text, &ns)) {
      event_.set_occurred_at_ns(ns);
      return absl::OkStatus();
    }
    if (spec.kind == Kind::kNanos) {
      return Bad(spec.field, "must be integer nanoseconds");
    }
    absl::StatusOr<uint64_t> t = ParseTimestamp(text);
    if (!t.ok()) return Bad(spec.key, chain::ToStd(t.status().message()));
    event_.set_occurred_at_ns(*t);
    return absl::OkStatus();
  }

  absl::Status AddMetadata(std::string_view field, std::string key,
                           std::string value) {
    if (key.empty()) return Bad(field, "empty key");
    if (!metadata_keys_.insert(key).second) {
      return Bad("metadata", absl::StrCat("duplicate key \"", key, "\""));
    }
    v1::MetadataEntry* e = event_.add_metadata();
    e->set_key(std::move(key));
    e->set_value(std::move(value));
    return absl::OkStatus();
  }

  // [{"key": k, "value": v}, ...] or {"k": "v", ...}.
  absl::Status SetMetadata(const json& v) {
    if (v.is_object()) {
      for (const auto& [key, value] : v.items()) {
        const std::string field = absl::StrCat("metadata.", key);
        if (!value.is_string()) return Bad(field, "must be a string");
        absl::Status s = AddMetadata(field, key, value.get<std::string>());
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (!v.is_array()) {
      return Bad("metadata", "must be an array of {key, value} or an object");
    }
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string field = absl::StrCat("metadata[", i, "]");
      const json& entry = v[i];
      if (!entry.is_object()) return Bad(field, "must be an object");
      std::string key, value;
      for (const auto& [k, x] : entry.items()) {
        if (k != "key" && k != "value") {
          return Bad(absl::StrCat(field, ".", k), "unknown field");
        }
        if (x.is_null()) continue;
        if (!x.is_string()) {
          return Bad(absl::StrCat(field, ".", k), "must be a string");
        }
        (k == "key" ? key : value) = x.get<std::string>();
      }
      absl::Status s = AddMetadata(field, std::move(key), std::move(value));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  std::string* StringField(std::string_view field) {
    if (field == "tenant") return event_.mutable_tenant();
    if (field == "event_id") return event_.mutable_event_id();
    if (field == "actor.id") return event_.mutable_actor()->mutable_id();
    if (field == "actor.type") return event_.mutable_actor()->mutable_type();
    if (field == "actor.ip") return event_.mutable_actor()->mutable_ip();
    if (field == "action") return event_.mutable_action();
    if (field == "resource.type") {
      return event_.mutable_resource()->mutable_type();
    }
    if (field == "resource.id") return event_.mutable_resource()->mutable_id();
    if (field == "reason") return event_.mutable_reason();
    if (field == "outcome") return event_.mutable_outcome();
    if (field == "source") return event_.mutable_source();
    return event_.mutable_category();  // the last kString field
  }

  v1::Event event_;
  std::set<std::string_view> seen_;
  std::set<std::string> metadata_keys_;
};

}  // namespace

absl::StatusOr<v1::Event> ParseEventJson(std::string_view line) {
  json doc;
  try {
    doc = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number too large for a double
    // ("1e999"). Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    std::string_view what = e.what();
    if (size_t end = what.find("] "); end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", ToAbsl(what)));
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a JSON object (one event per line), got ", doc.type_name()));
  }
  EventBuilder b;
  absl::Status s = b.Object(doc, kEventFields, "");
  if (!s.ok()) return s;
  return std::move(b.event());
}

}  // namespace indelible::cli
