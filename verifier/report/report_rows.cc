#include "verifier/report/report_rows.h"

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/text.h"

namespace indelible::report {
namespace {

nlohmann::json MetadataObject(const chain::EventFields& e) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : e.metadata) m[k] = v;
  return m;
}

}  // namespace

std::string FormatTimeNs(uint64_t ns) {
  absl::Time t = absl::FromUnixNanos(static_cast<int64_t>(ns));
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", t, absl::UTCTimeZone());
}

std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(v);
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CsvHeader() {
  return "tenant,seq,received_at,occurred_at,event_id,actor_id,actor_type,"
         "actor_ip,action,resource_type,resource_id,reason,outcome,source,"
         "category,metadata,entry_hash\r\n";
}

std::string CsvRow(const Row& r) {
  const chain::EventFields& e = r.event;
  const std::string fields[] = {
      e.tenant, std::to_string(r.seq), FormatTimeNs(r.received_at_ns),
      FormatTimeNs(e.occurred_at_ns), e.event_id, e.actor_id, e.actor_type,
      e.actor_ip, e.action, e.resource_type, e.resource_id, e.reason,
      e.outcome, e.source, e.category, MetadataObject(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      chain::ToHex(r.entry_hash)};
  std::string out;
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) out.push_back(',');
    out.append(CsvField(fields[i]));
  }
  out.append("\r\n");
  return out;
}

std::string JsonOpening(std::string_view tenant) {
  nlohmann::json t = std::string(tenant);
  return "{\"format\":\"indelible-report/v1\",\"tenant\":" + t.dump() +
         ",\"rows\":[\n";
}

std::string JsonRow(const Row& r) {
  const chain::EventFields& e = r.event;
  nlohmann::ordered_json j;
  j["tenant"] = e.tenant;
  j["seq"] = r.seq;
  j["received_at"] = FormatTimeNs(r.received_at_ns);
  j["received_at_ns"] = std::to_string(r.received_at_ns);
  j["occurred_at"] = FormatTimeNs(e.occurred_at_ns);
  j["occurred_at_ns"] = std::to_string(e.occurred_at_ns);
  j["event_id"] = e.event_id;
  j["actor_id"] = e.actor_id;
  j["actor_type"] = e.actor_type;
  j["actor_ip"] = e.actor_ip;
  j["action"] = e.action;
  j["resource_type"] = e.resource_type;
  j["resource_id"] = e.resource_id;
  j["reason"] = e.reason;
  j["outcome"] = e.outcome;
  j["source"] = e.source;
  j["category"] = e.category;
  j["metadata"] = MetadataObject(e);
  j["salt"] = chain::Base64Encode(r.salt);
  j["canonical_event"] = chain::Base64Encode(r.canonical_event);
  j["body_digest"] = chain::ToHex(r.body_digest);
  j["prev_entry_hash"] = chain::ToHex(r.prev_entry_hash);
  j["entry_hash"] = chain::ToHex(r.entry_hash);
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

RowWriter::RowWriter(Format format, std::string tenant, Sink sink)
    : format_(format), tenant_(std::move(tenant)), sink_(std::move(sink)) {}

void RowWriter::Begin() {
  sink_(format_ == Format::kCsv ? CsvHeader() : JsonOpening(tenant_));
}

void RowWriter::Add(const Row& row) {
  if (format_ == Format::kCsv) {
    sink_(CsvRow(row));
  } else {
    if (rows_ > 0) sink_(kJsonRowSeparator);
    sink_(JsonRow(row));
  }
  ++rows_;
}

void RowWriter::End() {
  if (format_ == Format::kJson) sink_(rows_ == 0 ? "]}\n" : kJsonClosing);
}

}  // namespace indelible::report
