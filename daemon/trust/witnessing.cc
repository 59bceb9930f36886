#include "daemon/trust/witnessing.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/trust/witnessing_witness.h"
#include "httplib.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

// The signed text of a note (up to and with the newline before the blank line).
absl::StatusOr<std::string_view> NoteText(std::string_view note) {
  auto split = chain::SplitNote(note);
  if (!split.ok()) return split.status();
  return split->text;
}

// Whether `note` carries a valid cosignature of its text by `key`.
bool HasCosignature(std::string_view note, const chain::CosignerKey& key) {
  chain::WitnessPolicy policy{{key}, 1};
  return chain::VerifyCosignatures(note, policy).ok();
}

// A witness's answer for a log line: printable ASCII without quotes.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    out.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
  }
  return out;
}

// The failure reason of an HTTP answer; 0: nothing was sent (the proof or
// the store failed here).
std::string StatusReason(int http_status) {
  return http_status == 0 ? "internal" : absl::StrCat("http_", http_status);
}

bool Readable(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

}  // namespace

WitnessSender::WitnessSender(Storage* storage, TenantSizes tenants, Options options)
    : storage_(storage), tenants_(std::move(tenants)), options_(std::move(options)) {}

WitnessSender::~WitnessSender() { Stop(); }

absl::Status WitnessSender::Init() {
  for (size_t i = 0; i < options_.witnesses.size(); ++i) {
    auto w = std::make_unique<Witness>();
    w->config = options_.witnesses[i];
    const std::string field = absl::StrCat("witnesses[", i, "]");
    auto url = SplitWitnessUrl(w->config.url);
    if (!url.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".url: ", url.status().message()));
    }
    w->url = *url;
    auto key = chain::ParseCosignerKey(w->config.key);
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".key: ", key.status().message()));
    }
    w->config.cosigner_key = *key;
    for (const auto& [name, path] :
         {std::pair<const char*, const std::string&>{"ca_file", w->config.tls_ca_file},
          {"cert_file", w->config.tls_cert_file},
          {"key_file", w->config.tls_key_file}}) {
      if (!path.empty() && !Readable(path)) {
        return absl::FailedPreconditionError(
            absl::StrCat(field, ".tls.", name, ": cannot read ", path));
      }
    }
    const std::string host =
        w->url.host.find(':') != std::string::npos ? "[" + w->url.host + "]" : w->url.host;
    const std::string scheme_host_port =
        absl::StrCat(w->url.https ? "https://" : "http://", host, ":", w->url.port);
    if (w->url.https) {
      w->client = std::make_unique<httplib::Client>(scheme_host_port, w->config.tls_cert_file,
                                                    w->config.tls_key_file);
      if (!w->config.tls_ca_file.empty()) {
        w->client->set_ca_cert_path(w->config.tls_ca_file.c_str());
      }
      w->client->enable_server_certificate_verification(true);
    } else {
      w->client = std::make_unique<httplib::Client>(scheme_host_port);
    }
    if (!w->client->is_valid()) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": cannot set up an HTTP client for ", w->config.url,
                       " (a TLS file may be unusable)"));
    }
    w->client->set_connection_timeout(options_.connect_timeout);
    w->client->set_read_timeout(options_.read_timeout);
    w->client->set_write_timeout(options_.read_timeout);
    w->client->set_keep_alive(true);
    witnesses_.push_back(std::move(w));
  }
  return absl::OkStatus();
}

void WitnessSender::Start() {
  if (stopping_) return;
  for (size_t w = 0; w < witnesses_.size(); ++w) {
    tasks_.push_back(std::make_unique<PeriodicTask>(
        PeriodicTask::Options{.name = "witness " + witnesses_[w]->config.name,
                              .interval = options_.interval,
                              .run_at_start = true},
        [this, w] { SendAll(w); }));
    tasks_.back()->Start();
  }
}

void WitnessSender::Stop() {
  stopping_ = true;
  for (auto& t : tasks_) t->Stop();
  tasks_.clear();
}

void WitnessSender::SendAll(size_t w) {
  if (stopping_) return;
  for (const auto& tenant_size : tenants_()) {
    if (stopping_) break;
    SendNewest(w, tenant_size.first);
  }
}

