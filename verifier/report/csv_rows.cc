#include "verifier/report/csv_rows.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/event.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"

namespace indelible::report {

void ForEachCsvRecord(std::string_view data,
                      const std::function<void(std::vector<std::string>& cells)>& record) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (quoted) {
      if (c != '"') {
        cell.push_back(c);
      } else if (i + 1 < data.size() && data[i + 1] == '"') {
        cell.push_back('"');
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      if (!cell.empty() && cell.back() == '\r') cell.pop_back();
      cells.push_back(std::move(cell));
      cell.clear();
      record(cells);
      cells.clear();
    } else {
      cell.push_back(c);
    }
  }
}

absl::StatusOr<ProvenRow> ProvenCsvRow(std::vector<std::string>& cells, bool defused,
                                       std::string_view tenant) {
  // Columns, in header order (report_rows.h CsvHeader).
  enum : size_t {
    kTenant, kSeq, kReceivedAt, kOccurredAt, kEventId, kActorId, kActorType, kActorIp,
    kAction, kResourceType, kResourceId, kReason, kOutcome, kSource, kCategory,
    kMetadata, kEntryHash, kSalt, kColumns
  };
  std::string entry_bytes, salt;
  ProvenRow p;
  if (cells.size() != kColumns || !chain::ParseDecimal(cells[kSeq], &p.seq) ||
      !chain::FromHex(cells[kEntryHash], &entry_bytes) ||
      !chain::DigestFromBytes(entry_bytes, &p.entry_hash) ||
      !chain::FromHex(cells[kSalt], &salt) || salt.size() != chain::kSaltSize) {
    return absl::InvalidArgumentError("malformed seq, entry_hash, salt or column count");
  }
  if (defused) {
    for (size_t i : {kTenant, kEventId, kActorId, kActorType, kActorIp, kAction,
                     kResourceType, kResourceId, kReason, kOutcome, kSource, kCategory}) {
      if (!cells[i].empty() && cells[i].front() == '\'') cells[i].erase(0, 1);
    }
  }
  if (cells[kTenant] != tenant) return absl::InvalidArgumentError("tenant is not the manifest's");
  chain::EventFields e;
  if (!ParseTimeNs(cells[kReceivedAt], &p.received_at_ns) ||
      !ParseTimeNs(cells[kOccurredAt], &e.occurred_at_ns)) {
    return absl::InvalidArgumentError("received_at or occurred_at is not an RFC 3339 time");
  }
  const nlohmann::json md = nlohmann::json::parse(cells[kMetadata], nullptr, false);
  if (md.is_discarded() || !md.is_object()) {
    return absl::InvalidArgumentError("metadata is not a JSON object");
  }
  for (const auto& [k, v] : md.items()) {
    if (!v.is_string()) return absl::InvalidArgumentError("metadata values must be strings");
    e.metadata.emplace_back(k, v.get<std::string>());
  }
  e.tenant = std::move(cells[kTenant]);
  e.event_id = std::move(cells[kEventId]);
  e.actor_id = std::move(cells[kActorId]);
  e.actor_type = std::move(cells[kActorType]);
  e.actor_ip = std::move(cells[kActorIp]);
  e.action = std::move(cells[kAction]);
  e.resource_type = std::move(cells[kResourceType]);
  e.resource_id = std::move(cells[kResourceId]);
  e.reason = std::move(cells[kReason]);
  e.outcome = std::move(cells[kOutcome]);
  e.source = std::move(cells[kSource]);
  e.category = std::move(cells[kCategory]);
  auto ce = chain::EncodeCanonicalEvent(e);
  if (!ce.ok()) return absl::InvalidArgumentError("its cells do not make a canonical event");
  p.category = e.category;
  p.body_digest = chain::BodyDigest(salt, *ce);
  return p;
}

}  // namespace indelible::report
