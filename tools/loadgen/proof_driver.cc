#include "tools/loadgen/proof_driver.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/loadgen/latch.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"

namespace indelible::tools {
namespace {

std::chrono::system_clock::time_point Deadline(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

std::string Failed(const std::string& what, const grpc::Status& s) {
  return absl::StrCat(what, ": ", StatusCodeName(s.error_code()), " ", s.error_message());
}

// Step 1: the preloaded tenant's entry hashes, by seq - 1.
bool Preload(const RunContext& rc, const ProofOptions& po, const v1::Event& templ,
             std::vector<chain::Digest>* entries, std::string* error) {
  const std::string& tenant = rc.factory->tenants().front();
  v1::AuditLog::Stub* stub = rc.stubs.front().get();
  entries->reserve(po.preload);
  while (entries->size() < po.preload) {
    v1::AppendBatchRequest req;
    const uint64_t n = std::min<uint64_t>(rc.options->batch, po.preload - entries->size());
    for (uint64_t i = 0; i < n; ++i) {
      v1::Event* e = req.add_events();
      *e = templ;
      rc.factory->Renew(e);
      e->set_tenant(tenant);
    }
    v1::AppendBatchResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(rc.options->call_timeout_s));
    if (grpc::Status s = stub->AppendBatch(&ctx, req, &resp); !s.ok()) {
      *error = Failed("preload AppendBatch", s);
      return false;
    }
    for (const v1::Receipt& r : resp.receipts()) {
      chain::Digest d{};
      if (r.seq() != entries->size() + 1 || !chain::DigestFromBytes(r.entry_hash(), &d)) {
        *error = absl::StrCat("preload: receipt of seq ", r.seq(), ", expected ",
                              entries->size() + 1, " with a 32-byte entry hash");
        return false;
      }
      entries->push_back(d);
    }
  }
  return true;
}

// Step 2: the daemon's v2 checkpoint of the preloaded tree, verified.
absl::StatusOr<chain::CheckpointV2> AwaitCheckpoint(const RunContext& rc,
                                                    const ProofOptions& po) {
  v1::AuditLog::Stub* stub = rc.stubs.front().get();
  v1::GetPublicKeyResponse key;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(rc.options->call_timeout_s));
    if (grpc::Status s = stub->GetPublicKey(&ctx, {}, &key); !s.ok()) {
      return absl::UnavailableError(Failed("GetPublicKey", s));
    }
  }
  auto verifier = chain::ParseNoteVerifierKey(key.verifier_key());
  if (!verifier.ok()) return verifier.status();
  v1::GetCheckpointRequest req;
  req.set_tenant(rc.factory->tenants().front());
  req.set_min_seq(po.preload);
  req.set_version(2);
  const int64_t give_up = SteadyNanos() + static_cast<int64_t>(po.checkpoint_wait_s * 1e9);
  grpc::Status last;
  do {
    v1::Checkpoint cp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(rc.options->call_timeout_s));
    last = stub->GetCheckpoint(&ctx, req, &cp);
    if (last.ok()) return chain::VerifyCheckpointV2(cp.note(), {*verifier});
    if (last.error_code() != grpc::StatusCode::NOT_FOUND) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (SteadyNanos() < give_up);
  return absl::UnavailableError(Failed(
      absl::StrCat("no v2 checkpoint of size ", po.preload, " within ", po.checkpoint_wait_s,
                   " s"),
      last));
}

// Step 3: `inflight` callers, each sending its next request when the
// previous one completes, until the gate closes.
class ProofLoad {
 public:
  struct Kept {
    uint64_t seq;
    std::vector<std::string> hashes;
  };

  ProofLoad(const RunContext& rc, uint64_t tree_size, size_t keep, RunStats* stats,
            IssueGate* gate)
      : rc_(rc), tree_size_(tree_size), keep_(keep), stats_(stats), gate_(gate),
        done_(rc.options->inflight) {}

