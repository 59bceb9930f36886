#include "client/cli/output_json.h"

#include "absl/strings/str_cat.h"
#include "client/cli/time_text.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible::cli {

using json = nlohmann::ordered_json;
namespace v1 = ::indelible::v1;

json EventToJson(const v1::Event& e) {
  json metadata = json::array();
  for (const v1::MetadataEntry& m : e.metadata()) {
    metadata.push_back({{"key", m.key()}, {"value", m.value()}});
  }
  return json{
      {"tenant", e.tenant()},
      {"event_id", e.event_id()},
      {"occurred_at_ns", absl::StrCat(e.occurred_at_ns())},
      {"actor",
       {{"id", e.actor().id()},
        {"type", e.actor().type()},
        {"ip", e.actor().ip()}}},
      {"action", e.action()},
      {"resource", {{"type", e.resource().type()}, {"id", e.resource().id()}}},
      {"reason", e.reason()},
      {"outcome", e.outcome()},
      {"source", e.source()},
      {"category", e.category()},
      {"metadata", std::move(metadata)},
  };
}

json ReceiptToJson(const v1::Receipt& r, const std::string& event_id,
                   const std::string& category) {
  return json{
      {"tenant", r.tenant()},
      {"event_id", event_id},
      {"seq", r.seq()},
      {"received_at_ns", absl::StrCat(r.received_at_ns())},
      {"received_at", FormatTimestamp(r.received_at_ns())},
      {"entry_hash", chain::ToHex(r.entry_hash())},
      {"duplicate", r.duplicate()},
      {"leaf_index", r.leaf_index()},
      {"body_digest", chain::ToHex(r.body_digest())},
      {"prev_entry_hash", chain::ToHex(r.prev_entry_hash())},
      {"category", category},
  };
}

absl::Status ReceiptFromJson(const json& j, v1::Receipt* r,
                             std::string* category) {
  if (!j.is_object()) return absl::InvalidArgumentError("receipt: not a JSON object");
  auto field = [&](const char* name) -> const json* {
    auto it = j.find(name);
    return it == j.end() ? nullptr : &*it;
  };
  auto bad = [](const char* name, const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("receipt.", name, ": ", what));
  };
  auto str = [&](const char* name, std::string* out) -> absl::Status {
    const json* f = field(name);
    if (f == nullptr || !f->is_string()) return bad(name, "missing (a string)");
    *out = f->get<std::string>();
    return absl::OkStatus();
  };
  auto hash = [&](const char* name, std::string* out) -> absl::Status {
    std::string hex;
    if (absl::Status s = str(name, &hex); !s.ok()) return s;
    if (hex.size() != 64 || !chain::FromHex(hex, out)) {
      return bad(name, "not 64 hex digits");
    }
    return absl::OkStatus();
  };
  auto num = [&](const char* name, uint64_t* out) -> absl::Status {
    const json* f = field(name);
    if (f != nullptr && f->is_number_unsigned()) {
      *out = f->get<uint64_t>();
      return absl::OkStatus();
    }
    if (f != nullptr && f->is_string()) {
      const std::string s = f->get<std::string>();
      if (!s.empty() && s.size() <= 20 &&
          s.find_first_not_of("0123456789") == std::string::npos) {
        try {
          *out = std::stoull(s);
          return absl::OkStatus();
        } catch (const std::exception&) {
        }
      }
    }
    return bad(name, "missing (an unsigned integer)");
  };
  std::string s;
  uint64_t n = 0;
  if (absl::Status st = str("tenant", &s); !st.ok()) return st;
  r->set_tenant(s);
  if (absl::Status st = num("seq", &n); !st.ok()) return st;
  r->set_seq(n);
  if (absl::Status st = num("received_at_ns", &n); !st.ok()) return st;
  r->set_received_at_ns(n);
  if (field("leaf_index") != nullptr) {
    if (absl::Status st = num("leaf_index", &n); !st.ok()) return st;
    r->set_leaf_index(n);
  }
  if (absl::Status st = hash("entry_hash", &s); !st.ok()) return st;
  r->set_entry_hash(s);
  if (absl::Status st = hash("body_digest", &s); !st.ok()) return st;
  r->set_body_digest(s);
  if (absl::Status st = hash("prev_entry_hash", &s); !st.ok()) return st;
  r->set_prev_entry_hash(s);
  if (absl::Status st = str("category", category); !st.ok()) return st;
  if (category->empty()) return bad("category", "empty");
  return absl::OkStatus();
}

json RecordToJson(const v1::Record& r) {
  return json{
      {"tenant", r.tenant()},
      {"seq", r.seq()},
      {"received_at_ns", absl::StrCat(r.received_at_ns())},
      {"received_at", FormatTimestamp(r.received_at_ns())},
      {"pruned", r.pruned()},
      {"salt", chain::Base64Encode(r.salt())},
      {"canonical_event", chain::Base64Encode(r.canonical_event())},
      {"body_digest", chain::ToHex(r.body_digest())},
      {"entry_hash", chain::ToHex(r.entry_hash())},
      {"event",
       r.has_event() && !r.pruned() ? EventToJson(r.event()) : json(nullptr)},
  };
}

