#include "verifier/check/store_check.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"
#include "verifier/check/checkpoint_rows.h"
#include "verifier/check/erasure.h"
#include "verifier/check/key_rotations.h"
#include "verifier/check/policy_history.h"
#include "verifier/check/tree_check.h"
#include "verifier/store/layout.h"
#include "verifier/store/tree_nodes.h"

namespace indelible::check {
namespace {

using chain::ToAbsl;
using chain::ToStd;

// The tenant a row belongs to: its key up to the first 0x00. For a
// well-formed key(tenant, seq) that is the tenant; for a mangled key it still
// sorts where the scan meets it, so it is reported with its neighbours.
std::string_view TenantOfKey(std::string_view key) {
  return key.substr(0, key.find('\0'));
}

std::string Printable(std::string_view bytes) {
  return absl::StrCat("0x", chain::ToHex(bytes));
}

// Counts findings per tenant on their way to the caller's reporter.
class CountingReporter final : public Reporter {
 public:
  explicit CountingReporter(Reporter* next) : next_(next) {}
  void Report(const Finding& f) override {
    ++counts_[f.tenant];
    ++total_;
    next_->Report(f);
  }
  uint64_t count(const std::string& tenant) const {
    auto it = counts_.find(tenant);
    return it == counts_.end() ? 0 : it->second;
  }
  uint64_t total() const { return total_; }

 private:
  Reporter* next_;
  std::unordered_map<std::string, uint64_t> counts_;
  uint64_t total_ = 0;
};

// A tenant's Merkle tree (tree_check.h) and retention history
// (policy_history.h), fed its records in seq order on the sink's step
// thread (ParallelSink::Follow), so that neither holds up the reading of the
// next record. Their findings are delivered where the record that caused
// them stands, as if they had run on the reading thread.
class TenantSteps final : public OrderedStep, private CheckSink {
 public:
  enum Flags : uint32_t {
    kRecord = 0,      // a record with a readable skeleton
    kUnreadable = 1,  // a record whose skeleton could not be decoded
    kErased = 2,      // with kRecord: a body erased by the purge (erasure.h)
    kKeys = 4,        // no record: the next snapshot of KeysFollowed()
    kFinish = 8,      // no record: after the last one (set_now() first)
  };

  TenantSteps(const store::Reader& reader, const std::string& tenant, const TrustedKeys& keys,
              bool has_tree, const chain::WitnessPolicy* policy)
      : tenant_(tenant), keys_(keys), policies_(tenant) {
    if (has_tree) tree_.emplace(reader, tenant, keys_, static_cast<CheckSink*>(this), policy);
  }

  // On the reading thread: a key rotation changed the tenant's keys to
  // `keys`; a kKeys step takes them over in stream order.
  void KeysFollowed(const TrustedKeys& keys) {
    std::lock_guard<std::mutex> l(mu_);
    followed_.push_back(keys);
  }
  // On the reading thread, before the kFinish step: the time pruned records
  // are judged at.
  void set_now(uint64_t now_ns) { now_ns_ = now_ns; }
  // After the sink's Flush(): the tree's summary, if a kFinish step ran.
  const std::optional<TreeCheckSummary>& tree_summary() const { return tree_summary_; }

  void Step(const RecordView& r, uint32_t flags, Reporter* out) override {
    out_ = out;
    if (flags & kKeys) {
      std::lock_guard<std::mutex> l(mu_);
      keys_ = std::move(followed_.front());
      followed_.pop_front();
    } else if (flags & kFinish) {
      Finish();
    } else if (flags & kUnreadable) {
      if (tree_) tree_->AddRecord(r.seq, nullptr, false, {});
    } else {
      AddRecord(r, (flags & kErased) != 0);
    }
  }

