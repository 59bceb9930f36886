#include "tests/client/fake_audit_log.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <cstdlib>
#include <set>

#include "absl/strings/str_format.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/signing.h"
#include "wire/event_mapper.h"

namespace indelible::testing {
namespace {

uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

FakeAuditLog::FakeAuditLog() : signer_(TestSigner()) {}

chain::NoteSigner FakeAuditLog::TestSigner() {
  auto key = chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x07'));
  if (!key.ok()) std::abort();
  return chain::NoteSigner("fake-log", *std::move(key));
}

void FakeAuditLog::FailNext(int n, grpc::StatusCode code, std::string message) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_ = n;
  fail_code_ = code;
  fail_message_ = std::move(message);
}

void FakeAuditLog::LoseResponses(int n, grpc::StatusCode code) {
  std::lock_guard<std::mutex> l(mu_);
  lose_next_ = n;
  lose_code_ = code;
}

void FakeAuditLog::Block() {
  std::lock_guard<std::mutex> l(mu_);
  blocked_ = true;
}

void FakeAuditLog::Unblock() {
  {
    std::lock_guard<std::mutex> l(mu_);
    blocked_ = false;
  }
  cv_.notify_all();
}

bool FakeAuditLog::WaitForBlockedCalls(int n) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, std::chrono::seconds(10),
                      [&] { return blocked_calls_ >= n; });
}

void FakeAuditLog::SetMaxReadRecords(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  max_read_ = n;
}

void FakeAuditLog::ServeCheckpoint(std::optional<v1::Checkpoint> checkpoint) {
  std::lock_guard<std::mutex> l(mu_);
  served_checkpoint_ = std::move(checkpoint);
}

void FakeAuditLog::ServePublicKey(std::optional<v1::GetPublicKeyResponse> key) {
  std::lock_guard<std::mutex> l(mu_);
  served_key_ = std::move(key);
}

int FakeAuditLog::append_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return append_calls_;
}

std::vector<size_t> FakeAuditLog::batch_sizes() const {
  std::lock_guard<std::mutex> l(mu_);
  return batch_sizes_;
}

std::vector<v1::Event> FakeAuditLog::stored_events(
    const std::string& tenant) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<v1::Event> out;
  auto it = chains_.find(tenant);
  if (it == chains_.end()) return out;
  for (const v1::Record& r : it->second) out.push_back(r.event());
  return out;
}

void FakeAuditLog::WaitWhileBlocked(std::unique_lock<std::mutex>& l) {
  if (!blocked_) return;
  ++blocked_calls_;
  cv_.notify_all();
  cv_.wait(l, [&] { return !blocked_; });
  --blocked_calls_;
}

