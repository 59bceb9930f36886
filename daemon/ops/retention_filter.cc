#include "daemon/ops/retention_filter.h"

#include "verifier/chain/canonical_event.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(RetentionTarget target,
                  std::shared_ptr<const RetentionState::Snapshot> snapshot,
                  uint64_t now_ns, RetentionCounters* counters)
      : target_(target), snapshot_(std::move(snapshot)), now_ns_(now_ns),
        counters_(counters) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key,
              const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    try {
      const bool drop = target_ == RetentionTarget::kBodies
                            ? BodyExpired(View(key), View(value))
                            : EventIdExpired(View(key), View(value));
      if (drop) {
        (target_ == RetentionTarget::kBodies ? counters_->bodies_dropped
                                             : counters_->event_ids_dropped)
            .fetch_add(1, std::memory_order_relaxed);
      }
      return drop;
    } catch (...) {
      return false;  // keep what we cannot judge
    }
  }

  const char* Name() const override {
    return target_ == RetentionTarget::kBodies ? "indelible.retention.bodies"
                                               : "indelible.retention.event_ids";
  }

 private:
  bool BodyExpired(std::string_view key, std::string_view value) const {
    std::string_view tenant, salt, ce;
    uint64_t seq;
    if (!store::ParseSeqKey(key, &tenant, &seq)) return false;
    if (snapshot_->purged.count(tenant)) return true;
    // Most rows are above every horizon of their tenant: kept unread.
    if (!snapshot_->BodyMayExpire(tenant, seq)) return false;
    // The body's own copy of received_at is covered by no hash: the
    // horizon, computed from the skeletons, decides.
    if (!store::DecodeBody(value, &salt, &ce)) return false;
    auto category = chain::CanonicalEventCategory(ce);
    if (!category.ok()) return false;
    return snapshot_->BodyExpired(tenant, *category, seq);
  }

  bool EventIdExpired(std::string_view key, std::string_view value) const {
    std::string_view tenant, event_id;
    if (!store::ParseEventIdKey(key, &tenant, &event_id)) return false;
    if (snapshot_->purged.count(tenant)) return true;
    uint64_t seq, received_at;
    std::string_view category;
    if (!store::DecodeEventIdValue(value, &seq, &received_at, &category)) {
      return false;
    }
    return snapshot_->Expired(tenant, category, received_at, now_ns_);
  }

  const RetentionTarget target_;
  const std::shared_ptr<const RetentionState::Snapshot> snapshot_;
  const uint64_t now_ns_;
  RetentionCounters* const counters_;
};

class RetentionFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(RetentionTarget target, const RetentionState* state,
                         Clock* clock, RetentionCounters* counters)
      : target_(target), state_(state), clock_(clock), counters_(counters) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<RetentionFilter>(target_, state_->Get(),
                                             clock_->NowNanos(), counters_);
  }

  const char* Name() const override { return "indelible.retention"; }

 private:
  const RetentionTarget target_;
  const RetentionState* const state_;
  Clock* const clock_;
  RetentionCounters* const counters_;
};

}  // namespace

std::shared_ptr<rocksdb::CompactionFilterFactory> NewRetentionFilterFactory(
    RetentionTarget target, const RetentionState* state, Clock* clock,
    RetentionCounters* counters) {
  return std::make_shared<RetentionFilterFactory>(target, state, clock, counters);
}

}  // namespace indelible