 private:
  void AddRecord(const RecordView& r, bool erased) {
    if (tree_) tree_->AddRecord(r.seq, &r.skeleton, r.has_body, r.body);
    // The category the record's leaf commits to (the body's, if it has
    // one; unknown without a tree).
    std::optional<std::string_view> category;
    if (tree_) category = tree_->LeafCategory();
    std::string_view salt, ce;
    if (erased) {
      // Erased by the purge, judged by the certificate (erasure.h).
    } else if (!r.has_body) {
      policies_.AddPruned(r.seq, r.skeleton.received_at_ns, category.value_or(""));
    } else if ((!category || *category == chain::kPolicyCategory) &&
               store::DecodeBody(r.body, &salt, &ce)) {
      if (std::string problem = policies_.AddRecord(r.seq, r.skeleton.received_at_ns, ce);
          !problem.empty()) {
        Report(Finding{tenant_, r.seq, Kind::kMalformed, std::move(problem)});
      }
    }
  }

  void Finish() {
    for (PolicyHistory::Early& e : policies_.Finish(now_ns_)) {
      Report(Finding{tenant_, e.seq, Kind::kEarlyPrune, std::move(e.detail)});
    }
    if (tree_) tree_summary_ = tree_->Finish();
    tree_.reset();  // and with it its iterators
    keys_ = TrustedKeys();
  }

  // CheckSink, for the tree's findings.
  void Report(Finding finding) override { out_->Report(finding); }
  void CheckContent(std::string_view tenant, const RecordView& r,
                    const chain::Digest* prev) override {
    std::vector<Finding> found;
    CheckRecordContent(tenant, r, prev, &found);
    for (const Finding& f : found) out_->Report(f);
  }

  const std::string tenant_;
  TrustedKeys keys_;  // the tenant's keys at the current step
  PolicyHistory policies_;
  std::optional<TreeChecker> tree_;
  std::optional<TreeCheckSummary> tree_summary_;
  uint64_t now_ns_ = 0;
  Reporter* out_ = nullptr;  // of the current step
  std::mutex mu_;
  std::deque<TrustedKeys> followed_;  // guarded by mu_
};

class StoreScan {
 public:
  StoreScan(const store::Reader& reader, const StoreCheckOptions& options,
            Reporter* reporter)
      : reader_(reader),
        options_(options),
        counter_(reporter),
        sink_(options.parallel, &counter_) {}

  absl::StatusOr<StoreCheckResult> Run();

 private:
  // The smallest tenant any source has left, or nullopt when all are done.
  std::optional<std::string> NextTenant() const;
  HeadRow TakeHead(const std::string& tenant, std::string* problem);
  // Feeds stored checkpoint rows of `checker`'s tenant with seq <= upto.
  void FeedCheckpoints(ChainChecker* checker, uint64_t upto);
  // Feeds the tenant's record rows to `checker`, and by way of the sink to
  // `steps`. False if RocksDB reported corruption (already reported as a
  // finding): the scan cannot go on.
  bool FeedRecords(ChainChecker* checker, TenantSteps* steps);
  // False if the current record's skeleton keeps a category other than
  // kKeyRotationCategory: its body need not be read for a statement. Only
  // in the current tree layout, where the skeleton's category is the one
  // the record's leaf commits to and the tree check reports one that
  // differs from the body's: a skeleton changed to hide a rotation is a
  // finding, and the new key stays untrusted, so the checkpoints it signed
  // are findings too. In a store without a tree or with the v1 tree
  // (leaves hashed from the body) nothing checks the skeleton's category:
  // every body is read, as is the body of a record whose skeleton keeps
  // no category or is malformed.
  bool MayBeKeyRotation() const {
    if (!skeleton_categories_checked_ || !records_->has_skeleton() ||
        records_->skeleton_damaged()) {
      return true;
    }
    const std::string_view sk = records_->skeleton();
    if (sk.size() <= store::kSkeletonSize) return true;
    return sk.substr(store::kSkeletonSize) == kKeyRotationCategory;
  }
  // After the tenant's records: settles its checkpoints, erasure, chain,
  // and (on the step thread) its retention history and tree.
  absl::Status FinishTenant(ChainChecker* checker, TenantSteps* steps);
  // Checks one tenant and adds its summary to *result; true if RocksDB
  // reported corruption in its records (the scan cannot go on).
  absl::StatusOr<bool> CheckTenant(const std::string& tenant, bool has_tree,
                                   StoreCheckResult* result);
  // After the sink's Flush(): the trees' summaries, finding counts, totals.
  void Summarize(StoreCheckResult* result);
  // The current tenant's erasure (erasure.h), if it was purged.
  std::optional<Erasure> erasure_;
  uint64_t erased_ = 0;
  absl::Status OpenSources();
  // Picks the keys stored checkpoints are checked against.
  absl::Status ChooseKeys(StoreCheckResult* result);
  void Progress();

