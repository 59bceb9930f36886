#include "witness/extension.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"

namespace indelible::witness {
namespace {

// The next line of *rest without its newline; false if there is no newline.
bool NextLine(std::string_view* rest, std::string_view* line) {
  const size_t nl = rest->find('\n');
  if (nl == std::string_view::npos) return false;
  *line = rest->substr(0, nl);
  rest->remove_prefix(nl + 1);
  return true;
}

}  // namespace

absl::StatusOr<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body) {
  AddCheckpointRequest req;
  std::string_view rest = body, line;
  if (!NextLine(&rest, &line)) {
    return absl::InvalidArgumentError("old size line: missing (no newline)");
  }
  if (line.substr(0, 4) != "old " || !chain::ParseDecimal(line.substr(4), &req.old_size)) {
    return absl::InvalidArgumentError(
        "old size line: want \"old <size>\" (decimal, no leading zeros)");
  }
  for (;;) {
    if (!NextLine(&rest, &line)) {
      return absl::InvalidArgumentError("no empty line between the proof and the checkpoint");
    }
    if (line.empty()) break;
    if (req.proof.size() == kMaxProofLines) {
      return absl::InvalidArgumentError(
          absl::StrCat("consistency proof: more than ", kMaxProofLines, " lines"));
    }
    std::string bytes;
    chain::Digest d;
    if (!chain::Base64Decode(line, &bytes) || bytes.size() != d.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consistency proof line ", req.proof.size() + 1, ": not the base64 of a 32-byte hash"));
    }
    std::memcpy(d.data(), bytes.data(), d.size());
    req.proof.push_back(d);
  }
  if (rest.empty()) return absl::InvalidArgumentError("checkpoint: missing");
  req.checkpoint = std::string(rest);
  return req;
}

std::string AddCheckpointRequestText(const AddCheckpointRequest& request) {
  std::string out = absl::StrCat("old ", request.old_size, "\n");
  for (const auto& h : request.proof) {
    absl::StrAppend(&out, chain::Base64Encode(chain::AsBytes(h)), "\n");
  }
  absl::StrAppend(&out, "\n", request.checkpoint);
  return out;
}


ExtensionCheck CheckExtension(const std::optional<OriginState>& current, uint64_t old_size,
                              uint64_t size, const chain::Digest& root,
                              const std::vector<chain::Digest>& proof) {
  ExtensionCheck r;
  r.current_size = current ? current->size : 0;
  if (old_size > size) {
    r.verdict = Extension::kBadRequest;
    r.reason = absl::StrCat("old size ", old_size, " exceeds the checkpoint size ", size);
    return r;
  }
  if (old_size != r.current_size) {
    r.verdict = Extension::kStaleOldSize;
    r.reason = absl::StrCat("old size ", old_size, " is not the current size ",
                            r.current_size);
    return r;
  }
  if (current && current->size == size && current->root != root) {
    r.verdict = Extension::kSplitView;
    r.reason = absl::StrCat("a different root of size ", size, " was already accepted");
    return r;
  }
  const chain::Digest old_root = current ? current->root : chain::EmptyRoot();
  absl::Status consistent = chain::VerifyConsistency(old_size, size, proof, old_root, root);
  if (consistent.ok() && size == 0 && root != chain::EmptyRoot()) {
    consistent = absl::DataLossError("the root of an empty tree is SHA-256 of nothing");
  }
  if (!consistent.ok()) {
    r.verdict = Extension::kInconsistent;
    r.reason = std::string(consistent.message());
    return r;
  }
  r.verdict = Extension::kConsistent;
  return r;
}

}  // namespace indelible::witness