void WitnessSender::SendNewest(size_t w, const std::string& tenant) {
  auto stored = storage_->GetCheckpointV2(tenant, 0);
  if (absl::IsNotFound(stored.status())) {
    // No checkpoint yet, or the tenant was purged: nothing to be below quorum.
    std::lock_guard<std::mutex> l(mu_);
    quorum_.erase(tenant);
    return;
  }
  if (!stored.ok()) {
    spdlog::error("event=witness_read_failed tenant={} status=\"{}\"", tenant,
                  stored.status().ToString());
    return;
  }
  const auto& [size, note] = *stored;
  auto text = NoteText(note);
  if (!text.ok()) {
    spdlog::error("event=witness_read_failed tenant={} size={} status=\"{}\"", tenant, size,
                  text.status().ToString());
    return;
  }
  Observe(tenant, size);
  const Witness& wit = *witnesses_[w];
  const auto key = std::make_pair(w, tenant);
  Pair pair;
  {
    std::lock_guard<std::mutex> l(mu_);
    pair = pairs_[key];
  }
  if (pair.cosigned_size == size) return MarkCosigned(w, tenant, size);
  if (HasCosignature(note, wit.config.cosigner_key)) {
    // Cosigned before a restart: the witness holds at least this size.
    {
      std::lock_guard<std::mutex> l(mu_);
      Pair& p = pairs_[key];
      p.cosigned_size = size;
      p.known_size = std::max(p.known_size, size);
    }
    return MarkCosigned(w, tenant, size);
  }
  if (pair.refused_size == size) return;  // refused as inconsistent; wait for a new one
  const auto now = std::chrono::steady_clock::now();
  if (now < pair.next_attempt) return;

  std::string detail;
  int http_status = 0;
  const Outcome outcome = Submit(w, tenant, size, note, *text, &pair, &detail, &http_status);
  UpdatePair(w, tenant, size, outcome, http_status, detail, &pair);
  {
    std::lock_guard<std::mutex> l(mu_);
    pairs_[key] = pair;
  }
  CountOutcome(w, tenant, size, outcome, http_status);
}

void WitnessSender::UpdatePair(size_t w, const std::string& tenant, uint64_t size,
                               Outcome outcome, int http_status, const std::string& detail,
                               Pair* p) {
  Pair& pair = *p;
  const Witness& wit = *witnesses_[w];
  switch (outcome) {
    case Outcome::kCosigned:
      pair.failures = 0;
      pair.next_attempt = {};
      pair.cosigned_size = size;
      pair.known_size = size;
      break;
    case Outcome::kInconsistent:
      if (pair.refused_size != size) {
        spdlog::error(
            "event=witness_refused_inconsistent tenant={} witness={} size={} "
            "witness_size={} status={} detail=\"{}\" message=\"the witness holds a tree this "
            "checkpoint does not extend: the tenant's history was rewritten or rolled back, "
            "or another log shows the witness another history (docs/OPERATIONS.md)\"",
            tenant, wit.config.name, size, pair.known_size, http_status, detail);
      }
      pair.refused_size = size;
      break;
    default: {
      pair.failures = std::min(pair.failures + 1, 30);
      auto delay = options_.backoff_base * (1LL << std::min(pair.failures - 1, 20));
      if (delay > options_.backoff_max) delay = options_.backoff_max;
      pair.next_attempt = std::chrono::steady_clock::now() + delay;
      spdlog::warn("event=witness_failed tenant={} witness={} size={} reason={} detail=\"{}\" "
                   "retry_in_ms={}",
                   tenant, wit.config.name, size,
                   outcome == Outcome::kUnreachable      ? "unreachable"
                   : outcome == Outcome::kBadCosignature ? "bad_cosignature"
                                                         : StatusReason(http_status),
                   detail, delay.count());
      break;
    }
  }
}

void WitnessSender::CountOutcome(size_t w, const std::string& tenant, uint64_t size,
                                 Outcome outcome, int http_status) {
  switch (outcome) {
    case Outcome::kCosigned:
      MarkCosigned(w, tenant, size);
      break;
    case Outcome::kInconsistent:
      CountFailure(w, "inconsistent");
      MarkInconsistent(tenant, size);
      break;
    case Outcome::kBadCosignature:
      CountFailure(w, "bad_cosignature");
      break;
    case Outcome::kUnreachable:
      CountFailure(w, "unreachable");
      break;
    case Outcome::kHttpStatus:
      CountFailure(w, StatusReason(http_status));
      break;
  }
}

