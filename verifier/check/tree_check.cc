#include "verifier/check/tree_check.h"

#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"
#include "verifier/store/tree_nodes.h"

namespace indelible::check {
namespace {
using chain::ToAbsl;
using chain::ToStd;
}  // namespace

class TreeChecker::Scan {
 public:
  Scan(const store::Reader& reader, const std::string& tenant, const TrustedKeys& keys,
       CheckSink* sink, const chain::WitnessPolicy* policy)
      : reader_(reader),
        tenant_(tenant),
        keys_(keys),
        sink_(sink),
        policy_(policy),
        lowest_(store::TreeLayoutOf(reader) == store::TreeLayout::kV1 ? 0
                                                                     : store::kLowestStoredLevel) {}

  void AddRecord(uint64_t seq, const store::Skeleton* sk, bool has_body,
                 std::string_view body) {
    leaf_taken_ = false;
    if (!complete_) return;
    if (!loaded_) {
      LoadCheckpoints();
      loaded_ = true;
    }
    chain::Digest leaf{};
    if (seq != range_.size() + 1 || sk == nullptr || !LeafOf(seq, *sk, has_body, body, &leaf)) {
      complete_ = false;
      return;
    }
    leaf_taken_ = true;
    if ((seq - 1) % (uint64_t{1} << store::kLowestStoredLevel) == 0) block_pruned_.clear();
    if (!has_body) block_pruned_.push_back(seq);
    range_.Append(leaf, [&](chain::NodeId n, const chain::Digest& h) {
      if (n.level >= lowest_) Compare(n, h);
    });
    ++summary_.leaves;
    CheckpointsAt(seq, sk->entry_hash);
  }

  std::optional<std::string_view> LeafCategory() const {
    if (!leaf_taken_) return std::nullopt;
    return std::string_view(leaf_category_);
  }

  TreeCheckSummary Finish() {
    if (!loaded_) LoadCheckpoints();
    // A broken chain (the chain check's finding) ends the tree check there:
    // what lies beyond is not judged. Otherwise rows left on any level lie
    // beyond the records.
    if (!complete_) return summary_;
    for (int level = 0; level < lowest_; ++level) {
      for (store::Rows* rows = Level(level); rows->Valid(); rows->Next()) Extra(*rows);
    }
    for (size_t level = 0; level < levels_.size(); ++level) {
      if (levels_[level] == nullptr) continue;
      for (; levels_[level]->Valid(); levels_[level]->Next()) Extra(*levels_[level]);
    }
    // Rows on levels the records never reached.
    for (int level = static_cast<int>(levels_.size()); level < 64; ++level) {
      store::Rows* rows = Level(level);
      if (!rows->Valid()) {
        if (!rows->ok()) Corrupt(rows->status());
        break;
      }
      for (; rows->Valid(); rows->Next()) Extra(*rows);
    }
    for (const auto& [size, note] : checkpoints_) {
      Report(size, Kind::kCheckpointRootMismatch,
             absl::StrCat("v2 checkpoint of size ", size, " but the tree has ",
                          range_.size(), " leaves"));
    }
    return summary_;
  }

 private:
  void Report(uint64_t seq, Kind kind, std::string detail) {
    sink_->Report(Finding{tenant_, seq, kind, std::move(detail)});
  }
  void Corrupt(const absl::Status& s) {
    Report(0, absl::IsDataLoss(s) ? Kind::kStoreCorruption : Kind::kMalformed,
           absl::StrCat("reading the tree: ", ToAbsl(ToStd(s.message()))));
  }

  // The level-`level` rows of the tenant, opened on first use.
  store::Rows* Level(int level) {
    if (levels_.size() <= static_cast<size_t>(level)) levels_.resize(level + 1);
    if (levels_[level] == nullptr) {
      std::string prefix = store::TenantPrefix(tenant_);
      prefix.push_back(static_cast<char>(level));
      levels_[level] = reader_.NewRows(store::kTreeCf, prefix);
    }
    return levels_[level].get();
  }