  const store::Reader& reader_;
  const StoreCheckOptions& options_;
  CountingReporter counter_;
  // Each tenant's steps, with the index of its summary in the result; they
  // outlive the sink, which runs them until its Flush() (or destruction).
  std::vector<std::pair<std::unique_ptr<TenantSteps>, size_t>> steps_;
  ParallelSink sink_;

  std::unique_ptr<store::Rows> heads_;
  std::optional<std::string> single_head_;  // with options_.tenant
  bool single_head_taken_ = false;
  std::unique_ptr<store::RecordRows> records_;
  std::unique_ptr<store::Rows> checkpoints_;
  std::map<std::string, std::vector<const CheckpointClaim*>> supplied_;
  std::map<std::string, std::vector<const CheckpointClaim*>>::iterator
      supplied_next_;

  StoreKeys store_keys_;
  const TrustedKeys* keys_ = nullptr;
  // The tree check compares each skeleton's category with its body's
  // (the current tree layout): MayBeKeyRotation may trust it.
  bool skeleton_categories_checked_ = false;
  // The keys trusted at the current point of the current tenant's chain:
  // *keys_ and the keys its rotation records led to so far.
  TrustedKeys tenant_keys_;

  uint64_t scanned_ = 0;
  uint64_t expected_ = 0;
  std::chrono::steady_clock::time_point last_progress_{};
};

absl::Status StoreScan::OpenSources() {
  for (const CheckpointClaim& c : options_.supplied) {
    if (!options_.tenant.empty() && c.checkpoint.tenant != options_.tenant) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a supplied checkpoint is of tenant \"", c.checkpoint.tenant,
          "\", but only \"", options_.tenant, "\" is being checked"));
    }
    supplied_[c.checkpoint.tenant].push_back(&c);
  }
  supplied_next_ = supplied_.begin();

  if (options_.tenant.empty()) {
    // One pass over the (small) heads column family for the progress total.
    for (auto rows = reader_.NewRows(store::kHeadsCf); rows->Valid();
         rows->Next()) {
      store::Head h;
      if (store::DecodeHead(rows->value(), &h)) expected_ += h.seq;
    }
    heads_ = reader_.NewRows(store::kHeadsCf);
  } else {
    auto head = reader_.Get(store::kHeadsCf, options_.tenant);
    if (!head.ok()) return head.status();
    single_head_ = *std::move(head);
    store::Head h;
    if (single_head_ && store::DecodeHead(*single_head_, &h)) expected_ = h.seq;
  }
  records_ = reader_.NewRecordRows(options_.tenant);
  checkpoints_ = reader_.NewRows(
      store::kCheckpointsCf,
      options_.tenant.empty() ? "" : store::TenantPrefix(options_.tenant));
  return absl::OkStatus();
}

std::optional<std::string> StoreScan::NextTenant() const {
  std::optional<std::string_view> best;
  auto consider = [&best](std::string_view t) {
    if (!best || t < *best) best = t;
  };
  if (heads_ != nullptr && heads_->Valid()) consider(heads_->key());
  if (single_head_ && !single_head_taken_) consider(options_.tenant);
  if (records_->Valid()) consider(TenantOfKey(records_->key()));
  if (checkpoints_->Valid()) consider(TenantOfKey(checkpoints_->key()));
  if (supplied_next_ != supplied_.end()) consider(supplied_next_->first);
  if (!best) return std::nullopt;
  return std::string(*best);
}

