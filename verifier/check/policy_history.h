// PolicyHistory: judges a tenant's pruned records against the retention
// policies recorded in its own chain (docs/VERIFY.md, "Retention";
// docs/FORMAT.md section 15).
//
// Each policy record (category indelible.policy) is in force from its
// received_at until the next one's (the last one until `now`). A pruned
// record of category c received at t could lawfully lose its body at a
// time T in [p_i, end_i) of a policy i that is not a legal hold only if
// t + retention_i(c) <= T. So it is judged lawful if some policy i, not a
// hold, has t + retention_i(c) <= end_i; otherwise the body went missing
// earlier than any recorded policy allowed (or while a hold was in force):
// an early_prune finding at its seq. Records of categories indelible.* are
// never pruned lawfully. A record whose category is unknown (its leaf was
// pruned before the tree existed: category "") is judged by the shortest
// retention of each policy.
//
// Fed in seq order; the judgement needs the whole history, so pruned
// records wait until Finish() unless a policy that has ended already allowed
// them: memory is 24 bytes per pruned record not yet settled.
//
// Thread-compatible: one tenant, one thread.
#ifndef INDELIBLE_VERIFIER_CHECK_POLICY_HISTORY_H_
#define INDELIBLE_VERIFIER_CHECK_POLICY_HISTORY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "verifier/chain/retention_policy.h"

namespace indelible::check {

class PolicyHistory {
 public:
  struct Early {
    uint64_t seq = 0;
    std::string detail;
  };

  explicit PolicyHistory(std::string tenant) : tenant_(std::move(tenant)) {}

  // A record with its body (CE). If it is a policy record, it starts a new
  // policy; returns why it cannot be read ("" if it can, or if it is not a
  // policy record).
  std::string AddRecord(uint64_t seq, uint64_t received_at_ns, std::string_view ce);
  // A record without a body; `category` is its leaf's (empty: unknown).
  void AddPruned(uint64_t seq, uint64_t received_at_ns, std::string_view category);

  // The pruned records no recorded policy allowed to lose their bodies by
  // `now_ns`, in seq order.
  std::vector<Early> Finish(uint64_t now_ns);

  size_t policies() const { return policies_.size(); }

 private:
  struct Policy {
    uint64_t seq = 0;
    uint64_t from_ns = 0;
    chain::RetentionPolicy p;
  };
  struct Pruned {
    uint64_t seq = 0;
    uint64_t received_at_ns = 0;
    uint32_t category = 0;  // index into categories_
  };
  // Whether policy i, in force until end_ns, allowed pruning `r`.
  bool Allows(const Policy& policy, uint64_t end_ns, const Pruned& r) const;
  std::string Why(const Pruned& r, uint64_t now_ns) const;

  std::string tenant_;
  std::vector<Policy> policies_;
  std::vector<std::string> categories_;
  std::vector<Pruned> pending_;
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_POLICY_HISTORY_H_
