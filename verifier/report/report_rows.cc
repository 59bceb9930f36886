#include "verifier/report/report_rows.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
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

// RFC 3339 in UTC with nine fractional digits, as absl::FormatTime's
// "%Y-%m-%dT%H:%M:%E9SZ" writes it (the times are read as int64 ns), at a
// fraction of its cost: exports format two per row. Consecutive rows
// mostly fall in the same second, whose date and time are kept per thread.
void AppendTimeNs(std::string* out, uint64_t ns) {
  const auto sns = static_cast<int64_t>(ns);
  int64_t secs = sns / 1000000000;
  int64_t frac = sns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  // Fixed-width decimal fields, written by hand (snprintf cost more than
  // the rest of the row).
  thread_local int64_t cached_secs = INT64_MIN;
  thread_local char buf[30];
  auto put = [](int at, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
  };
  if (secs == cached_secs) {
    put(20, frac, 9);
    out->append(buf, sizeof buf);
    return;
  }
  const absl::CivilSecond cs =
      absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  cached_secs = secs;
  put(0, cs.year(), 4);
  buf[4] = '-';
  put(5, cs.month(), 2);
  buf[7] = '-';
  put(8, cs.day(), 2);
  buf[10] = 'T';
  put(11, cs.hour(), 2);
  buf[13] = ':';
  put(14, cs.minute(), 2);
  buf[16] = ':';
  put(17, cs.second(), 2);
  buf[19] = '.';
  put(20, frac, 9);
  buf[29] = 'Z';
  out->append(buf, sizeof buf);
}

// Sixteen bytes at a time where SSE2 is there: the reason and resource
// cells of a 512-byte event are long.
bool NeedsCsvQuotes(std::string_view v) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; i + 16 <= v.size(); i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v.data() + i));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, comma), _mm_cmpeq_epi8(b, quote)),
                     _mm_or_si128(_mm_cmpeq_epi8(b, cr), _mm_cmpeq_epi8(b, lf)));
    if (_mm_movemask_epi8(hit) != 0) return true;
  }
#endif
  for (; i < v.size(); ++i) {
    const char c = v[i];
    if (c == ',' || c == '"' || c == '\r' || c == '\n') return true;
  }
  return false;
}

void AppendCsvField(std::string* out, std::string_view v, CsvFormulas formulas) {
  // A value that starts with the quote itself gets one too, so that
  // dropping one leading quote always gives the value back.
  const bool defuse = formulas == CsvFormulas::kDefuse &&
                      (StartsWithFormulaTrigger(v) || (!v.empty() && v.front() == '\''));
  if (!NeedsCsvQuotes(v)) {
    if (defuse) out->push_back('\'');
    out->append(v);
    return;
  }
  out->push_back('"');
  if (defuse) out->push_back('\'');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::string_view CsvFormulasName(CsvFormulas f) {
  return f == CsvFormulas::kDefuse ? "defuse" : "keep";
}

std::string FormatTimeNs(uint64_t ns) {
  std::string out;
  AppendTimeNs(&out, ns);
  return out;
}

std::string CsvField(std::string_view v, CsvFormulas formulas) {
  std::string out;
  AppendCsvField(&out, v, formulas);
  return out;
}

std::string CsvHeader() {
  return "tenant,seq,received_at,occurred_at,event_id,actor_id,actor_type,"
         "actor_ip,action,resource_type,resource_id,reason,outcome,source,"
         "category,metadata,entry_hash,salt\r\n";
}

std::string CsvRow(const Row& r, CsvFormulas formulas) {
  std::string out;
  AppendCsvRow(r, &out, formulas);
  return out;
}

void AppendCsvRow(const Row& r, std::string* out_ptr, CsvFormulas formulas) {
  const chain::EventFields& e = r.event;
  std::string& out = *out_ptr;
  out.reserve(out.size() + 192 + e.reason.size() + e.resource_id.size());
  auto text = [&out, formulas](std::string_view v) {
    AppendCsvField(&out, v, formulas);
    out.push_back(',');
  };
  // Numbers, times and hex never need quotes.
  text(e.tenant);
  absl::StrAppend(&out, r.seq, ",");
  AppendTimeNs(&out, r.received_at_ns);
  out.push_back(',');
  AppendTimeNs(&out, e.occurred_at_ns);
  out.push_back(',');
  for (const std::string* f : {&e.event_id, &e.actor_id, &e.actor_type, &e.actor_ip,
                               &e.action, &e.resource_type, &e.resource_id, &e.reason,
                               &e.outcome, &e.source, &e.category}) {
    text(*f);
  }
  if (e.metadata.empty()) {
    out.append("{},");
  } else {
    text(MetadataObject(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  out.append(chain::ToHex(r.entry_hash));
  out.push_back(',');
  out.append(chain::ToHex(r.salt));
  out.append("\r\n");
}

std::string JsonOpening(std::string_view tenant) {
  nlohmann::json t = std::string(tenant);
  return "{\"format\":\"indelible-report/v1\",\"tenant\":" + t.dump() +
         ",\"rows\":[\n";
}

void AppendJsonRow(const Row& r, std::string* out) { out->append(JsonRow(r)); }

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

RowWriter::RowWriter(Format format, std::string tenant, Sink sink, CsvFormulas formulas)
    : format_(format),
      formulas_(formulas),
      tenant_(std::move(tenant)),
      sink_(std::move(sink)) {}

void RowWriter::Begin() {
  sink_(format_ == Format::kCsv ? CsvHeader() : JsonOpening(tenant_));
}

void RowWriter::Add(const Row& row) {
  if (format_ == Format::kCsv) {
    sink_(CsvRow(row, formulas_));
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