  // Returns false if a call did not complete well after its deadline.
  bool Run() {
    std::random_device rd;
    callers_.resize(rc_.options->inflight);
    for (size_t i = 0; i < callers_.size(); ++i) {
      callers_[i].rng.seed((uint64_t{rd()} << 32) ^ rd());
      callers_[i].stub = rc_.stubs[i % rc_.stubs.size()].get();
      callers_[i].req.set_tenant(rc_.factory->tenants().front());
      callers_[i].req.set_tree_size(tree_size_);
    }
    for (Caller& c : callers_) Issue(&c);
    const auto slack = std::chrono::duration<double>(rc_.options->call_timeout_s + 10);
    const auto until = std::chrono::steady_clock::time_point(
                           std::chrono::nanoseconds(gate_->deadline_ns())) +
                       std::chrono::duration_cast<std::chrono::nanoseconds>(slack);
    return done_.WaitUntil(until);
  }

  // REQUIRES: Run() returned true.
  std::vector<Kept>& kept() { return kept_; }

 private:
  struct Caller {
    std::mt19937_64 rng;
    v1::AuditLog::Stub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> ctx;
    v1::GetInclusionProofRequest req;
    v1::GetInclusionProofResponse resp;
    int64_t start_ns = 0;
  };

  void Issue(Caller* c) {
    if (!gate_->Acquire(1)) return done_.CountDown();
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->ctx->set_deadline(Deadline(rc_.options->call_timeout_s));
    c->req.set_seq(1 + c->rng() % tree_size_);
    c->resp.Clear();
    c->start_ns = SteadyNanos();
    c->stub->async()->GetInclusionProof(c->ctx.get(), &c->req, &c->resp,
                                        [this, c](grpc::Status s) { OnDone(c, s); });
  }

  void OnDone(Caller* c, const grpc::Status& s) {
    stats_->RecordCall(c->start_ns, SteadyNanos(), s, 1);
    if (s.ok() && keep_ > 0) {
      std::lock_guard<std::mutex> l(mu_);
      if (kept_.size() < keep_) {
        kept_.push_back({c->req.seq(), {c->resp.hashes().begin(), c->resp.hashes().end()}});
      }
    }
    Issue(c);
  }

  const RunContext& rc_;
  const uint64_t tree_size_;
  const size_t keep_;
  RunStats* const stats_;
  IssueGate* const gate_;
  Latch done_;  // one count per caller, down when its gate closed
  std::vector<Caller> callers_;
  std::mutex mu_;
  std::vector<Kept> kept_;  // guarded by mu_
};