  static uint64_t IndexOf(std::string_view key) {
    return chain::DecodeU64(key.data() + key.size() - 8);
  }
  static bool WellFormed(std::string_view key) {
    std::string_view t;
    int level = 0;
    uint64_t index = 0;
    return store::ParseTreeKey(key, &t, &level, &index);
  }

  void Extra(const store::Rows& rows) {
    std::string_view t;
    int level = 0;
    uint64_t index = 0;
    if (!store::ParseTreeKey(rows.key(), &t, &level, &index)) {
      Report(0, Kind::kMalformed,
             absl::StrCat("tree row with a malformed key 0x", chain::ToHex(rows.key())));
      return;
    }
    const chain::NodeId n{level, index};
    if (level < lowest_) {
      Report(n.end(), Kind::kTreeNodeExtra,
             absl::StrCat("tree row at level ", level, " index ", index,
                          ": the store keeps no rows below level ", lowest_));
      return;
    }
    Report(n.end(), Kind::kTreeNodeExtra,
           absl::StrCat("tree node at level ", level, " index ", index,
                        " covers leaves beyond the records (", range_.size(), ")"));
  }

  void Compare(chain::NodeId n, const chain::Digest& want) {
    store::Rows* rows = Level(n.level);
    while (rows->Valid() && (!WellFormed(rows->key()) || IndexOf(rows->key()) < n.index)) {
      Extra(*rows);
      rows->Next();
    }
    if (!rows->Valid() || IndexOf(rows->key()) != n.index) {
      if (!rows->ok()) return Corrupt(rows->status());
      Report(n.end(), Kind::kTreeNodeMissing,
             absl::StrCat("tree node at level ", n.level, " index ", n.index, " is missing"));
      return;
    }
    ++summary_.nodes;
    chain::Digest got{};
    std::string_view category;
    if (!store::DecodeTreeRow(n.level, rows->value(), &got, &category)) {
      Report(n.end(), Kind::kMalformed,
             absl::StrCat("tree node at level ", n.level, " index ", n.index, " is ",
                          rows->value().size(), " bytes, want ",
                          n.level == 0 ? "32 and a category" : "32"));
    } else if (got != want) {
      Report(n.end(), Kind::kTreeNodeMismatch,
             absl::StrCat("tree node at level ", n.level, " index ", n.index, " is ",
                          chain::ToHex(got), ", the records give ", chain::ToHex(want),
                          n.level == 0 ? absl::StrCat(" (entry hash or category of the leaf; "
                                                      "the record's category is \"",
                                                      ToAbsl(leaf_category_), "\")")
                          : n.level == store::kLowestStoredLevel ? PrunedInBlock()
                                                                 : ""));
    } else if (n.level == 0 && category != leaf_category_) {
      Report(n.end(), Kind::kTreeNodeMismatch,
             absl::StrCat("tree node at level 0 index ", n.index, " keeps category \"",
                          ToAbsl(category), "\", the record's body has \"", ToAbsl(leaf_category_),
                          "\" (the leaf's hash commits to the body's)"));
    }
    rows->Next();
  }

