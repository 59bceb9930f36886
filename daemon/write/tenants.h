// TenantTable: what the daemon knows about each tenant's chain — its head,
// the right edge of its Merkle tree (the frontier), whether it was purged
// and whether it is quarantined.
//
// Two views of the heads: the durable ones (what GetHead, checkpoints and
// reads see; they change only after a group's synced write) and, on the
// sequencer thread, the pending ones: the heads including groups handed to
// the committer but not yet durable, which the next group links onto. The
// frontiers exist only in the pending view (the sequencer thread is the
// only one that grows or reads them).
//
// A purged tenant keeps its deletion certificate, and its id can never be
// used again. A quarantined tenant's stored chain is damaged (a table file
// failed its checksum, or its head does not match its last record): it is
// never extended; quarantine lasts until the process exits (the next start
// checks again).
//
// Thread-safe: the durable view (GetHead, AllHeads, PurgeCertificate,
// Quarantined, Quarantine, Admit, SetDurable) may be used from any thread.
// The pending view (PendingHead, PendingFrontier, Publish, ClearPending,
// Purged) and the loaders belong to the sequencer thread, or to whoever
// owns the table before that thread starts.
#ifndef INDELIBLE_DAEMON_WRITE_TENANTS_H_
#define INDELIBLE_DAEMON_WRITE_TENANTS_H_

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "daemon/write/storage.h"
#include "verifier/chain/merkle.h"

namespace indelible {

using HeadMap = std::unordered_map<std::string, store::Head>;
using FrontierMap = std::unordered_map<std::string, chain::CompactRange>;

class TenantTable {
 public:
  // REQUIRES: storage outlives the table.
  explicit TenantTable(Storage* storage) : storage_(storage) {}
  TenantTable(const TenantTable&) = delete;
  TenantTable& operator=(const TenantTable&) = delete;

  // Replaces the durable heads and the purged tenants with the stored ones.
  absl::Status LoadHeads();
  // Reads each tenant's first and head skeletons (checksums verified) and
  // quarantines the tenants whose rows are damaged or disagree with the head.
  absl::Status CheckHeads();
  // Replaces the frontiers with the stored trees at the durable heads; a
  // tenant whose nodes are missing or damaged is quarantined.
  absl::Status LoadFrontiers();

  // The durable head of `tenant` (seq 0 and genesis if it has no records).
  store::Head GetHead(const std::string& tenant);
  // The durable heads of all tenants with records.
  std::vector<std::pair<std::string, store::Head>> AllHeads();
  // The purge certificate of `tenant`, or nullopt if it was not purged.
  std::optional<std::string> PurgeCertificate(const std::string& tenant);
  // Why `tenant` is quarantined, or nullopt if it is not.
  std::optional<std::string> Quarantined(const std::string& tenant);
  // Quarantines `tenant` (logged once per call, kept until exit).
  void Quarantine(const std::string& tenant, const std::string& reason);
  // DataLoss naming `tenant` and the reason it is quarantined.
  static absl::Status QuarantineError(const std::string& tenant,
                                      const std::string& reason);
  // Whether records may be appended to `tenant`: FailedPrecondition if it
  // was purged, DataLoss (QuarantineError) if it is quarantined.
  absl::Status Admit(const std::string& tenant);
  // After a synced write: `heads` are durable.
  void SetDurable(const HeadMap& heads);

  // The head the next record of `tenant` links onto (pending, else durable).
  store::Head PendingHead(const std::string& tenant);
  // A copy of the frontier the next record of `tenant` is appended to.
  chain::CompactRange PendingFrontier(const std::string& tenant) const;
  // A group was handed to the committer: its heads and frontiers (moved
  // out of `frontiers`) are what later groups link onto.
  void Publish(const HeadMap& heads, FrontierMap* frontiers);
  // Everything handed over is durable (or was reloaded): the pending heads
  // are the durable ones again.
  void ClearPending() { pending_heads_.clear(); }
  // `tenant`'s content is deleted (synced): it keeps its final head (and
  // its skeletons and tree, hashes only) and its certificate; nothing is
  // appended to it again.
  void Purged(const std::string& tenant, const std::string& certificate);

 private:
  Storage* const storage_;

  std::mutex mu_;
  HeadMap heads_;                                            // guarded by mu_
  std::unordered_map<std::string, std::string> purged_;      // guarded by mu_
  std::unordered_map<std::string, std::string> quarantined_; // guarded by mu_

  // Sequencer thread only.
  HeadMap pending_heads_;
  FrontierMap frontiers_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_TENANTS_H_
