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
        counters_(counters) {
    // Index entries received after this have not expired under any policy:
    // kept without looking the tenant's policy up (most entries, and what
    // the flushes of new events give every compaction).
    const uint64_t shortest_ns = snapshot_->ShortestRetentionSeconds() * kNanosPerSecond;
    fresh_after_ns_ = now_ns_ > shortest_ns ? now_ns_ - shortest_ns : 0;
  }

  bool Filter(int /*level*/, const rocksdb::Slice& key,
              const rocksdb::Slice& value, std::string* new_value,
              bool* value_changed) const override {
    try {
      if (target_ == RetentionTarget::kBodies) {
        return FilterRun(View(key), View(value), new_value, value_changed);
      }
      const bool drop = EventIdExpired(View(key), View(value));
      if (drop) counters_->event_ids_dropped.fetch_add(1, std::memory_order_relaxed);
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
  // A row of bodies (store::BodyRun): dropped when every body in it has
  // expired, rewritten without the expired ones when some have, kept as it
  // is otherwise. A body that does not decode is kept, and a row that does
  // not decode (BodyRun) is kept whole. The filter sees one row at a time:
  // a row that decodes but reaches into the next (store::BodyRecords) is
  // judged body by body like any other.
  bool FilterRun(std::string_view key, std::string_view row, std::string* new_value,
                 bool* value_changed) const {
    std::string_view tenant;
    uint64_t first;
    if (!store::ParseSeqKey(key, &tenant, &first)) return false;
    if (snapshot_->purged.count(tenant)) {
      CountDropped(store::BodyRun(first, row));
      return true;
    }
    // Most rows are above every horizon of their tenant: kept unread (the
    // key's seq is at or below every seq in the row).
    if (!snapshot_->BodyMayExpire(tenant, first)) return false;
    store::BodyRun run(first, row);
    uint64_t seq;
    std::string_view body;
    uint64_t dropped = 0;
    std::string kept;
    bool any_kept = false;
    while (run.Next(&seq, &body)) {
      // The body's own copy of received_at is covered by no hash: the
      // horizon, computed from the skeletons, decides.
      std::string_view salt, ce;
      bool expired = false;
      if (store::DecodeBody(body, &salt, &ce)) {
        auto category = chain::CanonicalEventCategory(ce);
        expired = category.ok() && snapshot_->BodyExpired(tenant, *category, seq);
      }
      if (expired) {
        ++dropped;
      } else {
        store::AppendToBodyRun(&kept, seq, body);
        any_kept = true;
      }
    }
    // A row that does not decode is kept as it is: rewritten, its rest
    // would be decoded from another seq, and the damage named elsewhere.
    if (dropped == 0 || run.malformed()) return false;
    counters_->bodies_dropped.fetch_add(dropped, std::memory_order_relaxed);
    if (!any_kept) return true;
    *new_value = std::move(kept);
    *value_changed = true;
    return false;
  }

  void CountDropped(store::BodyRun run) const {
    uint64_t seq, n = 0;
    std::string_view body;
    while (run.Next(&seq, &body)) ++n;
    counters_->bodies_dropped.fetch_add(n, std::memory_order_relaxed);
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
    if (received_at > fresh_after_ns_) return false;
    return snapshot_->Expired(tenant, category, received_at, now_ns_);
  }

  static constexpr uint64_t kNanosPerSecond = 1000000000ull;

  const RetentionTarget target_;
  const std::shared_ptr<const RetentionState::Snapshot> snapshot_;
  const uint64_t now_ns_;
  uint64_t fresh_after_ns_;
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