HeadRow StoreScan::TakeHead(const std::string& tenant, std::string* problem) {
  std::optional<std::string_view> value;
  if (heads_ != nullptr && heads_->Valid() && heads_->key() == tenant) {
    value = heads_->value();
  } else if (single_head_ && !single_head_taken_ && tenant == options_.tenant) {
    value = *single_head_;
    single_head_taken_ = true;
  }
  HeadRow head;
  if (value) {
    if (store::DecodeHead(*value, &head.head)) {
      head.state = HeadRow::State::kPresent;
    } else {
      head.state = HeadRow::State::kUnreadable;
      *problem = absl::StrCat("the heads row is ", value->size(),
                              " bytes, want ", store::kHeadSize);
    }
  }
  if (heads_ != nullptr && heads_->Valid() && heads_->key() == tenant) {
    heads_->Next();
  }
  return head;
}

void StoreScan::FeedCheckpoints(ChainChecker* checker, uint64_t upto) {
  for (; checkpoints_->Valid(); checkpoints_->Next()) {
    std::string_view key = checkpoints_->key();
    if (TenantOfKey(key) != checker->tenant()) return;
    std::string_view tenant;
    uint64_t seq = 0;
    if (!store::ParseSeqKey(key, &tenant, &seq) ||
        tenant != checker->tenant()) {
      checker->Report(Kind::kMalformed, 0,
                      absl::StrCat("checkpoint row with a malformed key ",
                                   Printable(key)));
      continue;
    }
    if (seq > upto) return;
    AddStoredCheckpoint(seq, checkpoints_->value(), tenant_keys_, checker);
  }
}

bool StoreScan::FeedRecords(ChainChecker* checker, TenantSteps* steps) {
  const std::string& tenant_id = checker->tenant();
  uint64_t last_seq = 0;
  for (; records_->Valid(); records_->Next()) {
    std::string_view key = records_->key();
    if (TenantOfKey(key) != tenant_id) break;
    std::string_view tenant;
    uint64_t seq = 0;
    if (!store::ParseSeqKey(key, &tenant, &seq) || tenant != tenant_id) {
      checker->Report(Kind::kMalformed, 0,
                      absl::StrCat(records_->has_skeleton() ? "skeleton"
                                                            : "body",
                                   " row with a malformed key ",
                                   Printable(key)));
      continue;
    }
    // A rotation record is followed before the checkpoints that cover it.
    std::string_view salt, ce;
    if (!keys_->empty() && records_->has_body() && MayBeKeyRotation() &&
        store::DecodeBody(records_->body(), &salt, &ce)) {
      std::string followed;
      if (std::string problem = FollowKeyRotation(ce, &tenant_keys_, &followed);
          !problem.empty()) {
        checker->Report(Kind::kKeyRotation, seq, std::move(problem));
      }
      if (!followed.empty()) {
        steps->KeysFollowed(tenant_keys_);
        sink_.Follow(steps, tenant_id, RecordView{}, TenantSteps::kKeys);
      }
    }
    FeedCheckpoints(checker, seq);
    last_seq = seq;
    if (!records_->has_skeleton()) {
      checker->AddOrphanBody(seq);
      continue;
    }
    RecordView r;
    r.seq = seq;
    if (records_->skeleton_damaged()) {
      checker->AddUnreadableRecord(
          seq,
          "its row of skeletons does not decode from this skeleton on, or holds it 64 or more "
          "seqs above the row's key, where the daemon does not read it");
      sink_.Follow(steps, tenant_id, r, TenantSteps::kUnreadable);
    } else if (!store::DecodeSkeleton(records_->skeleton(), &r.skeleton)) {
      checker->AddUnreadableRecord(
          seq, absl::StrCat("the skeleton is ", records_->skeleton().size(),
                            " bytes, want at least ", store::kSkeletonSize));
      sink_.Follow(steps, tenant_id, r, TenantSteps::kUnreadable);
    } else {
      r.has_body = records_->has_body();
      if (r.has_body) r.body = records_->body();
      if (erasure_ && seq > erasure_->through) {
        checker->Report(Kind::kPurge, seq,
                        absl::StrCat("a record after the purge's final seq ",
                                     erasure_->through));
      } else if (erasure_ && r.has_body) {
        checker->Report(Kind::kPurge, seq, "a body survived the purge");
      } else if (erasure_) {
        ++erased_;
      }
      checker->AddRecord(r);
      const bool erased = !r.has_body && erasure_ && seq <= erasure_->through;
      sink_.Follow(steps, tenant_id, r, erased ? TenantSteps::kErased : TenantSteps::kRecord);
    }
    if ((++scanned_ & 0xffff) == 0) Progress();
  }
  if (absl::Status s = records_->status(); !s.ok()) {
    checker->Report(
        absl::IsDataLoss(s) ? Kind::kStoreCorruption : Kind::kMalformed,
        last_seq + 1,
        absl::StrCat("reading the records after seq ", last_seq, ": ",
                     ToAbsl(ToStd(s.message()))));
    return false;
  }
  return true;
}

