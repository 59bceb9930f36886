#include "witness/witness.h"

#include <chrono>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"
#include "witness/extension.h"

namespace indelible::witness {
namespace {

Response Reply(int status, Result result, std::string body) {
  Response r;
  r.status = status;
  r.result = result;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body += '\n';
  return r;
}

}  // namespace

const char* ResultName(Result r) {
  switch (r) {
    case Result::kCosigned: return "cosigned";
    case Result::kBadRequest: return "bad_request";
    case Result::kUnknownLog: return "unknown_log";
    case Result::kForbidden: return "forbidden";
    case Result::kConflict: return "conflict";
    case Result::kBadProof: return "bad_proof";
    case Result::kInternal: return "internal";
  }
  return "internal";
}

uint64_t SystemClockSeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Witness::Witness(std::vector<LogConfig> logs, chain::Cosigner cosigner,
                 StateStore* store, Clock clock)
    : logs_(std::move(logs)),
      cosigner_(std::move(cosigner)),
      store_(store),
      clock_(std::move(clock)) {}

const LogConfig* Witness::FindLog(std::string_view origin) const {
  const LogConfig* best = nullptr;
  for (const auto& l : logs_) {
    if (!l.origin.empty() && l.origin == origin) return &l;
    if (!l.origin_prefix.empty() && origin.size() > l.origin_prefix.size() &&
        origin.substr(0, l.origin_prefix.size()) == l.origin_prefix &&
        (best == nullptr || l.origin_prefix.size() > best->origin_prefix.size())) {
      best = &l;
    }
  }
  return best;
}

Response Witness::AddCheckpoint(std::string_view body) {
  Response r = Handle(body);
  counts_[static_cast<size_t>(r.result)].fetch_add(1);
  return r;
}

Response Witness::Handle(std::string_view body) {
  if (body.size() > kMaxRequestBytes) {
    return Reply(413, Result::kBadRequest, "request body too large");
  }
  auto req = ParseAddCheckpointRequest(body);
  if (!req.ok()) return Reply(400, Result::kBadRequest, std::string(req.status().message()));
  auto split = chain::SplitNote(req->checkpoint);
  if (!split.ok()) {
    return Reply(400, Result::kBadRequest,
                 absl::StrCat("checkpoint: ", split.status().message()));
  }
  auto cp = chain::ParseTlogCheckpoint(split->text);
  if (!cp.ok()) {
    return Reply(400, Result::kBadRequest, absl::StrCat("checkpoint: ", cp.status().message()));
  }
  const LogConfig* log = FindLog(cp->origin);
  if (log == nullptr) {
    return Reply(404, Result::kUnknownLog, "unknown log origin " + cp->origin);
  }
  // tlog-witness: accept if any trusted key's signature verifies (a bad
  // signature by another trusted key does not spoil a good one).
  bool verified = false;
  for (const auto& key : log->keys) {
    if (chain::VerifyNote(req->checkpoint, {key}).ok()) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    return Reply(403, Result::kForbidden,
                 absl::StrCat("checkpoint: no valid signature by a trusted key of ", cp->origin));
  }
  // Check against the latest cosigned state and update it as one step.
  std::lock_guard<std::mutex> origin_lock(store_->OriginMutex(cp->origin));
  const std::optional<OriginState> cur = store_->Get(cp->origin);
  const ExtensionCheck check = CheckExtension(cur, req->old_size, cp->size, cp->root, req->proof);
  switch (check.verdict) {
    case Extension::kConsistent:
      break;
    case Extension::kBadRequest:
      return Reply(400, Result::kBadRequest, check.reason);
    case Extension::kStaleOldSize: {
      Response r = Reply(409, Result::kConflict, absl::StrCat(check.current_size));
      r.content_type = kSizeContentType;
      return r;
    }
    case Extension::kSplitView:
      spdlog::warn("event=split_view origin={} size={} cosigned_root={} offered_root={}",
                   cp->origin, cp->size, chain::ToHex(cur->root), chain::ToHex(cp->root));
      return Reply(409, Result::kConflict,
                   absl::StrCat("conflict: a different root of size ", cp->size,
                                " was already cosigned for ", cp->origin));
    case Extension::kInconsistent:
      // Validly signed by the log and not consistent: evidence of misbehaviour.
      spdlog::warn(
          "event=inconsistent_checkpoint origin={} old_size={} size={} root={} reason=\"{}\"",
          cp->origin, req->old_size, cp->size, chain::ToHex(cp->root), check.reason);
      return Reply(422, Result::kBadProof, check.reason);
  }
  if (!cur || cur->size != cp->size) {
    if (auto s = store_->Put(cp->origin, OriginState{cp->size, cp->root}); !s.ok()) {
      spdlog::error("event=state_write_failed origin={} size={} reason=\"{}\"", cp->origin,
                    cp->size, std::string(s.message()));
      return Reply(500, Result::kInternal, "cannot record the new state; nothing was cosigned");
    }
  }
  const uint64_t ts = std::min(clock_(), chain::kMaxCosignatureTime);
  spdlog::info("event=cosigned origin={} old_size={} size={}", cp->origin, req->old_size,
               cp->size);
  return Reply(200, Result::kCosigned, cosigner_.SignatureLine(split->text, ts));
}

}  // namespace indelible::witness