WitnessSender::Outcome WitnessSender::Submit(size_t w, const std::string& tenant,
                                             uint64_t size, const std::string& note,
                                             std::string_view text, Pair* pair,
                                             std::string* detail, int* http_status) {
  Witness& wit = *witnesses_[w];
  const std::string path = wit.url.path_prefix + "/add-checkpoint";
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (pair->known_size > size) {
      // The witness cosigned a larger tree of this origin than ours: the
      // tenant was rolled back (or another log with our key went further).
      *detail = absl::StrCat("the witness cosigned size ", pair->known_size,
                             ", more than this checkpoint's ", size);
      return Outcome::kInconsistent;
    }
    auto body = RequestBody(tenant, pair->known_size, size, note);
    if (!body.ok()) {
      *detail = Printable(body.status().ToString());
      *http_status = 0;
      spdlog::error("event=witness_proof_failed tenant={} size={} old_size={} status=\"{}\"",
                    tenant, size, pair->known_size, *detail);
      return Outcome::kHttpStatus;
    }
    auto res = wit.client->Post(path, *body, "text/plain");
    if (!res) {
      *detail = httplib::to_string(res.error());
      return Outcome::kUnreachable;
    }
    *http_status = res->status;
    const std::string content_type = res->get_header_value("Content-Type");
    if (res->status == 200) {
      std::string line = res->body;
      if (line.empty() || line.back() != '\n') line.push_back('\n');
      // Verify: the line must be a cosignature of our text by this witness.
      const std::string cosigned = absl::StrCat(chain::ToAbsl(text), "\n", line);
      auto split = chain::SplitNote(cosigned);
      bool valid = false;
      if (split.ok() && split->signatures.size() == 1) {
        const chain::NoteSignature& sig = split->signatures[0];
        uint64_t ts = 0;
        valid = sig.name == wit.config.cosigner_key.name &&
                sig.key_id == wit.config.cosigner_key.key_id &&
                chain::VerifyCosignature(wit.config.cosigner_key, text, sig, &ts).ok();
      }
      if (!valid) {
        *detail = "the answer is not a valid cosignature by the configured key";
        return Outcome::kBadCosignature;
      }
      if (auto s = StoreCosignature(w, tenant, size, text, line); !s.ok()) {
        *detail = Printable(s.ToString());
        spdlog::error("event=witness_store_failed tenant={} witness={} size={} status=\"{}\"",
                      tenant, wit.config.name, size, *detail);
        *http_status = 0;
        return Outcome::kHttpStatus;
      }
      spdlog::debug("event=witness_cosigned tenant={} witness={} size={}", tenant,
                    wit.config.name, size);
      return Outcome::kCosigned;
    }
    std::string_view answer = res->body;
    while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) {
      answer.remove_suffix(1);
    }
    *detail = Printable(answer);
    if (res->status == 409 && content_type.rfind("text/x.tlog.size", 0) == 0) {
      std::string_view b = res->body;
      if (!b.empty() && b.back() == '\n') b.remove_suffix(1);
      uint64_t witness_size = 0;
      if (!absl::SimpleAtoi(chain::ToAbsl(b), &witness_size)) return Outcome::kHttpStatus;
      pair->known_size = witness_size;
      if (attempt == 0) continue;  // retry once from the size the witness holds
      return Outcome::kHttpStatus;
    }
    // 409 (text/plain): the same size with another root; 422: the proof
    // from the size the witness holds does not verify.
    if (res->status == 409 || res->status == 422) return Outcome::kInconsistent;
    return Outcome::kHttpStatus;
  }
  return Outcome::kHttpStatus;
}

absl::StatusOr<std::string> WitnessSender::RequestBody(const std::string& tenant,
                                                       uint64_t old_size, uint64_t size,
                                                       const std::string& note) {
  std::string body = absl::StrCat("old ", old_size, "\n");
  if (old_size > 0 && old_size < size) {
    auto hashes = storage_->ProofHashes(tenant, chain::ConsistencyPlan(old_size, size));
    if (!hashes.ok()) return hashes.status();
    for (const chain::Digest& h : *hashes) {
      absl::StrAppend(&body, chain::Base64Encode(chain::AsBytes(h)), "\n");
    }
  }
  absl::StrAppend(&body, "\n", note);
  return body;
}

absl::Status WitnessSender::StoreCosignature(size_t w, const std::string& tenant,
                                             uint64_t size, std::string_view text,
                                             const std::string& line) {
  std::lock_guard<std::mutex> l(store_mu_);
  auto stored = storage_->GetCheckpointV2(tenant, size);
  if (!stored.ok()) return stored.status();
  if (stored->first != size) {
    return absl::NotFoundError(absl::StrCat("the checkpoint of size ", size, " is gone"));
  }
  auto stored_text = NoteText(stored->second);
  if (!stored_text.ok()) return stored_text.status();
  if (*stored_text != text) {
    return absl::FailedPreconditionError(
        absl::StrCat("the stored checkpoint of size ", size, " changed"));
  }
  if (HasCosignature(stored->second, witnesses_[w]->config.cosigner_key)) {
    return absl::OkStatus();
  }
  return storage_->PutCheckpointV2(tenant, size, stored->second + line);
}

}  // namespace indelible