json HeadToJson(const v1::GetHeadResponse& h) {
  return json{
      {"tenant", h.tenant()},
      {"seq", h.seq()},
      {"head_hash", chain::ToHex(h.head_hash())},
      {"received_at_ns", absl::StrCat(h.received_at_ns())},
      {"received_at", h.seq() == 0 ? json(nullptr)
                                   : json(FormatTimestamp(h.received_at_ns()))},
  };
}

json CheckpointToJson(const v1::Checkpoint& c) {
  return json{
      {"tenant", c.tenant()},
      {"seq", c.seq()},
      {"head_hash", chain::ToHex(c.head_hash())},
      {"timestamp_ns", absl::StrCat(c.timestamp_ns())},
      {"timestamp", FormatTimestamp(c.timestamp_ns())},
      {"note", c.note()},
  };
}

json PublicKeyToJson(const v1::GetPublicKeyResponse& k) {
  return json{
      {"key_name", k.key_name()},
      {"key_id_hex", k.key_id_hex()},
      {"verifier_key", k.verifier_key()},
      {"public_key_pem", k.public_key_pem()},
  };
}

json AdminReceiptToJson(const v1::Receipt& r) {
  return json{
      {"tenant", r.tenant()},
      {"seq", r.seq()},
      {"received_at_ns", absl::StrCat(r.received_at_ns())},
      {"received_at", FormatTimestamp(r.received_at_ns())},
      {"entry_hash", chain::ToHex(r.entry_hash())},
  };
}

json RetentionChangeToJson(const std::string& tenant,
                           const std::string& category,
                           const std::string& retention,
                           const v1::SetRetentionResponse& r) {
  return json{
      {"tenant", tenant},
      {"category", category},
      {"retention", retention},
      {"previous_retention", r.previous_retention()},
      {"receipt", AdminReceiptToJson(r.receipt())},
  };
}

json RetentionToJson(const std::string& tenant,
                     const v1::GetRetentionResponse& r) {
  json entries = json::array();
  for (const v1::RetentionEntry& e : r.entries()) {
    entries.push_back({{"category", e.category()},
                       {"retention", e.retention()},
                       {"seconds", e.seconds()}});
  }
  return json{
      {"tenant", tenant},
      {"legal_hold", r.legal_hold()},
      {"default_retention", r.default_retention()},
      {"entries", std::move(entries)},
  };
}

json LegalHoldChangeToJson(const std::string& tenant, bool hold,
                           const v1::Receipt& r) {
  return json{
      {"tenant", tenant},
      {"legal_hold", hold},
      {"receipt", AdminReceiptToJson(r)},
  };
}

json PurgeToJson(const std::string& tenant, const v1::PurgeTenantResponse& r,
                 const std::string& certificate_file) {
  json j{
      {"tenant", tenant},
      {"final_seq", r.final_seq()},
      {"final_head_hash", chain::ToHex(r.final_head_hash())},
      {"timestamp_ns", absl::StrCat(r.timestamp_ns())},
      {"timestamp", FormatTimestamp(r.timestamp_ns())},
      {"certificate_file", certificate_file},
  };
  if (r.approvers_size() > 0) {  // a version 2 certificate
    j["final_root_hash"] = chain::ToHex(r.final_root_hash());
    j["approvers"] = std::vector<std::string>(r.approvers().begin(), r.approvers().end());
  }
  return j;
}

json CompactToJson(const v1::CompactResponse& r) {
  return json{
      {"bodies_dropped", r.bodies_dropped()},
      {"event_ids_dropped", r.event_ids_dropped()},
  };
}

json BackupToJson(const v1::BackupResponse& r) {
  json tenants = json::array();
  for (const v1::BackupHead& h : r.heads()) {
    tenants.push_back(json{
        {"tenant", h.tenant()},
        {"seq", h.seq()},
        {"head_hash", chain::ToHex(h.head_hash())},
        {"received_at_ns", absl::StrCat(h.received_at_ns())},
        {"checkpoint_seq", h.checkpoint_seq()},
    });
  }
  json pruned = json::array();
  for (const std::string& p : r.pruned()) pruned.push_back(p);
  return json{
      {"path", r.path()},
      {"name", r.name()},
      {"created_at_ns", absl::StrCat(r.created_at_ns())},
      {"created_at", FormatTimestamp(r.created_at_ns())},
      {"tenants", std::move(tenants)},
      {"files", r.files()},
      {"size_bytes", r.size_bytes()},
      {"pruned", std::move(pruned)},
  };
}

std::string JsonLine(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace indelible::cli