grpc::Status FakeAuditLog::Store(const std::vector<const v1::Event*>& events,
                                 bool batch,
                                 std::vector<v1::Receipt>* receipts) {
  std::unique_lock<std::mutex> l(mu_);
  ++append_calls_;
  batch_sizes_.push_back(events.size());
  WaitWhileBlocked(l);
  if (fail_next_ > 0) {
    --fail_next_;
    return grpc::Status(fail_code_, fail_message_);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::Event& e = *events[i];
    const std::string name =
        batch ? "events[" + std::to_string(i) + "]" : std::string("event");
    auto bad = [&](const std::string& field, const char* what) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          name + "." + field + ": " + what);
    };
    if (!chain::IsValidTenantId(e.tenant())) return bad("tenant", "malformed");
    if (e.event_id().empty()) return bad("event_id", "required");
    if (e.actor().id().empty()) return bad("actor.id", "required");
    if (e.action().empty()) return bad("action", "required");
  }
  std::set<std::string> grown;  // tenants to checkpoint
  for (const v1::Event* e : events) {
    auto key = std::make_pair(e->tenant(), e->event_id());
    if (auto it = by_event_id_.find(key); it != by_event_id_.end()) {
      receipts->push_back(it->second);
      receipts->back().set_duplicate(true);
      continue;
    }
    std::vector<v1::Record>& chain = chains_[e->tenant()];
    v1::Record r;
    *r.mutable_event() = *e;
    if (e->occurred_at_ns() == 0)
      r.mutable_event()->set_occurred_at_ns(NowNs());
    auto ce = chain::EncodeCanonicalEvent(EventFromProto(r.event()));
    if (!ce.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(ce.status().message()));
    }
    chain::Salt salt;
    if (!chain::RandomSalt(&salt).ok()) std::abort();
    chain::Digest prev = chain::Genesis(e->tenant());
    if (!chain.empty())
      chain::DigestFromBytes(chain.back().entry_hash(), &prev);
    last_received_at_ = std::max(last_received_at_ + 1, NowNs());
    const uint64_t seq = chain.size() + 1;
    const chain::Digest body = chain::BodyDigest(salt, *ce);
    const chain::Digest entry =
        chain::EntryHash(e->tenant(), seq, last_received_at_, prev, body);
    r.set_tenant(e->tenant());
    r.set_seq(seq);
    r.set_received_at_ns(last_received_at_);
    r.set_salt(std::string(chain::AsBytes(salt)));
    r.set_canonical_event(*ce);
    r.set_body_digest(std::string(chain::AsBytes(body)));
    r.set_entry_hash(std::string(chain::AsBytes(entry)));
    chain.push_back(r);
    v1::Receipt receipt;
    receipt.set_tenant(e->tenant());
    receipt.set_seq(seq);
    receipt.set_received_at_ns(last_received_at_);
    receipt.set_entry_hash(r.entry_hash());
    receipt.set_leaf_index(seq - 1);
    receipt.set_body_digest(r.body_digest());
    receipt.set_prev_entry_hash(std::string(chain::AsBytes(prev)));
    leaves_[e->tenant()].push_back(chain::LeafHash(
        entry, e->category().empty() ? "access" : e->category()));
    by_event_id_[key] = receipt;
    receipts->push_back(receipt);
    grown.insert(e->tenant());
  }
  for (const std::string& tenant : grown) {
    const v1::Record& head = chains_[tenant].back();
    chain::Checkpoint c;
    c.tenant = tenant;
    c.seq = head.seq();
    chain::DigestFromBytes(head.entry_hash(), &c.head);
    c.timestamp_ns = last_received_at_;
    v1::Checkpoint cp;
    cp.set_note(signer_.Sign(chain::CheckpointText(c)));
    cp.set_tenant(tenant);
    cp.set_seq(c.seq);
    cp.set_head_hash(head.entry_hash());
    cp.set_timestamp_ns(c.timestamp_ns);
    checkpoints_[tenant].push_back(std::move(cp));
    SignV2(tenant);
  }
  if (lose_next_ > 0) {
    --lose_next_;
    return grpc::Status(lose_code_, "injected lost response");
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuditLog::Append(grpc::ServerContext*,
                                  const v1::AppendRequest* req,
                                  v1::AppendResponse* resp) {
  std::vector<v1::Receipt> receipts;
  grpc::Status s = Store({&req->event()}, false, &receipts);
  if (s.ok()) *resp->mutable_receipt() = receipts.front();
  return s;
}

grpc::Status FakeAuditLog::AppendBatch(grpc::ServerContext*,
                                       const v1::AppendBatchRequest* req,
                                       v1::AppendBatchResponse* resp) {
  std::vector<const v1::Event*> events;
  for (const v1::Event& e : req->events()) events.push_back(&e);
  std::vector<v1::Receipt> receipts;
  grpc::Status s = Store(events, true, &receipts);
  if (s.ok()) {
    for (v1::Receipt& r : receipts) *resp->add_receipts() = std::move(r);
  }
  return s;
}

grpc::Status FakeAuditLog::GetHead(grpc::ServerContext*,
                                   const v1::GetHeadRequest* req,
                                   v1::GetHeadResponse* resp) {
  if (!chain::IsValidTenantId(req->tenant())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "tenant: malformed");
  }
  std::lock_guard<std::mutex> l(mu_);
  resp->set_tenant(req->tenant());
  auto it = chains_.find(req->tenant());
  if (it == chains_.end() || it->second.empty()) {
    resp->set_head_hash(
        std::string(chain::AsBytes(chain::Genesis(req->tenant()))));
    return grpc::Status::OK;
  }
  const v1::Record& head = it->second.back();
  resp->set_seq(head.seq());
  resp->set_head_hash(head.entry_hash());
  resp->set_received_at_ns(head.received_at_ns());
  return grpc::Status::OK;
}

