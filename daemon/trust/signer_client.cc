#include "daemon/trust/signer_client.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "signer/wire.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

std::string RequestText(uint64_t old_size, const std::vector<chain::Digest>& proof,
                        const std::string& text) {
  std::string out = absl::StrCat("old ", old_size, "\n");
  for (const auto& h : proof) absl::StrAppend(&out, chain::Base64Encode(chain::AsBytes(h)), "\n");
  absl::StrAppend(&out, "\n", text);
  return out;
}

std::string Trimmed(const std::string& body) {
  return std::string(absl::StripTrailingAsciiWhitespace(body));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SignerClient>> SignerClient::Connect(
    const std::string& socket_path, std::chrono::milliseconds timeout) {
  auto answer = signer::Call(socket_path, signer::kMethodKey, "", timeout);
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    return absl::UnavailableError(absl::StrCat("signer at ", socket_path, " answered ",
                                               answer->status, ": ", Trimmed(answer->body)));
  }
  auto key = chain::ParseNoteVerifierKey(Trimmed(answer->body));
  if (!key.ok()) {
    return absl::DataLossError(absl::StrCat("signer at ", socket_path,
                                            ": not a verifier key: ", key.status().message()));
  }
  return std::unique_ptr<SignerClient>(new SignerClient(socket_path, timeout, *std::move(key)));
}

absl::StatusOr<SignedCheckpoint> SignerClient::Sign(const chain::CheckpointV2& cp,
                                                    const std::vector<std::string>* deletion,
                                                    uint64_t old_size,
                                                    const ConsistencyProofSource& proof) {
  const std::string origin = cp.origin();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = signer_sizes_.find(origin); it != signer_sizes_.end()) old_size = it->second;
  }
  const std::string text = chain::CheckpointV2Text(cp);
  const char* method =
      deletion != nullptr ? signer::kMethodSignDeletion : signer::kMethodSignCheckpoint;
  for (int attempt = 0;; ++attempt) {
    if (old_size > cp.size) {
      return absl::PermissionDeniedError(absl::StrCat(
          "signer refused: it signed size ", old_size, " of ", origin,
          ", larger than this tree of size ", cp.size));
    }
    auto hashes = proof(old_size);
    if (!hashes.ok()) return hashes.status();
    std::string request = RequestText(old_size, *hashes, text);
    if (deletion != nullptr) request = signer::DeletionRequestText(*deletion, request);
    auto answer = signer::Call(socket_path_, method, request, timeout_);
    if (!answer.ok()) return answer.status();
    if (answer->status == 409 && answer->content_type == "text/x.tlog.size") {
      uint64_t signer_size = 0;
      if (!absl::SimpleAtoi(Trimmed(answer->body), &signer_size)) {
        return absl::DataLossError("signer: malformed size in its answer");
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        signer_sizes_[origin] = signer_size;
      }
      if (attempt == 0) {
        old_size = signer_size;
        continue;
      }
      return absl::UnavailableError(absl::StrCat(
          "signer: its size of ", origin, " changed while proving; tried twice"));
    }
    if (answer->status == 500) {
      return absl::UnavailableError(absl::StrCat("signer: ", Trimmed(answer->body)));
    }
    if (answer->status != 200) {
      return absl::PermissionDeniedError(
          absl::StrCat("signer refused (", answer->status, "): ", Trimmed(answer->body)));
    }
    // What came back must be the key's signatures of exactly what was asked.
    SignedCheckpoint out;
    try {
      const auto j = nlohmann::json::parse(answer->body);
      out.v2 = j.at("checkpoint").get<std::string>();
      out.v1 = j.at("checkpoint_v1").get<std::string>();
      if (deletion != nullptr) out.deletion = j.at("deletion_certificate").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return absl::DataLossError("signer: malformed answer");
    }
    auto v2 = chain::VerifyCheckpointV2(out.v2, {key_});
    auto v1 = chain::VerifyCheckpoint(out.v1, {key_});
    if (!v2.ok() || *v2 != cp || !v1.ok() ||
        *v1 != chain::Checkpoint{cp.tenant, cp.size, cp.chain_head, cp.timestamp_ns}) {
      return absl::DataLossError("signer: its signatures do not verify for this checkpoint");
    }
    if (deletion != nullptr) {
      auto d = chain::VerifyDeletionCertificate(out.deletion, {key_});
      if (!d.ok() || d->version != 2 || d->origin() != origin || d->final_seq != cp.size ||
          d->root != cp.root || d->final_head != cp.chain_head ||
          d->timestamp_ns != cp.timestamp_ns || d->approvers != *deletion) {
        return absl::DataLossError("signer: its deletion certificate does not verify");
      }
    }
    std::lock_guard<std::mutex> l(mu_);
    signer_sizes_[origin] = cp.size;
    return out;
  }
}

}  // namespace indelible
