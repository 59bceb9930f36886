#include "daemon/checkpointer.h"

#include <algorithm>

#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/text.h"

namespace indelible {

Checkpointer::Checkpointer(Storage* storage, Sequencer* sequencer, Clock* clock,
                           const chain::NoteSigner* signer, Options options)
    : storage_(storage), sequencer_(sequencer), clock_(clock), signer_(signer),
      options_(options) {}

Checkpointer::~Checkpointer() { Stop(); }

absl::Status Checkpointer::Init() {
  const auto& vk = signer_->verifier_key();
  std::string key = store::kSigningKeyPrefix;
  chain::PutU32(&key, vk.key_id);
  if (auto s = storage_->PutMeta(key, chain::NoteVerifierKeyString(vk)); !s.ok()) {
    return s;
  }
  std::lock_guard<std::mutex> l(run_mu_);
  for (const auto& [tenant, head] : sequencer_->AllHeads()) {
    auto note = storage_->GetCheckpoint(tenant, 0);
    if (absl::IsNotFound(note.status())) continue;
    if (!note.ok()) return note.status();
    // Parsed, not verified: it may be signed by an older key.
    size_t end = note->rfind("\n\n");
    auto cp = chain::ParseCheckpointText(
        std::string_view(*note).substr(0, end == std::string::npos ? 0 : end + 1));
    if (!cp.ok()) return cp.status();
    last_[tenant] = {cp->seq, cp->timestamp_ns};
  }
  for (const auto& [tenant, head] : sequencer_->AllHeads()) {
    auto v2 = storage_->GetCheckpointV2(tenant, 0);
    if (absl::IsNotFound(v2.status())) continue;
    if (!v2.ok()) return v2.status();
    const std::string& note = v2->second;
    size_t end = note.rfind("\n\n");
    auto cp = chain::ParseCheckpointV2Text(
        std::string_view(note).substr(0, end == std::string::npos ? 0 : end + 1));
    if (!cp.ok()) return cp.status();
    last_v2_[tenant] = {cp->size, cp->timestamp_ns};
  }
  return absl::OkStatus();
}

void Checkpointer::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    while (!stopping_) {
      cv_.wait_for(l, options_.interval, [this] { return stopping_; });
      l.unlock();
      if (auto s = RunOnce(); !s.ok()) {
        spdlog::error("event=checkpoint_failed status=\"{}\"", s.ToString());
      }
      l.lock();
    }
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status Checkpointer::RunOnce() {
  std::lock_guard<std::mutex> l(run_mu_);
  for (const auto& [tenant, head] : sequencer_->AllHeads()) {
    Last& last = last_[tenant];
    if (last.seq >= head.seq) continue;
    // Never sign a head whose chain is known to be damaged.
    if (sequencer_->Quarantined(tenant)) continue;
    chain::Checkpoint cp;
    cp.tenant = tenant;
    cp.seq = head.seq;
    cp.head = head.entry_hash;
    // Never earlier than the record it covers or the previous checkpoint,
    // whatever the clock says: the history's times never go backwards.
    cp.timestamp_ns = std::max({clock_->NowNanos(), head.received_at_ns,
                                last.timestamp_ns});
    const std::string note = signer_->Sign(chain::CheckpointText(cp));
    if (auto s = storage_->PutCheckpoint(tenant, head.seq, note); !s.ok()) {
      return s;
    }
    last = {head.seq, cp.timestamp_ns};
  }
  for (const auto& [tenant, head] : sequencer_->AllHeads()) {
    Last& last = last_v2_[tenant];
    if (last.seq >= head.seq || sequencer_->Quarantined(tenant)) continue;
    // The head is durable, so every node of the tree of its size is stored.
    auto range = storage_->LoadCompactRange(tenant, head.seq);
    if (!range.ok()) return range.status();
    chain::CheckpointV2 cp;
    cp.log_name = options_.log_name;
    cp.tenant = tenant;
    cp.size = head.seq;
    cp.root = range->Root();
    cp.chain_head = head.entry_hash;
    cp.timestamp_ns = std::max({clock_->NowNanos(), head.received_at_ns,
                                last.timestamp_ns});
    const std::string note = signer_->Sign(chain::CheckpointV2Text(cp));
    if (auto s = storage_->PutCheckpointV2(tenant, head.seq, note); !s.ok()) return s;
    last = {head.seq, cp.timestamp_ns};
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, uint64_t>> Checkpointer::LastCheckpointTimes() {
  std::lock_guard<std::mutex> l(run_mu_);
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(last_.size());
  for (const auto& [tenant, last] : last_) out.emplace_back(tenant, last.timestamp_ns);
  return out;
}

}  // namespace indelible
