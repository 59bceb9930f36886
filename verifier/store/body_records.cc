#include "verifier/store/body_records.h"

namespace indelible::store {

void BodyRecords::SeekToFirst() {
  have_last_ = false;
  if (runs_ != nullptr) {
    runs_->SeekToFirst();
    LoadRun();
  }
  if (legacy_ != nullptr) legacy_->SeekToFirst();
  Settle();
}

void BodyRecords::Seek(std::string_view key) {
  have_last_ = false;
  if (runs_ != nullptr) {
    // The run that holds `key` starts at or before it.
    const rocksdb::Slice k(key.data(), key.size());
    runs_->SeekForPrev(k);
    if (!runs_->Valid() && runs_->status().ok()) runs_->Seek(k);
    LoadRun();
    while (run_valid_ && std::string_view(run_key_) < key) NextRunBody();
  }
  if (legacy_ != nullptr) legacy_->Seek(rocksdb::Slice(key.data(), key.size()));
  Settle();
}

void BodyRecords::Next() {
  if (!valid_) return;
  if (from_run_) {
    NextRunBody();
  } else {
    legacy_->Next();
  }
  Settle();
}

rocksdb::Status BodyRecords::status() const {
  if (runs_ != nullptr && !runs_->status().ok()) return runs_->status();
  if (legacy_ != nullptr) return legacy_->status();
  return rocksdb::Status::OK();
}

void BodyRecords::Emit(uint64_t seq, std::string_view body) {
  run_key_.assign(run_prefix_);
  chain::PutU64(&run_key_, seq);
  run_body_ = body;
  run_valid_ = true;
  have_last_ = seq != UINT64_MAX;
  last_seq_ = seq;
}

void BodyRecords::LoadRun() {
  run_valid_ = false;
  run_tail_ = false;
  for (; runs_->Valid(); runs_->Next()) {
    const std::string_view key = Key(runs_);
    std::string_view tenant;
    uint64_t seq;
    if (!ParseSeqKey(key, &tenant, &seq)) {
      // Not a key(tenant, seq): handed on whole, for the checker to name.
      run_prefix_.clear();
      run_key_.assign(key);
      run_body_ = Value(runs_);
      run_valid_ = true;
      run_tail_ = true;
      have_last_ = false;
      return;
    }
    // A run of the same tenant starts above the last body read: a row that
    // overlaps the one before it does not decode.
    const bool same_tenant = have_last_ && key.substr(0, tenant.size() + 1) == run_prefix_;
    if (!same_tenant) run_prefix_ = TenantPrefix(tenant);
    if (same_tenant && seq <= last_seq_) seq = last_seq_ + 1;
    run_ = BodyRun(seq, Value(runs_));
    if (NextInRun()) return;
  }
}

bool BodyRecords::NextInRun() {
  uint64_t seq;
  std::string_view body;
  if (run_.Next(&seq, &body)) {
    Emit(seq, body);
    return true;
  }
  if (run_.malformed() && !run_tail_) {
    run_tail_ = true;
    Emit(run_.next_min_seq(), run_.rest());
    return true;
  }
  run_valid_ = false;
  return false;
}

void BodyRecords::NextRunBody() {
  if (!run_tail_ && NextInRun()) return;
  if (!runs_->Valid()) {
    run_valid_ = false;
    return;
  }
  runs_->Next();
  LoadRun();
}

void BodyRecords::Settle() {
  const bool r = run_valid_;
  bool l = legacy_ != nullptr && legacy_->Valid();
  int cmp = 0;
  if (r && l) {
    cmp = std::string_view(run_key_).compare(Key(legacy_));
    if (cmp == 0) {  // the run's copy is read
      legacy_->Next();
      l = legacy_->Valid();
      cmp = -1;
    }
  }
  const bool runs_ok = runs_ == nullptr || runs_->status().ok();
  const bool legacy_ok = legacy_ == nullptr || legacy_->status().ok();
  valid_ = (r || l) && (r || runs_ok) && (l || legacy_ok);
  from_run_ = r && (!l || cmp < 0);
}

}  // namespace indelible::store
