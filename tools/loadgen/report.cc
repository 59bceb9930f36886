#include "tools/loadgen/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace indelible::tools {
namespace {

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

double WindowSeconds(const RunStats& s) {
  const int64_t w = s.last_completion_ns() - s.measure_start_ns();
  return w > 0 ? static_cast<double>(w) / 1e9 : 0;
}

double PerSecond(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

}  // namespace

std::string ModeName(Mode m) {
  switch (m) {
    case Mode::kUnary: return "unary";
    case Mode::kBatch: return "batch";
    case Mode::kStream: return "stream";
  }
  return "?";
}

nlohmann::json ToJson(const RunReport& r) {
  const LoadOptions& o = *r.options;
  const RunStats& s = *r.stats;
  const LatencyHistogram& h = s.latency();
  const double secs = WindowSeconds(s);
  nlohmann::json j;
  j["mode"] = ModeName(o.mode);
  j["target"] = o.target;
  j["inflight"] = o.mode == Mode::kStream ? 0 : o.inflight;
  j["batch"] = o.mode == Mode::kUnary ? 1 : o.batch;
  j["streams"] = o.mode == Mode::kStream ? o.streams : 0;
  j["stream_window"] = o.mode == Mode::kStream ? o.stream_window : 0;
  j["tenants"] = o.tenants;
  j["event_bytes"] = r.event_bytes;
  j["rate_offered"] = o.rate;
  j["warmup_s"] = o.warmup_s;
  j["seconds"] = secs;
  j["events"] = s.measured_events();
  j["events_per_s"] = PerSecond(s.measured_events(), secs);
  j["calls"] = s.measured_calls();
  j["calls_per_s"] = PerSecond(s.measured_calls(), secs);
  j["acknowledged_events"] = s.acknowledged_events();
  j["latency_ms"] = {{"count", h.Count()},
                     {"p50", Ms(h.Quantile(0.50))},
                     {"p95", Ms(h.Quantile(0.95))},
                     {"p99", Ms(h.Quantile(0.99))},
                     {"max", Ms(h.Max())}};
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [code, n] : s.Errors()) errors[code] = n;
  j["errors"] = errors;
  j["error_count"] = s.ErrorCount();
  j["backpressure_retries"] = s.retries();
  nlohmann::json messages = nlohmann::json::object();
  for (const auto& [code, m] : s.FirstMessages()) messages[code] = m;
  j["error_messages"] = messages;
  const VerifyResult& v = r.verify;
  j["verify"] = {{"mode", v.mode},
                 {"ok", v.mode == "none" || v.ok()},
                 {"receipts", v.receipts},
                 {"verified", v.verified},
                 {"missing", v.missing},
                 {"mismatched", v.mismatched},
                 {"chain_errors", v.chain_errors},
                 {"records", v.records},
                 {"unacknowledged_records", v.unacknowledged},
                 {"malformed_receipts", v.malformed},
                 {"duplicate_receipts", v.duplicates},
                 {"seconds", v.seconds},
                 {"error", v.error}};
  return j;
}

std::string ToText(const RunReport& r) {
  const LoadOptions& o = *r.options;
  const RunStats& s = *r.stats;
  const LatencyHistogram& h = s.latency();
  const double secs = WindowSeconds(s);
  std::string out = absl::StrFormat(
      "mode=%s target=%s tenants=%d event_bytes=%d", ModeName(o.mode), o.target,
      o.tenants, r.event_bytes);
  if (o.mode == Mode::kStream) {
    absl::StrAppendFormat(&out, " streams=%d window=%d batch=%d", o.streams,
                          o.stream_window, o.batch);
  } else {
    absl::StrAppendFormat(&out, " inflight=%d batch=%d", o.inflight,
                          o.mode == Mode::kBatch ? o.batch : 1);
  }
  if (o.rate > 0) absl::StrAppendFormat(&out, " rate=%.0f/s", o.rate);
  absl::StrAppendFormat(
      &out, "\nthroughput: %d events in %.2f s = %.0f events/s (%.0f calls/s)\n",
      s.measured_events(), secs, PerSecond(s.measured_events(), secs),
      PerSecond(s.measured_calls(), secs));
  absl::StrAppendFormat(
      &out, "latency ms: p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (%d calls)\n",
      Ms(h.Quantile(0.50)), Ms(h.Quantile(0.95)), Ms(h.Quantile(0.99)),
      Ms(h.Max()), h.Count());
  out += "errors:";
  if (s.ErrorCount() == 0) out += " none";
  for (const auto& [code, n] : s.Errors()) absl::StrAppend(&out, " ", code, "=", n);
  out += "\n";
  if (s.retries() > 0) {
    absl::StrAppend(&out, "back-pressure retries: ", s.retries(), "\n");
  }
  for (const auto& [code, m] : s.FirstMessages()) {
    absl::StrAppend(&out, "  first ", code, ": ", m, "\n");
  }
  const VerifyResult& v = r.verify;
  if (v.mode == "none") {
    out += "verify: skipped\n";
  } else {
    absl::StrAppendFormat(
        &out,
        "verify (%s): %s — %d receipts, %d verified, %d missing, %d mismatched, "
        "%d chain errors, %d records read, %d unacknowledged, %d malformed, "
        "%d duplicate (%.1f s)\n",
        v.mode, v.ok() ? "OK" : "FAILED", v.receipts, v.verified, v.missing,
        v.mismatched, v.chain_errors, v.records, v.unacknowledged, v.malformed,
        v.duplicates, v.seconds);
    if (!v.error.empty()) absl::StrAppend(&out, "verify error: ", v.error, "\n");
  }
  return out;
}

}  // namespace indelible::tools