  // The leaf of `seq` and its category (leaf_category_): recomputed from
  // the skeleton's entry hash and the body's category; for a pruned record
  // (or one whose body is malformed, the chain check's finding), from the
  // category stored with the leaf, which must give the stored leaf hash.
  // The stored hash is folded either way, so the nodes above are checked
  // against it and damage to the leaf alone is one finding. False if there
  // is no stored leaf to take.
  bool LeafOf(uint64_t seq, const store::Skeleton& sk, bool has_body, std::string_view body,
              chain::Digest* leaf) {
    if (lowest_ > 0) return LeafFromSkeleton(seq, sk, has_body, body, leaf);
    if (has_body) {
      std::string_view salt, ce;
      if (store::DecodeBody(body, &salt, &ce)) {
        if (auto category = chain::CanonicalEventCategory(ce); category.ok()) {
          *leaf = chain::LeafHash(sk.entry_hash, *category);
          leaf_category_.assign(*category);
          return true;
        }
      }
    }
    store::Rows* leaves = Level(0);
    while (leaves->Valid() && WellFormed(leaves->key()) && IndexOf(leaves->key()) < seq - 1) {
      Extra(*leaves);
      leaves->Next();
    }
    std::string_view category;
    if (!leaves->Valid() || !WellFormed(leaves->key()) || IndexOf(leaves->key()) != seq - 1 ||
        !store::DecodeTreeRow(0, leaves->value(), leaf, &category)) {
      if (!leaves->ok()) {
        Corrupt(leaves->status());
        return false;
      }
      Report(seq, Kind::kTreeNodeMissing,
             absl::StrCat("the leaf of pruned record ", seq,
                          " is missing or malformed: the tree is not checked beyond it"));
      return false;
    }
    ++summary_.leaves_pruned;
    leaf_category_.assign(category);
    if (const chain::Digest want = chain::LeafHash(sk.entry_hash, category); want != *leaf) {
      Report(seq, Kind::kTreeNodeMismatch,
             absl::StrCat("the leaf of pruned record ", seq, " (level 0 index ", seq - 1,
                          ") is ", chain::ToHex(*leaf), ", its entry hash and kept category \"",
                          ToAbsl(category), "\" give ", chain::ToHex(want),
                          " (the kept category or the leaf hash was changed)"));
    }
    return true;  // Compare() then reads the same row and finds it equal.
  }

  // The leaf of `seq` in this layout: from the skeleton's entry hash and the
  // body's category, which the skeleton must keep too (it stands in for the
  // body's once retention prunes it), so damage to the kept category alone
  // is one finding. A pruned record's leaf takes the kept category, which
  // only the tree vouches for: damage to it shows in the node over its block
  // of leaves (PrunedInBlock) or in the root of a checkpoint inside it.
  bool LeafFromSkeleton(uint64_t seq, const store::Skeleton& sk, bool has_body,
                        std::string_view body, chain::Digest* leaf) {
    leaf_category_.assign(sk.category);
    std::string_view salt, ce;
    if (!has_body || !store::DecodeBody(body, &salt, &ce)) {
      // Pruned, or a body the chain check reports.
      if (!has_body) ++summary_.leaves_pruned;
      *leaf = store::LeafOf(sk);
      return true;
    }
    auto category = chain::CanonicalEventCategory(ce);
    if (category.ok() && *category != sk.category) {
      Report(seq, Kind::kTreeNodeMismatch,
             absl::StrCat("the skeleton of seq ", seq, " keeps category \"", ToAbsl(sk.category),
                          "\", its body has \"", ToAbsl(*category),
                          "\" (the leaf's hash commits to the body's)"));
      leaf_category_.assign(*category);
    }
    *leaf = chain::LeafHash(sk.entry_hash, leaf_category_);
    return true;
  }

  // For a mismatch of a node over a block of leaves: its pruned records,
  // whose categories nothing but the tree vouches for.
  std::string PrunedInBlock() const {
    if (block_pruned_.empty()) return "";
    return absl::StrCat(" (of its leaves, the pruned records' kept categories are vouched for "
                        "by the tree alone: seq ",
                        absl::StrJoin(block_pruned_, ", "), ")");
  }

  void LoadCheckpoints() {
    for (auto rows = reader_.NewRows(store::kCheckpointsV2Cf, store::TenantPrefix(tenant_));
         rows->Valid(); rows->Next()) {
      std::string_view t;
      uint64_t size = 0;
      ++summary_.checkpoints;
      if (!store::ParseSeqKey(rows->key(), &t, &size) || t != tenant_) {
        Report(0, Kind::kMalformed,
               absl::StrCat("v2 checkpoint row with a malformed key 0x",
                            chain::ToHex(rows->key())));
        continue;
      }
      checkpoints_.emplace(size, std::string(rows->value()));
    }
  }