absl::Status StoreScan::FinishTenant(ChainChecker* checker, TenantSteps* steps) {
  FeedCheckpoints(checker, UINT64_MAX);
  if (erasure_) {
    std::vector<Finding> erasure_findings;
    if (auto s = SettleErasure(reader_, tenant_keys_, checker->summary().head_seq,
                               checker->summary().head_hash, &*erasure_, &erasure_findings);
        !s.ok()) {
      return s;
    }
    for (Finding& f : erasure_findings) checker->Report(f.kind, f.seq, std::move(f.detail));
  }
  checker->Finish();  // (a tenant cut short by corruption is not settled)
  // A body could have gone until now: the later of this machine's clock
  // and the chain's newest time (a daemon clock ahead of ours).
  uint64_t now = options_.now_ns;
  if (now == 0) {
    now = std::max<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count(),
        checker->summary().head_received_at_ns);
  }
  steps->set_now(now);
  sink_.Follow(steps, checker->tenant(), RecordView{}, TenantSteps::kFinish);
  return absl::OkStatus();
}

void StoreScan::Progress() {
  if (!options_.progress) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_progress_ < std::chrono::milliseconds(100)) return;
  last_progress_ = now;
  options_.progress(scanned_, expected_);
}

absl::Status StoreScan::ChooseKeys(StoreCheckResult* result) {
  keys_ = &options_.keys;
  result->key_source = KeySource::kGiven;
  if (options_.keys.empty()) {
    result->key_source = KeySource::kNone;
    if (options_.fall_back_to_store_keys) {
      auto keys = ReadStoreKeys(reader_);
      if (!keys.ok()) return keys.status();
      store_keys_ = *std::move(keys);
      for (std::string& problem : store_keys_.problems) {
        sink_.Report(Finding{"", 0, Kind::kMalformed, std::move(problem)});
      }
      if (!store_keys_.keys.empty()) {
        keys_ = &store_keys_.keys;
        result->key_source = KeySource::kStore;
      }
    }
  }
  result->keys_used = keys_->Describe();
  return absl::OkStatus();
}

absl::StatusOr<bool> StoreScan::CheckTenant(const std::string& tenant, bool has_tree,
                                            StoreCheckResult* result) {
  std::string head_problem;
  HeadRow head = TakeHead(tenant, &head_problem);
  ChainChecker checker(tenant, head, &sink_);
  tenant_keys_ = *keys_;
  if (!head_problem.empty()) {
    checker.Report(Kind::kMalformed, 0, head_problem);
  }
  if (supplied_next_ != supplied_.end() && supplied_next_->first == tenant) {
    for (const CheckpointClaim* c : supplied_next_->second) {
      checker.AddCheckpoint(*c);
    }
    ++supplied_next_;
  }
  std::vector<Finding> erasure_findings;
  auto erasure = LoadErasure(reader_, tenant, &erasure_findings);
  if (!erasure.ok()) return erasure.status();
  erasure_ = *std::move(erasure);
  erased_ = 0;
  for (Finding& f : erasure_findings) checker.Report(f.kind, f.seq, std::move(f.detail));
  steps_.emplace_back(std::make_unique<TenantSteps>(
                          reader_, tenant, tenant_keys_, has_tree,
                          options_.witnesses ? &*options_.witnesses : nullptr),
                      result->tenants.size());
  TenantSteps* steps = steps_.back().first.get();
  const bool corrupt = !FeedRecords(&checker, steps);
  if (!corrupt) {
    if (auto s = FinishTenant(&checker, steps); !s.ok()) return s;
  }
  result->tenants.push_back(checker.summary());
  if (erasure_) {
    TenantSummary& t = result->tenants.back();
    t.erased_by = erasure_->by;
    t.erased_through = erasure_->through;
    t.erasure_verified = erasure_->verified;
    t.erased = erased_;
    t.pruned -= std::min(t.pruned, erased_);
  }
  return corrupt;
}