double Seconds(const RunStats& s) {
  const int64_t w = s.last_completion_ns() - s.measure_start_ns();
  return w > 0 ? static_cast<double>(w) / 1e9 : 0;
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

bool RunProofs(const RunContext& rc, const ProofOptions& po, ProofResult* out) {
  const LoadOptions& o = *rc.options;
  v1::Event templ;
  rc.factory->Fill(&templ);
  std::vector<chain::Digest> entries;
  const int64_t preload_start = SteadyNanos();
  if (!Preload(rc, po, templ, &entries, &out->error)) return true;
  auto cp = AwaitCheckpoint(rc, po);
  if (!cp.ok()) {
    out->error = std::string(cp.status().message());
    return true;
  }
  out->preload_seconds = static_cast<double>(SteadyNanos() - preload_start) / 1e9;
  out->tree_size = cp->size;

  const int64_t measure_start = SteadyNanos() + static_cast<int64_t>(o.warmup_s * 1e9);
  IssueGate gate(measure_start + static_cast<int64_t>(o.duration_s * 1e9), o.count);
  out->stats = std::make_unique<RunStats>(measure_start);
  out->verify_mode = !o.verify ? "none" : o.verify_sample ? "sample" : "full";
  const size_t keep = !o.verify            ? 0
                      : o.verify_sample ? o.sample_size
                                        : std::numeric_limits<size_t>::max();
  ProofLoad load(rc, out->tree_size, keep, out->stats.get(), &gate);
  if (!load.Run()) return false;

  // Step 4, off the clock.
  for (const ProofLoad::Kept& k : load.kept()) {
    std::vector<chain::Digest> proof(k.hashes.size());
    bool ok = k.seq >= 1 && k.seq <= entries.size();
    for (size_t i = 0; ok && i < k.hashes.size(); ++i) {
      ok = chain::DigestFromBytes(k.hashes[i], &proof[i]);
    }
    absl::Status s = !ok ? absl::DataLossError("malformed proof")
                         : chain::VerifyInclusion(
                               k.seq - 1, out->tree_size,
                               chain::LeafHash(entries[k.seq - 1], templ.category()), proof,
                               cp->root);
    ++out->checked;
    if (!s.ok()) {
      if (out->failed++ == 0) {
        out->first_failure = absl::StrCat("seq ", k.seq, ": ", s.message());
      }
    }
  }
  return true;
}

nlohmann::json ProofsToJson(const LoadOptions& o, const ProofOptions& po,
                            const ProofResult& r) {
  const RunStats& s = *r.stats;
  const LatencyHistogram& h = s.latency();
  const double secs = Seconds(s);
  nlohmann::json j;
  j["mode"] = "proofs";
  j["target"] = o.target;
  j["inflight"] = o.inflight;
  j["channels"] = o.channels;
  j["preload"] = po.preload;
  j["preload_seconds"] = r.preload_seconds;
  j["tree_size"] = r.tree_size;
  j["warmup_s"] = o.warmup_s;
  j["seconds"] = secs;
  j["proofs"] = s.measured_calls();
  j["proofs_per_s"] = secs > 0 ? static_cast<double>(s.measured_calls()) / secs : 0;
  j["latency_ms"] = {{"count", h.Count()},
                     {"p50", Ms(h.Quantile(0.50))},
                     {"p95", Ms(h.Quantile(0.95))},
                     {"p99", Ms(h.Quantile(0.99))},
                     {"max", Ms(h.Max())}};
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [code, n] : s.Errors()) errors[code] = n;
  j["errors"] = errors;
  j["error_count"] = s.ErrorCount();
  nlohmann::json messages = nlohmann::json::object();
  for (const auto& [code, m] : s.FirstMessages()) messages[code] = m;
  j["error_messages"] = messages;
  j["verify"] = {{"mode", r.verify_mode},
                 {"ok", r.verify_ok()},
                 {"checked", r.checked},
                 {"failed", r.failed},
                 {"first_failure", r.first_failure}};
  return j;
}

std::string ProofsToText(const LoadOptions& o, const ProofOptions& po, const ProofResult& r) {
  const RunStats& s = *r.stats;
  const LatencyHistogram& h = s.latency();
  const double secs = Seconds(s);
  std::string out = absl::StrFormat(
      "mode=proofs target=%s inflight=%d channels=%d tree_size=%d (preloaded %d in %.1f s)\n",
      o.target, o.inflight, o.channels, r.tree_size, po.preload, r.preload_seconds);
  absl::StrAppendFormat(&out, "throughput: %d proofs in %.2f s = %.0f proofs/s\n",
                        s.measured_calls(), secs,
                        secs > 0 ? static_cast<double>(s.measured_calls()) / secs : 0);
  absl::StrAppendFormat(&out,
                        "latency ms: p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (%d calls)\n",
                        Ms(h.Quantile(0.50)), Ms(h.Quantile(0.95)), Ms(h.Quantile(0.99)),
                        Ms(h.Max()), h.Count());
  out += "errors:";
  if (s.ErrorCount() == 0) out += " none";
  for (const auto& [code, n] : s.Errors()) absl::StrAppend(&out, " ", code, "=", n);
  out += "\n";
  for (const auto& [code, m] : s.FirstMessages()) {
    absl::StrAppend(&out, "  first ", code, ": ", m, "\n");
  }
  if (r.verify_mode == "none") {
    out += "verify: skipped\n";
  } else {
    absl::StrAppendFormat(&out, "verify (%s): %s — %d proofs checked, %d failed\n",
                          r.verify_mode, r.verify_ok() ? "OK" : "FAILED", r.checked,
                          r.failed);
    if (!r.first_failure.empty()) absl::StrAppend(&out, "  first: ", r.first_failure, "\n");
  }
  return out;
}

}  // namespace indelible::tools
