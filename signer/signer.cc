#include "signer/signer.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/deletion.h"
#include "witness/extension.h"

namespace indelible::signer {
namespace {

constexpr std::string_view kReservedOriginPrefix = "indelible/";

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
    case Result::kSigned: return "signed";
    case Result::kBadRequest: return "bad_request";
    case Result::kUnknownLog: return "unknown_log";
    case Result::kStale: return "stale";
    case Result::kFork: return "fork";
    case Result::kInconsistent: return "inconsistent";
    case Result::kInternal: return "internal";
  }
  return "internal";
}

bool IsValidSignerLogName(std::string_view log_name) {
  return chain::IsValidLogName(log_name) &&
         log_name.substr(0, kReservedOriginPrefix.size()) != kReservedOriginPrefix &&
         log_name != "indelible";
}

Signer::Signer(std::string log_name, chain::NoteSigner key, witness::StateStore* store)
    : log_name_(std::move(log_name)), key_(std::move(key)), store_(store) {}

Response Signer::Sign(std::string_view body, bool deletion) {
  Response r = Handle(body, deletion);
  counts_[static_cast<size_t>(r.result)].fetch_add(1);
  return r;
}

Response Signer::Handle(std::string_view body, bool deletion) {
  if (body.size() > kMaxRequestBytes) {
    return Reply(413, Result::kBadRequest, "request body too large");
  }
  std::vector<std::string> approvers;
  if (deletion) {
    constexpr std::string_view kApprover = "approver ";
    while (body.substr(0, kApprover.size()) == kApprover) {
      const size_t end = body.find('\n');
      if (end == std::string_view::npos) break;
      const std::string_view name = body.substr(kApprover.size(), end - kApprover.size());
      if (!chain::IsValidApproverName(name) || approvers.size() == chain::kMaxApprovers) {
        return Reply(400, Result::kBadRequest, "approver: not a valid approver name");
      }
      approvers.emplace_back(name);
      body.remove_prefix(end + 1);
    }
    if (approvers.empty()) {
      return Reply(400, Result::kBadRequest,
                   "approver: a deletion names at least one approver");
    }
  }
  auto req = witness::ParseAddCheckpointRequest(body);
  if (!req.ok()) return Reply(400, Result::kBadRequest, std::string(req.status().message()));
  // Only the one spelling of a v2 checkpoint is signed: no other text (a
  // v1 checkpoint, a deletion certificate, anything) can pass through.
  auto cp = chain::ParseCheckpointV2Text(req->checkpoint);
  if (!cp.ok()) {
    return Reply(400, Result::kBadRequest,
                 absl::StrCat("checkpoint: not the text of a v2 checkpoint: ",
                              cp.status().message()));
  }
  if (chain::CheckpointV2Text(*cp) != req->checkpoint) {
    return Reply(400, Result::kBadRequest, "checkpoint: not in its one canonical spelling");
  }
  if (cp->log_name != log_name_) {
    return Reply(404, Result::kUnknownLog,
                 absl::StrCat("unknown log origin ", cp->origin(), "; this signer signs ",
                              log_name_, "/<tenant>"));
  }
  if (cp->size == 0) {
    return Reply(400, Result::kBadRequest, "checkpoint: size 0 has nothing to sign");
  }
  const std::string origin = cp->origin();
  std::lock_guard<std::mutex> origin_lock(store_->OriginMutex(origin));
  const std::optional<witness::OriginState> cur = store_->Get(origin);
  const witness::ExtensionCheck check =
      witness::CheckExtension(cur, req->old_size, cp->size, cp->root, req->proof);
  switch (check.verdict) {
    case witness::Extension::kConsistent:
      break;
    case witness::Extension::kBadRequest:
      return Reply(400, Result::kBadRequest, check.reason);
    case witness::Extension::kStaleOldSize: {
      Response r = Reply(409, Result::kStale, absl::StrCat(check.current_size));
      r.content_type = kSizeContentType;
      return r;
    }
    case witness::Extension::kSplitView:
      spdlog::error("event=fork_refused origin={} size={} signed_root={} offered_root={}",
                    origin, cp->size, chain::ToHex(cur->root), chain::ToHex(cp->root));
      return Reply(409, Result::kFork,
                   absl::StrCat("refused: a different root of size ", cp->size,
                                " was already signed for ", origin));
    case witness::Extension::kInconsistent:
      spdlog::error(
          "event=inconsistent_refused origin={} old_size={} size={} root={} reason=\"{}\"",
          origin, req->old_size, cp->size, chain::ToHex(cp->root), check.reason);
      return Reply(422, Result::kInconsistent,
                   absl::StrCat("refused: not a consistent extension of size ",
                                check.current_size, ": ", check.reason));
  }
  if (!cur || cur->size != cp->size) {
    if (auto s = store_->Put(origin, witness::OriginState{cp->size, cp->root}); !s.ok()) {
      spdlog::error("event=state_write_failed origin={} size={} reason=\"{}\"", origin,
                    cp->size, std::string(s.message()));
      return Reply(500, Result::kInternal, "cannot record the new state; nothing was signed");
    }
  }
  // The v1 checkpoint and the deletion certificate state what the accepted
  // v2 checkpoint states, nothing more.
  chain::Checkpoint v1;
  v1.tenant = cp->tenant;
  v1.seq = cp->size;
  v1.head = cp->chain_head;
  v1.timestamp_ns = cp->timestamp_ns;
  nlohmann::json out;
  out["checkpoint"] = key_.Sign(req->checkpoint);
  out["checkpoint_v1"] = key_.Sign(chain::CheckpointText(v1));
  if (deletion) {
    chain::DeletionCertificate d;
    d.version = 2;
    d.tenant = cp->tenant;
    d.log_name = cp->log_name;
    d.final_seq = cp->size;
    d.root = cp->root;
    d.final_head = cp->chain_head;
    d.timestamp_ns = cp->timestamp_ns;
    d.approvers = std::move(approvers);
    out["deletion_certificate"] = key_.Sign(chain::DeletionCertificateText(d));
    spdlog::warn("event=deletion_signed origin={} final_seq={}", origin, cp->size);
  }
  spdlog::info("event=signed origin={} old_size={} size={}", origin, req->old_size, cp->size);
  Response r = Reply(200, Result::kSigned, out.dump());
  r.content_type = "application/json";
  return r;
}

}  // namespace indelible::signer
