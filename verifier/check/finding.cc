#include "verifier/check/finding.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::check {
namespace {

constexpr std::array<std::string_view, kNumKinds> kNames = {
    "malformed",
    "seq_gap",
    "seq_out_of_order",
    "received_at_decreased",
    "body_digest_mismatch",
    "tenant_mismatch",
    "entry_hash_mismatch",
    "orphan_body",
    "head_mismatch",
    "truncated",
    "checkpoint_mismatch",
    "checkpoint_signature",
    "checkpoint_rollback",
    "store_corruption",
    "body_received_at_mismatch",
    "tree_node_mismatch",
    "tree_node_missing",
    "tree_node_extra",
    "checkpoint_root_mismatch",
    "key_rotation",
    "early_prune",
    "purge",
};

}  // namespace

std::string_view KindName(Kind kind) {
  return kNames[static_cast<size_t>(kind)];
}

std::optional<Kind> KindFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::string ToString(const Finding& f) {
  return absl::StrCat(f.tenant, " seq ", f.seq, " ", chain::ToAbsl(KindName(f.kind)),
                      ": ", f.detail);
}

}  // namespace indelible::check