  void CheckpointsAt(uint64_t size, const chain::Digest& entry_hash) {
    auto it = checkpoints_.find(size);
    if (it == checkpoints_.end()) return;
    const std::string& note = it->second;
    absl::StatusOr<chain::CheckpointV2> cp;
    if (keys_.empty()) {
      const size_t end = note.rfind("\n\n");
      cp = chain::ParseCheckpointV2Text(
          std::string_view(note).substr(0, end == std::string::npos ? 0 : end + 1));
    } else {
      cp = chain::VerifyCheckpointV2(note, keys_.KeysFor(note));
    }
    if (!cp.ok()) {
      Report(size, keys_.empty() ? Kind::kMalformed : Kind::kCheckpointSignature,
             absl::StrCat("v2 checkpoint of size ", size, ": ", ToAbsl(ToStd(cp.status().message()))));
    } else if (cp->tenant != tenant_ || cp->size != size) {
      Report(size, Kind::kCheckpointMismatch,
             absl::StrCat("the v2 checkpoint row of size ", size, " holds one of ",
                          cp->origin(), " size ", cp->size, ": moved from elsewhere"));
    } else if (cp->root != range_.Root()) {
      Report(size, Kind::kCheckpointRootMismatch,
             absl::StrCat("v2 checkpoint of size ", size, " has root ", chain::ToHex(cp->root),
                          ", the records give ", chain::ToHex(range_.Root()),
                          lowest_ > 0 && size % (uint64_t{1} << lowest_) != 0 ? PrunedInBlock()
                                                                              : ""));
    } else if (cp->chain_head != entry_hash) {
      Report(size, Kind::kCheckpointMismatch,
             absl::StrCat("v2 checkpoint of size ", size, " names chain head ",
                          chain::ToHex(cp->chain_head), ", the record has ",
                          chain::ToHex(entry_hash)));
    } else if (policy_ != nullptr) {
      CountCosignatures(size, note);
    }
    checkpoints_.erase(it);
  }

  // A checkpoint that holds: its cosignatures under the policy. Sizes come
  // in increasing order, so the last one counted is the newest.
  void CountCosignatures(uint64_t size, std::string_view note) {
    absl::StatusOr<chain::QuorumCheck> q = chain::CheckQuorum(note, *policy_);
    if (!q.ok()) {
      Report(size, Kind::kCheckpointSignature,
             absl::StrCat("v2 checkpoint of size ", size, ": ", ToAbsl(ToStd(q.status().message()))));
      return;
    }
    summary_.newest_size = size;
    summary_.quorum = *std::move(q);
  }

  const store::Reader& reader_;
  const std::string tenant_;
  const TrustedKeys& keys_;
  CheckSink* sink_;
  const chain::WitnessPolicy* policy_;
  chain::CompactRange range_;
  std::vector<std::unique_ptr<store::Rows>> levels_;
  std::map<uint64_t, std::string> checkpoints_;
  // The lowest level with rows: 0 in the layout of store::kTreeMarkerV1.
  const int lowest_;
  std::string leaf_category_;  // of the leaf being folded (LeafOf)
  // Pruned records among the leaves of the current block (the node at
  // store::kLowestStoredLevel being filled).
  std::vector<uint64_t> block_pruned_;
  bool leaf_taken_ = false;    // whether the last record's leaf was folded
  TreeCheckSummary summary_;
  bool loaded_ = false;
  bool complete_ = true;
};

bool StoreHasTree(const store::Reader& reader) {
  return store::TreeLayoutOf(reader) != store::TreeLayout::kNone;
}

TreeChecker::TreeChecker(const store::Reader& reader, const std::string& tenant,
                         const TrustedKeys& keys, CheckSink* sink,
                         const chain::WitnessPolicy* policy)
    : scan_(std::make_unique<Scan>(reader, tenant, keys, sink, policy)) {}

TreeChecker::~TreeChecker() = default;

void TreeChecker::AddRecord(uint64_t seq, const store::Skeleton* skeleton, bool has_body,
                            std::string_view body) {
  scan_->AddRecord(seq, skeleton, has_body, body);
}

std::optional<std::string_view> TreeChecker::LeafCategory() const {
  return scan_->LeafCategory();
}

TreeCheckSummary TreeChecker::Finish() { return scan_->Finish(); }

}  // namespace indelible::check