grpc::Status FakeAuditLog::ReadRecords(grpc::ServerContext* ctx,
                                       const v1::ReadRecordsRequest* req,
                                       grpc::ServerWriter<v1::Record>* w) {
  std::vector<v1::Record> out;
  {
    std::lock_guard<std::mutex> l(mu_);
    uint64_t limit =
        req->limit() == 0 ? max_read_ : std::min(req->limit(), max_read_);
    auto it = chains_.find(req->tenant());
    if (it != chains_.end()) {
      for (uint64_t seq = std::max<uint64_t>(req->from_seq(), 1);
           seq <= it->second.size() && out.size() < limit; ++seq) {
        out.push_back(it->second[seq - 1]);
      }
    }
  }
  for (const v1::Record& r : out) {
    if (ctx->IsCancelled() || !w->Write(r)) break;
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuditLog::GetCheckpoint(grpc::ServerContext*,
                                         const v1::GetCheckpointRequest* req,
                                         v1::Checkpoint* resp) {
  if (!chain::IsValidTenantId(req->tenant())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "tenant: malformed");
  }
  std::lock_guard<std::mutex> l(mu_);
  if (served_checkpoint_.has_value()) {
    *resp = *served_checkpoint_;
    return grpc::Status::OK;
  }
  const auto& all = req->version() == 2 ? checkpoints_v2_ : checkpoints_;
  auto it = all.find(req->tenant());
  if (it != all.end()) {
    const std::vector<v1::Checkpoint>& cps = it->second;
    if (req->min_seq() == 0) {
      *resp = cps.back();
      return grpc::Status::OK;
    }
    for (const v1::Checkpoint& cp : cps) {
      if (cp.seq() >= req->min_seq()) {
        *resp = cp;
        return grpc::Status::OK;
      }
    }
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no checkpoint");
}

void FakeAuditLog::SignV2(const std::string& tenant) {
  const std::vector<chain::Digest>& leaves = leaves_[tenant];
  chain::CheckpointV2 c;
  c.log_name = kFakeLogName;
  c.tenant = tenant;
  c.size = leaves.size();
  c.root = chain::MerkleRoot(leaves);
  c.chain_head = chain::Genesis(tenant);
  if (!chains_[tenant].empty()) {
    chain::DigestFromBytes(chains_[tenant].back().entry_hash(), &c.chain_head);
  }
  c.timestamp_ns = last_received_at_;
  v1::Checkpoint cp;
  cp.set_note(signer_.Sign(chain::CheckpointV2Text(c)));
  cp.set_tenant(tenant);
  cp.set_seq(c.size);
  cp.set_head_hash(std::string(chain::AsBytes(c.chain_head)));
  cp.set_timestamp_ns(c.timestamp_ns);
  cp.set_version(2);
  cp.set_root_hash(std::string(chain::AsBytes(c.root)));
  cp.set_origin(c.origin());
  checkpoints_v2_[tenant].push_back(std::move(cp));
}

const v1::Checkpoint* FakeAuditLog::V2At(const std::string& tenant,
                                         uint64_t size) const {
  auto it = checkpoints_v2_.find(tenant);
  if (it == checkpoints_v2_.end()) return nullptr;
  for (auto cp = it->second.rbegin(); cp != it->second.rend(); ++cp) {
    if (cp->seq() == size) return &*cp;
  }
  return nullptr;
}

bool FakeAuditLog::ResolveSize(const std::string& tenant, uint64_t* size) const {
  if (*size != 0) return true;
  auto it = checkpoints_v2_.find(tenant);
  if (it == checkpoints_v2_.end() || it->second.empty()) return false;
  *size = it->second.back().seq();
  return true;
}

void FakeAuditLog::RewriteLeaf(const std::string& tenant, uint64_t index) {
  std::lock_guard<std::mutex> l(mu_);
  chain::Digest& leaf = leaves_[tenant].at(index);
  leaf = chain::Sha256(chain::AsBytes(leaf), "rewritten");
  SignV2(tenant);
}

void FakeAuditLog::Prune(const std::string& tenant, uint64_t seq,
                         std::optional<std::string> leaf_category) {
  std::lock_guard<std::mutex> l(mu_);
  v1::Record& r = chains_[tenant].at(seq - 1);
  r.clear_salt();
  r.clear_canonical_event();
  r.clear_event();
  r.set_pruned(true);
  if (leaf_category.has_value()) r.set_leaf_category(*leaf_category);
}

void FakeAuditLog::ServeInclusionProof(
    std::optional<std::vector<std::string>> hashes) {
  std::lock_guard<std::mutex> l(mu_);
  served_inclusion_ = std::move(hashes);
}

namespace {

chain::NodeHashReader Reader(const std::vector<chain::Digest>& leaves) {
  return chain::NodesFromLeaves(
      [&leaves](uint64_t i) -> absl::StatusOr<chain::Digest> { return leaves.at(i); });
}

}  // namespace

grpc::Status FakeAuditLog::GetInclusionProof(
    grpc::ServerContext*, const v1::GetInclusionProofRequest* req,
    v1::GetInclusionProofResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  const std::vector<chain::Digest>& leaves = leaves_[req->tenant()];
  uint64_t size = req->tree_size();
  if (!ResolveSize(req->tenant(), &size)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no v2 checkpoint");
  }
  if (req->seq() == 0 || req->seq() > size || size > leaves.size()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "seq / tree_size: out of range");
  }
  auto proof = chain::InclusionProof(req->seq() - 1, size, Reader(leaves));
  if (!proof.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "proof");
  resp->set_tenant(req->tenant());
  resp->set_seq(req->seq());
  resp->set_leaf_index(req->seq() - 1);
  resp->set_tree_size(size);
  if (served_inclusion_.has_value()) {
    for (const std::string& h : *served_inclusion_) resp->add_hashes(h);
  } else {
    for (const chain::Digest& d : *proof) {
      resp->add_hashes(std::string(chain::AsBytes(d)));
    }
  }
  if (req->with_checkpoint()) {
    const v1::Checkpoint* cp = V2At(req->tenant(), size);
    if (cp == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no checkpoint");
    *resp->mutable_checkpoint() = *cp;
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuditLog::GetConsistencyProof(
    grpc::ServerContext*, const v1::GetConsistencyProofRequest* req,
    v1::GetConsistencyProofResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  const std::vector<chain::Digest>& leaves = leaves_[req->tenant()];
  uint64_t size = req->new_size();
  if (!ResolveSize(req->tenant(), &size)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no v2 checkpoint");
  }
  if (req->old_size() == 0 || req->old_size() > size || size > leaves.size()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "old_size / new_size: out of range");
  }
  auto proof = chain::ConsistencyProof(req->old_size(), size, Reader(leaves));
  if (!proof.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "proof");
  resp->set_tenant(req->tenant());
  resp->set_old_size(req->old_size());
  resp->set_new_size(size);
  for (const chain::Digest& d : *proof) {
    resp->add_hashes(std::string(chain::AsBytes(d)));
  }
  if (req->with_checkpoint()) {
    const v1::Checkpoint* cp = V2At(req->tenant(), size);
    if (cp == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no checkpoint");
    *resp->mutable_checkpoint() = *cp;
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuditLog::GetPublicKey(grpc::ServerContext*,
                                        const v1::GetPublicKeyRequest*,
                                        v1::GetPublicKeyResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  if (served_key_.has_value()) {
    *resp = *served_key_;
    return grpc::Status::OK;
  }
  const chain::NoteVerifierKey& vk = signer_.verifier_key();
  resp->set_key_name(vk.name);
  resp->set_key_id_hex(absl::StrFormat("%08x", vk.key_id));
  resp->set_verifier_key(chain::NoteVerifierKeyString(vk));
  resp->set_public_key_pem(signer_.private_key().PublicKeyPem());
  return grpc::Status::OK;
}

namespace {

constexpr uint64_t kHour = 3600, kDay = 24 * kHour;

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

grpc::Status CheckWho(const v1::AdminContext& c) {
  if (c.actor().empty()) return Invalid("context.actor: required");
  if (c.reason().empty()) return Invalid("context.reason: required");
  return grpc::Status::OK;
}

grpc::Status CheckTenant(const std::string& tenant) {
  if (tenant.empty()) return Invalid("tenant: required");
  if (!chain::IsValidTenantId(tenant)) return Invalid("tenant: malformed");
  return grpc::Status::OK;
}

// "<n>d" or "<n>h" in seconds; 0 if malformed.
uint64_t ParseRetention(const std::string& text) {
  if (text.size() < 2 || text.size() > 8) return 0;
  const char unit = text.back();
  uint64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return 0;
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (unit == 'd') return n * kDay;
  if (unit == 'h') return n * kHour;
  return 0;
}

std::string FormatRetention(uint64_t seconds) {
  if (seconds % kDay == 0) return std::to_string(seconds / kDay) + "d";
  return std::to_string(seconds / kHour) + "h";
}

}  // namespace

FakeAdmin::FakeAdmin(FakeAuditLog* log)
    : log_(log), signer_(FakeAuditLog::TestSigner()) {}

void FakeAdmin::FailNext(grpc::StatusCode code, std::string message) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_ = std::make_pair(code, std::move(message));
}

void FakeAdmin::ServePurge(std::optional<v1::PurgeTenantResponse> response) {
  std::lock_guard<std::mutex> l(mu_);
  served_purge_ = std::move(response);
}

void FakeAdmin::SetCompactCounters(uint64_t bodies_dropped,
                                   uint64_t event_ids_dropped) {
  std::lock_guard<std::mutex> l(mu_);
  bodies_dropped_ = bodies_dropped;
  event_ids_dropped_ = event_ids_dropped;
}

std::vector<v1::SetRetentionRequest> FakeAdmin::set_retention_requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return set_retention_;
}

std::vector<v1::GetRetentionRequest> FakeAdmin::get_retention_requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return get_retention_;
}

std::vector<v1::SetLegalHoldRequest> FakeAdmin::hold_requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return holds_;
}

std::vector<v1::PurgeTenantRequest> FakeAdmin::purge_requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return purges_;
}

int FakeAdmin::compact_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return compact_calls_;
}

