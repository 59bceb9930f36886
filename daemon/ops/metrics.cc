#include "daemon/ops/metrics.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace indelible {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string CodeLabel(int code) {
  std::string s = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Histogram::Histogram(std::vector<double> upper_bounds, double scale)
    : bounds_(std::move(upper_bounds)), scale_(scale), buckets_(bounds_.size() + 1) {}

void Histogram::Observe(uint64_t raw) {
  const double v = static_cast<double>(raw) / scale_;
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_raw_.fetch_add(raw, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, std::string* out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    absl::StrAppend(out, name, "_bucket{le=\"", Num(bounds_[i]), "\"} ", cumulative, "\n");
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  absl::StrAppend(out, name, "_bucket{le=\"+Inf\"} ", cumulative, "\n");
  absl::StrAppend(out, name, "_sum ",
                  Num(static_cast<double>(sum_raw_.load(std::memory_order_relaxed)) / scale_),
                  "\n");
  absl::StrAppend(out, name, "_count ", cumulative, "\n");
}

Metrics::Metrics()
    : batch_events_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}, 1),
      commit_seconds_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                       0.5, 1, 2.5, 5},
                      1e9) {}

void Metrics::CountAppends(const absl::Status& status, uint64_t events) {
  if (absl::IsResourceExhausted(status)) {
    last_exhausted_.store(true, std::memory_order_relaxed);
  }
  const int code = static_cast<int>(status.code());
  if (code > 0 && code < static_cast<int>(rejected_.size())) {
    rejected_[code].fetch_add(events, std::memory_order_relaxed);
  }
}

void Metrics::CountAppendOk(uint64_t ok, uint64_t duplicate) {
  ok_.fetch_add(ok, std::memory_order_relaxed);
  duplicate_.fetch_add(duplicate, std::memory_order_relaxed);
  if (last_exhausted_.load(std::memory_order_relaxed)) {
    last_exhausted_.store(false, std::memory_order_relaxed);
  }
}

void Metrics::ObserveCommit(uint64_t events, uint64_t nanos) {
  batch_events_.Observe(events);
  commit_seconds_.Observe(nanos);
}

void Metrics::AddCollector(Collector c) { collectors_.push_back(std::move(c)); }

std::string Metrics::Render() const {
  std::string out;
  out +=
      "# HELP indelible_appends_total Appended events by outcome (ok, duplicate, "
      "or rejected with a status code).\n"
      "# TYPE indelible_appends_total counter\n";
  absl::StrAppend(&out, "indelible_appends_total{outcome=\"ok\",code=\"ok\"} ",
                  ok_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out, "indelible_appends_total{outcome=\"duplicate\",code=\"ok\"} ",
                  duplicate_.load(std::memory_order_relaxed), "\n");
  for (size_t c = 1; c < rejected_.size(); ++c) {
    const uint64_t v = rejected_[c].load(std::memory_order_relaxed);
    if (v == 0) continue;
    absl::StrAppend(&out, "indelible_appends_total{outcome=\"rejected\",code=\"",
                    CodeLabel(static_cast<int>(c)), "\"} ", v, "\n");
  }
  out +=
      "# HELP indelible_commit_batch_events Events per group commit.\n"
      "# TYPE indelible_commit_batch_events histogram\n";
  batch_events_.Render("indelible_commit_batch_events", &out);
  out +=
      "# HELP indelible_commit_duration_seconds Time from building a group "
      "to its durable write (build, wait for the previous group, write and "
      "fsync).\n"
      "# TYPE indelible_commit_duration_seconds histogram\n";
  commit_seconds_.Render("indelible_commit_duration_seconds", &out);
  absl::StrAppend(&out,
                  "# HELP indelible_sequencer_queue_events Events waiting for the "
                  "sequencer.\n# TYPE indelible_sequencer_queue_events gauge\n"
                  "indelible_sequencer_queue_events ",
                  queue_depth_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out,
                  "# HELP indelible_ingest_held_events Events admitted and not yet "
                  "answered (bounded by max_queued_events).\n"
                  "# TYPE indelible_ingest_held_events gauge\n"
                  "indelible_ingest_held_events ",
                  held_events_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out,
                  "# HELP indelible_ingest_reserved_events Room reserved for the "
                  "resends of refused Append/AppendBatch calls.\n"
                  "# TYPE indelible_ingest_reserved_events gauge\n"
                  "indelible_ingest_reserved_events ",
                  reserved_events_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out,
                  "# HELP indelible_ingest_backpressure_total Appends refused with "
                  "RESOURCE_EXHAUSTED and stream reads paused at max_queued_events.\n"
                  "# TYPE indelible_ingest_backpressure_total counter\n"
                  "indelible_ingest_backpressure_total{action=\"refused\"} ",
                  refused_.load(std::memory_order_relaxed),
                  "\nindelible_ingest_backpressure_total{action=\"paused\"} ",
                  paused_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out,
                  "# HELP indelible_purges_total Tenants purged.\n"
                  "# TYPE indelible_purges_total counter\nindelible_purges_total ",
                  purges_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out,
                  "# HELP indelible_proofs_total Merkle proof requests (not recorded in "
                  "the chain).\n# TYPE indelible_proofs_total counter\n"
                  "indelible_proofs_total{outcome=\"served\"} ",
                  proofs_ok_.load(std::memory_order_relaxed),
                  "\nindelible_proofs_total{outcome=\"refused\"} ",
                  proofs_refused_.load(std::memory_order_relaxed), "\n");
  for (const Collector& c : collectors_) c(&out);
  return out;
}

}  // namespace indelible
