// WitnessSender: the quorum state of each tenant, health and metrics.
#include <chrono>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/ops/metrics.h"
#include "daemon/trust/witnessing.h"
#include "daemon/trust/witnessing_witness.h"
#include "spdlog/spdlog.h"

namespace indelible {

void WitnessSender::Observe(const std::string& tenant, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  TenantQuorum& q = quorum_[tenant];
  if (size <= q.size) return;
  q.size = size;
  q.cosigned.clear();
  // Continuous: a tenant below quorum stays so from when it first was.
  if (!q.below_since) q.below_since = std::chrono::steady_clock::now();
}

void WitnessSender::MarkCosigned(size_t w, const std::string& tenant, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  TenantQuorum& q = quorum_[tenant];
  if (size != q.size) return;
  const bool inserted = q.cosigned.insert(w).second;
  if (inserted) ++cosigned_total_[w];
  if (q.cosigned.size() >= options_.quorum && (q.below_since || q.inconsistent)) {
    q.below_since.reset();
    q.inconsistent = false;
    spdlog::info("event=witness_quorum tenant={} size={} cosignatures={}", tenant, size,
                 q.cosigned.size());
  }
}

void WitnessSender::MarkInconsistent(const std::string& tenant, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  TenantQuorum& q = quorum_[tenant];
  if (size == q.size) q.inconsistent = true;
}

void WitnessSender::CountFailure(size_t w, const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  ++failures_[{w, reason}];
}

double WitnessSender::BelowQuorumSeconds() const {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  double worst = 0;
  for (const auto& [tenant, q] : quorum_) {
    if (!q.below_since) continue;
    worst = std::max(worst, std::chrono::duration<double>(now - *q.below_since).count());
  }
  return worst;
}

bool WitnessSender::Healthy(std::string* reason) const {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [tenant, q] : quorum_) {
    if (q.inconsistent) {
      if (reason) *reason = "witness_refused_inconsistent tenant=" + tenant;
      return false;
    }
    if (q.below_since && now - *q.below_since > options_.grace) {
      if (reason) *reason = "below_quorum tenant=" + tenant;
      return false;
    }
  }
  return true;
}

void WitnessSender::RenderMetrics(std::string* out) const {
  std::map<std::string, uint64_t> sizes;
  for (const auto& [tenant, size] : tenants_()) sizes[tenant] = size;
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  absl::StrAppend(out,
                  "# HELP indelible_witness_quorum Cosignatures a checkpoint needs to be at "
                  "quorum (witness_quorum).\n# TYPE indelible_witness_quorum gauge\n"
                  "indelible_witness_quorum ", options_.quorum, "\n");
  *out +=
      "# HELP indelible_witness_cosigned_size The newest checkpoint size of the tenant the "
      "witness cosigned (since the daemon started).\n"
      "# TYPE indelible_witness_cosigned_size gauge\n";
  for (const auto& [key, p] : pairs_) {
    absl::StrAppend(out, "indelible_witness_cosigned_size{witness=\"",
                    EscapeLabelValue(witnesses_[key.first]->config.name), "\",tenant=\"",
                    EscapeLabelValue(key.second), "\"} ", p.cosigned_size, "\n");
  }
  *out +=
      "# HELP indelible_witness_lag Records of the tenant not yet covered by a checkpoint the "
      "witness cosigned (tenant size - cosigned size).\n"
      "# TYPE indelible_witness_lag gauge\n";
  for (const auto& [key, p] : pairs_) {
    auto it = sizes.find(key.second);
    const uint64_t size = it == sizes.end() ? 0 : it->second;
    absl::StrAppend(out, "indelible_witness_lag{witness=\"",
                    EscapeLabelValue(witnesses_[key.first]->config.name), "\",tenant=\"",
                    EscapeLabelValue(key.second), "\"} ",
                    size > p.cosigned_size ? size - p.cosigned_size : 0, "\n");
  }
  *out +=
      "# HELP indelible_witness_cosignatures_total Checkpoints the witness cosigned.\n"
      "# TYPE indelible_witness_cosignatures_total counter\n";
  for (size_t w = 0; w < witnesses_.size(); ++w) {
    auto it = cosigned_total_.find(w);
    absl::StrAppend(out, "indelible_witness_cosignatures_total{witness=\"",
                    EscapeLabelValue(witnesses_[w]->config.name), "\"} ",
                    it == cosigned_total_.end() ? 0 : it->second, "\n");
  }
  *out +=
      "# HELP indelible_witness_failures_total Failed submissions by reason: inconsistent "
      "(the witness holds a tree the checkpoint does not extend), bad_cosignature, "
      "unreachable, http_<status>, internal.\n"
      "# TYPE indelible_witness_failures_total counter\n";
  for (const auto& [key, n] : failures_) {
    absl::StrAppend(out, "indelible_witness_failures_total{witness=\"",
                    EscapeLabelValue(witnesses_[key.first]->config.name), "\",reason=\"",
                    EscapeLabelValue(key.second), "\"} ", n, "\n");
  }
  double worst = 0;
  size_t below = 0;
  for (const auto& [tenant, q] : quorum_) {
    if (!q.below_since) continue;
    ++below;
    worst = std::max(worst, std::chrono::duration<double>(now - *q.below_since).count());
  }
  absl::StrAppend(
      out,
      "# HELP indelible_witness_below_quorum_seconds Seconds the tenant longest without a "
      "newest checkpoint at quorum has been so; 0 if every tenant's is at quorum.\n"
      "# TYPE indelible_witness_below_quorum_seconds gauge\n"
      "indelible_witness_below_quorum_seconds ", worst, "\n",
      "# HELP indelible_witness_tenants_below_quorum Tenants whose newest checkpoint lacks "
      "quorum.\n# TYPE indelible_witness_tenants_below_quorum gauge\n"
      "indelible_witness_tenants_below_quorum ", below, "\n");
}

}  // namespace indelible