std::chrono::milliseconds FakeAdmin::last_deadline_left() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_deadline_left_;
}

grpc::Status FakeAdmin::Arrive(grpc::ServerContext* ctx) {
  if (ctx != nullptr) {
    last_deadline_left_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        ctx->deadline() - std::chrono::system_clock::now());
  }
  if (fail_next_.has_value()) {
    grpc::Status s(fail_next_->first, fail_next_->second);
    fail_next_.reset();
    return s;
  }
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::Record(
    const v1::AdminContext& who, const std::string& tenant,
    const std::string& action, const std::string& resource,
    std::vector<std::pair<std::string, std::string>> meta,
    v1::Receipt* receipt) {
  v1::AppendRequest req;
  v1::Event* e = req.mutable_event();
  e->set_tenant(tenant);
  e->set_event_id("indelible-admin-" + std::to_string(next_admin_id_++));
  e->mutable_actor()->set_id(who.actor());
  e->mutable_actor()->set_type("admin");
  e->set_action(action);
  e->mutable_resource()->set_id(resource);
  e->set_reason(who.reason());
  e->set_outcome("applied");
  e->set_source("indelibled");
  e->set_category("indelible.admin");
  for (auto& [k, v] : meta) {
    v1::MetadataEntry* m = e->add_metadata();
    m->set_key(k);
    m->set_value(v);
  }
  v1::AppendResponse resp;
  grpc::Status s = log_->Append(nullptr, &req, &resp);
  if (s.ok()) *receipt = resp.receipt();
  return s;
}