void StoreScan::Summarize(StoreCheckResult* result) {
  for (const auto& [steps, index] : steps_) {
    if (!steps->tree_summary()) continue;
    const TreeCheckSummary& done = *steps->tree_summary();
    TenantSummary& t = result->tenants[index];
    t.witnessed_size = done.newest_size;
    t.quorum = done.quorum;
    t.tree_checked = true;
    t.tree_nodes = done.nodes;
    t.tree_leaves_pruned = done.leaves_pruned;
    t.v2_checkpoints = done.checkpoints;
  }
  for (TenantSummary& t : result->tenants) {
    t.findings = counter_.count(t.tenant);
    result->records += t.records;
    result->pruned += t.pruned;
    result->stored_checkpoints += t.stored_checkpoints;
    if (t.checkpoints_unverified > 0) result->signatures_checked = false;
    // Records after the newest v2 checkpoint are covered by no cosignature:
    // whoever can write the store could have cut them off, or replaced
    // them, and removed the checkpoints that covered them.
    if (options_.witnesses && t.records > 0 &&
        (t.quorum.quorum == 0 || !t.quorum.met() || t.witnessed_size < t.head_seq)) {
      result->below_quorum.push_back(t.tenant);
    }
  }
  result->witness_policy = options_.witnesses.has_value();
  result->findings = counter_.total();
}

absl::StatusOr<StoreCheckResult> StoreScan::Run() {
  const auto start = std::chrono::steady_clock::now();
  StoreCheckResult result;
  if (auto s = OpenSources(); !s.ok()) return s;
  if (auto s = ChooseKeys(&result); !s.ok()) return s;
  const bool has_tree = StoreHasTree(reader_);
  skeleton_categories_checked_ = store::TreeLayoutOf(reader_) == store::TreeLayout::kCurrent;
  bool corrupt = false;
  while (!corrupt) {
    std::optional<std::string> tenant = NextTenant();
    if (!tenant) break;
    absl::StatusOr<bool> cut_short = CheckTenant(*tenant, has_tree, &result);
    if (!cut_short.ok()) return cut_short.status();
    corrupt = *cut_short;
  }
  if (!corrupt) {
    for (const store::Rows* rows : {heads_.get(), checkpoints_.get()}) {
      if (rows == nullptr) continue;
      if (absl::Status s = rows->status(); !s.ok()) {
        if (!absl::IsDataLoss(s)) return s;
        sink_.Report(Finding{"", 0, Kind::kStoreCorruption,
                             std::string(ToStd(s.message()))});
      }
    }
  }
  sink_.Flush();
  if (options_.progress) options_.progress(scanned_, expected_);
  if (!options_.tenant.empty() && result.tenants.empty()) {
    return absl::NotFoundError(absl::StrCat("no tenant \"", options_.tenant,
                                            "\" in ", reader_.data_dir()));
  }
  Summarize(&result);
  result.seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return result;
}

}  // namespace

absl::StatusOr<StoreCheckResult> CheckStore(const store::Reader& reader,
                                            const StoreCheckOptions& options,
                                            Reporter* reporter) {
  StoreScan scan(reader, options, reporter);
  return scan.Run();
}

}  // namespace indelible::check
