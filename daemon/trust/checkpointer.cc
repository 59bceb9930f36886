#include "daemon/trust/checkpointer.h"

#include <algorithm>

#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"

namespace indelible {

Checkpointer::Checkpointer(Storage* storage, Sequencer* sequencer, Clock* clock,
                           LogSigner* signer, Options options)
    : storage_(storage), sequencer_(sequencer), clock_(clock), signer_(signer),
      options_(options),
      task_({.name = "checkpointer", .interval = options_.interval, .run_at_stop = true},
            [this] {
              if (auto s = RunOnce(); !s.ok()) {
                spdlog::error("event=checkpoint_failed status=\"{}\"", s.ToString());
              }
            }) {}

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

void Checkpointer::Start() { task_.Start(); }

void Checkpointer::Stop() { task_.Stop(); }

absl::StatusOr<std::pair<chain::CheckpointV2, SignedCheckpoint>> Checkpointer::SignHead(
    const std::string& tenant, const store::Head& head,
    const std::vector<std::string>* deletion, bool* signer_failed) {
  *signer_failed = false;
  // The head is durable, so every node of the tree of its size is stored.
  auto range = storage_->LoadCompactRange(tenant, head.seq);
  if (!range.ok()) return range.status();
  const Last& v1 = last_[tenant];
  const Last& v2 = last_v2_[tenant];
  chain::CheckpointV2 cp;
  cp.log_name = options_.log_name;
  cp.tenant = tenant;
  cp.size = head.seq;
  cp.root = range->Root();
  cp.chain_head = head.entry_hash;
  // Never earlier than the record it covers or the previous checkpoint,
  // whatever the clock says: the history's times never go backwards.
  cp.timestamp_ns = std::max({clock_->NowNanos(), head.received_at_ns, v1.timestamp_ns,
                              v2.timestamp_ns});
  // A failure to read the proof is the store's, not the signer's.
  absl::Status proof_error;
  auto proof = [&](uint64_t old_size) {
    auto hashes = chain::ConsistencyProof(
        old_size, head.seq, [&](chain::NodeId n) -> absl::StatusOr<chain::Digest> {
          auto h = storage_->GetTreeNodes(tenant, {n});
          if (!h.ok()) return h.status();
          return (*h)[0];
        });
    if (!hashes.ok()) proof_error = hashes.status();
    return hashes;
  };
  auto signed_cp = signer_->Sign(cp, deletion, std::min(v2.seq, head.seq), proof);
  if (!proof_error.ok()) return proof_error;
  if (!signed_cp.ok()) {
    *signer_failed = true;
    const bool refused = absl::IsPermissionDenied(signed_cp.status());
    (refused ? refused_ : unavailable_).fetch_add(1);
    spdlog::error("event={} tenant={} size={} status=\"{}\"",
                  refused ? "checkpoint_refused" : "checkpoint_unsigned", tenant, head.seq,
                  signed_cp.status().ToString());
    return signed_cp.status();
  }
  return std::make_pair(cp, *std::move(signed_cp));
}

bool Checkpointer::Preface(const std::string& tenant, store::Head* head) {
  if (!options_.before_first || last_[tenant].seq > 0 || last_v2_[tenant].seq > 0 ||
      prefaced_.count(tenant) > 0) {
    return true;
  }
  if (absl::Status s = options_.before_first(tenant); !s.ok()) {
    spdlog::error("event=first_checkpoint_deferred tenant={} status=\"{}\"", tenant,
                  s.ToString());
    return false;
  }
  prefaced_.insert(tenant);
  *head = sequencer_->GetHead(tenant);
  return true;
}

absl::Status Checkpointer::RunOnce() {
  std::lock_guard<std::mutex> l(run_mu_);
  // A round's checkpoints are stored together, tenants_per_write at a
  // time: one synced write for many tenants. Signed checkpoints wait no
  // longer than an interval, nor behind a failing signer's time-outs.
  std::vector<Staged> staged;
  std::chrono::steady_clock::time_point first_staged;
  absl::Status status;
  for (auto [tenant, head] : sequencer_->AllHeads()) {
    Last& v1 = last_[tenant];
    Last& v2 = last_v2_[tenant];
    if (v1.seq >= head.seq && v2.seq >= head.seq) continue;
    // Never sign a head whose chain is known to be damaged.
    if (sequencer_->Quarantined(tenant)) continue;
    if (!Preface(tenant, &head)) continue;
    bool signer_failed = false;
    auto signed_cp = SignHead(tenant, head, /*deletion=*/nullptr, &signer_failed);
    if (!signed_cp.ok()) {
      // Refused or unsigned (logged and counted): no checkpoint is stored.
      if (!signer_failed) {
        status = signed_cp.status();
        break;
      }
      if (absl::Status s = StoreStaged(&staged); !s.ok()) return s;
      continue;
    }
    if (staged.empty()) first_staged = std::chrono::steady_clock::now();
    Stage(tenant, signed_cp->first, signed_cp->second, &staged);
    if (staged.size() >= options_.tenants_per_write ||
        std::chrono::steady_clock::now() - first_staged >= options_.interval) {
      if (absl::Status s = StoreStaged(&staged); !s.ok()) return s;
    }
  }
  // What was signed before a failed read is stored all the same.
  if (absl::Status s = StoreStaged(&staged); !s.ok()) return s;
  return status;
}

void Checkpointer::Stage(const std::string& tenant, const chain::CheckpointV2& cp,
                         const SignedCheckpoint& notes, std::vector<Staged>* staged) {
  Staged st;
  st.notes.tenant = tenant;
  st.notes.size = cp.size;
  st.timestamp_ns = cp.timestamp_ns;
  if (last_v2_[tenant].seq < cp.size) st.notes.v2 = notes.v2;
  if (last_[tenant].seq < cp.size) st.notes.v1 = notes.v1;
  staged->push_back(std::move(st));
}

absl::Status Checkpointer::StoreStaged(std::vector<Staged>* staged) {
  if (staged->empty()) return absl::OkStatus();
  std::vector<Storage::CheckpointNotes> notes;
  notes.reserve(staged->size());
  for (Staged& st : *staged) notes.push_back(std::move(st.notes));
  if (auto s = storage_->PutCheckpoints(notes); !s.ok()) {
    staged->clear();
    return s;
  }
  // Only what is stored counts as the tenant's last checkpoint.
  for (size_t i = 0; i < notes.size(); ++i) {
    const Storage::CheckpointNotes& n = notes[i];
    const Last last{n.size, (*staged)[i].timestamp_ns};
    if (!n.v2.empty()) last_v2_[n.tenant] = last;
    if (!n.v1.empty()) last_[n.tenant] = last;
  }
  staged->clear();
  return absl::OkStatus();
}

absl::StatusOr<std::string> Checkpointer::SignDeletion(
    const std::string& tenant, const store::Head& head,
    const std::vector<std::string>& approvers) {
  std::lock_guard<std::mutex> l(run_mu_);
  bool signer_failed = false;
  auto signed_cp = SignHead(tenant, head, &approvers, &signer_failed);
  if (!signed_cp.ok()) return signed_cp.status();
  // A checkpoint of a durable head holds whether or not the purge goes
  // ahead; stored, it is the purged tenant's final one.
  std::vector<Staged> staged;
  Stage(tenant, signed_cp->first, signed_cp->second, &staged);
  if (auto s = StoreStaged(&staged); !s.ok()) return s;
  return signed_cp->second.deletion;
}

std::vector<std::pair<std::string, uint64_t>> Checkpointer::LastCheckpointTimes() {
  std::lock_guard<std::mutex> l(run_mu_);
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(last_.size());
  for (const auto& [tenant, last] : last_) out.emplace_back(tenant, last.timestamp_ns);
  return out;
}

}  // namespace indelible