uint64_t FakeAdmin::RetentionSeconds(const std::string& tenant,
                                     const std::string& category) const {
  if (auto it = overrides_.find({tenant, category}); it != overrides_.end()) {
    return it->second;
  }
  return category == "trace" ? 90 * kDay : 365 * kDay;
}

grpc::Status FakeAdmin::SetRetention(grpc::ServerContext* ctx,
                                     const v1::SetRetentionRequest* req,
                                     v1::SetRetentionResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  set_retention_.push_back(*req);
  if (grpc::Status s = Arrive(ctx); !s.ok()) return s;
  if (grpc::Status s = CheckWho(req->context()); !s.ok()) return s;
  if (grpc::Status s = CheckTenant(req->tenant()); !s.ok()) return s;
  if (req->category().empty()) return Invalid("category: required");
  const uint64_t seconds = ParseRetention(req->retention());
  if (seconds == 0) return Invalid("retention: malformed duration");
  if (seconds < kDay || seconds > 3650 * kDay) {
    return Invalid("retention: " + req->retention() +
                   " is outside [24h, 3650d]");
  }
  const uint64_t previous = RetentionSeconds(req->tenant(), req->category());
  grpc::Status s =
      Record(req->context(), req->tenant(), "retention.set", req->category(),
             {{"retention", FormatRetention(seconds)},
              {"previous", FormatRetention(previous)}},
             resp->mutable_receipt());
  if (!s.ok()) return s;
  overrides_[{req->tenant(), req->category()}] = seconds;
  resp->set_previous_retention(FormatRetention(previous));
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::GetRetention(grpc::ServerContext* ctx,
                                     const v1::GetRetentionRequest* req,
                                     v1::GetRetentionResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  get_retention_.push_back(*req);
  if (grpc::Status s = Arrive(ctx); !s.ok()) return s;
  if (grpc::Status s = CheckTenant(req->tenant()); !s.ok()) return s;
  std::set<std::string> categories(req->categories().begin(),
                                   req->categories().end());
  if (categories.empty()) {
    categories = {"access", "trace"};
    for (const auto& [key, seconds] : overrides_) {
      if (key.first == req->tenant()) categories.insert(key.second);
    }
  }
  for (const std::string& c : categories) {
    v1::RetentionEntry* e = resp->add_entries();
    const uint64_t seconds = RetentionSeconds(req->tenant(), c);
    e->set_category(c);
    e->set_retention(FormatRetention(seconds));
    e->set_seconds(seconds);
  }
  resp->set_legal_hold(held_.count(req->tenant()) > 0);
  resp->set_default_retention(FormatRetention(365 * kDay));
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::SetLegalHold(grpc::ServerContext* ctx,
                                     const v1::SetLegalHoldRequest* req,
                                     v1::SetLegalHoldResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  holds_.push_back(*req);
  if (grpc::Status s = Arrive(ctx); !s.ok()) return s;
  if (grpc::Status s = CheckWho(req->context()); !s.ok()) return s;
  if (grpc::Status s = CheckTenant(req->tenant()); !s.ok()) return s;
  if (!req->has_hold()) return Invalid("hold: required");
  grpc::Status s = Record(req->context(), req->tenant(),
                          req->hold() ? "legal_hold.place" : "legal_hold.lift",
                          req->tenant(), {}, resp->mutable_receipt());
  if (!s.ok()) return s;
  if (req->hold()) {
    held_.insert(req->tenant());
  } else {
    held_.erase(req->tenant());
  }
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::PurgeTenant(grpc::ServerContext* ctx,
                                    const v1::PurgeTenantRequest* req,
                                    v1::PurgeTenantResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  purges_.push_back(*req);
  if (grpc::Status s = Arrive(ctx); !s.ok()) return s;
  if (grpc::Status s = CheckWho(req->context()); !s.ok()) return s;
  if (grpc::Status s = CheckTenant(req->tenant()); !s.ok()) return s;
  if (held_.count(req->tenant()) > 0) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "tenant " + req->tenant() + " is under legal hold; lift it first");
  }
  if (purged_.count(req->tenant()) > 0) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "tenant " + req->tenant() + " was purged");
  }
  if (served_purge_.has_value()) {
    *resp = *served_purge_;
    return grpc::Status::OK;
  }
  v1::GetHeadRequest head_req;
  head_req.set_tenant(req->tenant());
  v1::GetHeadResponse head;
  if (grpc::Status s = log_->GetHead(nullptr, &head_req, &head); !s.ok()) {
    return s;
  }
  chain::DeletionCertificate c;
  c.tenant = req->tenant();
  c.final_seq = head.seq();
  chain::DigestFromBytes(head.head_hash(), &c.final_head);
  c.timestamp_ns = std::max(NowNs(), head.received_at_ns());
  resp->set_certificate(signer_.Sign(chain::DeletionCertificateText(c)));
  resp->set_final_seq(c.final_seq);
  resp->set_final_head_hash(head.head_hash());
  resp->set_timestamp_ns(c.timestamp_ns);
  purged_.insert(req->tenant());
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::Compact(grpc::ServerContext* ctx,
                                const v1::CompactRequest*,
                                v1::CompactResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  ++compact_calls_;
  if (grpc::Status s = Arrive(ctx); !s.ok()) return s;
  resp->set_bodies_dropped(bodies_dropped_);
  resp->set_event_ids_dropped(event_ids_dropped_);
  return grpc::Status::OK;
}

FakeServer::FakeServer() {
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  b.SetMaxReceiveMessageSize(16 << 20);  // as indelibled
  b.RegisterService(&service_);
  b.RegisterService(&admin_);
  server_ = b.BuildAndStart();
  if (server_ == nullptr || port_ == 0) std::abort();
}

FakeServer::~FakeServer() {
  service_.Unblock();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
}

}  // namespace indelible::testing
