#include "tests/client/fake_audit_log.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <cstdlib>
#include <set>

#include "absl/strings/str_format.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/signing.h"

namespace indelible::testing {
namespace {

chain::EventFields Fields(const v1::Event& e) {
  chain::EventFields f;
  f.tenant = e.tenant();
  f.event_id = e.event_id();
  f.occurred_at_ns = e.occurred_at_ns();
  f.actor_id = e.actor().id();
  f.actor_type = e.actor().type();
  f.actor_ip = e.actor().ip();
  f.action = e.action();
  f.resource_type = e.resource().type();
  f.resource_id = e.resource().id();
  f.reason = e.reason();
  f.outcome = e.outcome();
  f.source = e.source();
  f.category = e.category();
  for (const auto& m : e.metadata())
    f.metadata.emplace_back(m.key(), m.value());
  return f;
}

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

void FakeAuditLog::FailNext(int n, grpc::StatusCode code) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_ = n;
  fail_code_ = code;
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
    return grpc::Status(fail_code_, "injected failure");
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
    auto ce = chain::EncodeCanonicalEvent(Fields(r.event()));
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
  auto it = checkpoints_.find(req->tenant());
  if (it != checkpoints_.end()) {
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

FakeServer::FakeServer() {
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  b.RegisterService(&service_);
  server_ = b.BuildAndStart();
  if (server_ == nullptr || port_ == 0) std::abort();
}

FakeServer::~FakeServer() {
  service_.Unblock();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
}

}  // namespace indelible::testing
