#include "tools/loadgen/run_stats.h"

namespace indelible::tools {

std::string StatusCodeName(int code) {
  static const char* const kNames[RunStats::kCodes] = {
      "OK",           "CANCELLED",        "UNKNOWN",
      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",
      "DATA_LOSS",    "UNAUTHENTICATED"};
  if (code < 0 || code >= RunStats::kCodes) return "CODE_" + std::to_string(code);
  return kNames[code];
}

void RunStats::RecordCall(int64_t start_ns, int64_t end_ns,
                          const grpc::Status& status, int events) {
  if (!status.ok()) return RecordErrors(status, 1);
  acked_events_.fetch_add(events, std::memory_order_relaxed);
  if (end_ns >= measure_start_ns_) {
    measured_events_.fetch_add(events, std::memory_order_relaxed);
    measured_calls_.fetch_add(1, std::memory_order_relaxed);
    int64_t last = last_end_ns_.load(std::memory_order_relaxed);
    while (end_ns > last && !last_end_ns_.compare_exchange_weak(
                                last, end_ns, std::memory_order_relaxed)) {
    }
  }
  if (start_ns >= measure_start_ns_) {
    latency_.Record(static_cast<uint64_t>(end_ns > start_ns ? end_ns - start_ns : 0));
  }
}

void RunStats::RecordErrors(const grpc::Status& status, uint64_t calls) {
  int c = static_cast<int>(status.error_code());
  if (c < 0 || c >= kCodes) c = static_cast<int>(grpc::StatusCode::UNKNOWN);
  if (errors_[c].fetch_add(calls, std::memory_order_relaxed) == 0) {
    std::lock_guard<std::mutex> l(mu_);
    if (first_message_[c].empty()) first_message_[c] = status.error_message();
  }
}

std::vector<std::pair<std::string, std::string>> RunStats::FirstMessages() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard<std::mutex> l(mu_);
  for (int c = 1; c < kCodes; ++c) {
    if (!first_message_[c].empty()) {
      out.emplace_back(StatusCodeName(c), first_message_[c]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> RunStats::Errors() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (int c = 1; c < kCodes; ++c) {
    if (uint64_t n = errors_[c].load()) out.emplace_back(StatusCodeName(c), n);
  }
  return out;
}

uint64_t RunStats::ErrorCount() const {
  uint64_t n = 0;
  for (int c = 1; c < kCodes; ++c) n += errors_[c].load();
  return n;
}

ReceiptLog::ReceiptLog(const std::vector<std::string>& tenants)
    : by_tenant_(tenants.size()) {
  for (size_t i = 0; i < tenants.size(); ++i) index_.emplace(tenants[i], i);
}

bool ReceiptLog::AddLocked(const v1::Receipt& r) {
  auto it = index_.find(r.tenant());
  Entry e;
  if (it == index_.end() || !chain::DigestFromBytes(r.entry_hash(), &e.entry_hash)) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (r.duplicate()) duplicates_.fetch_add(1, std::memory_order_relaxed);
  e.seq = r.seq();
  by_tenant_[it->second].push_back(e);
  return true;
}

void ReceiptLog::AddAll(const v1::Receipt* const* rs, int n) {
  uint64_t added = 0;
  std::lock_guard<std::mutex> l(mu_);
  for (int i = 0; i < n; ++i) added += AddLocked(*rs[i]);
  size_.fetch_add(added, std::memory_order_relaxed);
}

void ReceiptLog::AddAll(const v1::Receipt* rs, int n) {
  uint64_t added = 0;
  std::lock_guard<std::mutex> l(mu_);
  for (int i = 0; i < n; ++i) added += AddLocked(rs[i]);
  size_.fetch_add(added, std::memory_order_relaxed);
}

}  // namespace indelible::tools
