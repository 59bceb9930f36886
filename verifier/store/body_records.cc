#include "verifier/store/body_records.h"

namespace indelible::store {

void BodyRecords::SeekToFirst() {
  if (runs_ != nullptr) {
    runs_->SeekToFirst();
    LoadRun();
  }
  if (legacy_ != nullptr) legacy_->SeekToFirst();
  Settle();
}

void BodyRecords::Seek(std::string_view key) {
  if (runs_ != nullptr) {
    // The run that holds `key` starts at or before it.
    const rocksdb::Slice k(key.data(), key.size());
    runs_->SeekForPrev(k);
    if (!runs_->Valid() && runs_->status().ok()) runs_->Seek(k);
    LoadRun();
    SkipTo(key);
  }
  if (legacy_ != nullptr) legacy_->Seek(rocksdb::Slice(key.data(), key.size()));
  Settle();
}

void BodyRecords::SeekFrom(std::string_view from, std::string_view key) {
  if (runs_ != nullptr) {
    runs_->Seek(rocksdb::Slice(from.data(), from.size()));
    LoadRun();
    SkipTo(key);
  }
  if (legacy_ != nullptr) legacy_->Seek(rocksdb::Slice(key.data(), key.size()));
  Settle();
}

void BodyRecords::SkipTo(std::string_view key) {
  // A damaged body of the key's tenant below it stops the skip when its
  // row's range holds the key: the damage may cover the key's body.
  const size_t nul = key.find('\0');
  const std::string_view tenant_prefix =
      nul == std::string_view::npos ? std::string_view() : key.substr(0, nul + 1);
  while (run_valid() && std::string_view(bodies_[at_].key) < key) {
    const Body& b = bodies_[at_];
    if (b.damaged && !tenant_prefix.empty() && b.key.starts_with(tenant_prefix) &&
        (next_key_.empty() || key < std::string_view(next_key_))) {
      break;
    }
    NextRunBody();
  }
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

std::string_view BodyRecords::key() const {
  return from_run_ ? std::string_view(bodies_[at_].key) : Key(legacy_);
}

std::string_view BodyRecords::value() const {
  return from_run_ ? bodies_[at_].value : Value(legacy_);
}

rocksdb::Status BodyRecords::status() const {
  if (runs_ != nullptr && !runs_->status().ok()) return runs_->status();
  if (legacy_ != nullptr) return legacy_->status();
  return rocksdb::Status::OK();
}

void BodyRecords::NextRunBody() {
  if (++at_ < n_) return;
  LoadRun();
}

void BodyRecords::LoadRun() {
  n_ = 0;
  at_ = 0;
  while (n_ == 0 && runs_->Valid()) {
    row_key_.assign(Key(runs_));
    row_.assign(Value(runs_));
    runs_->Next();
    // Without the next key the row has no bound: an error stops here.
    if (!runs_->Valid() && !runs_->status().ok()) return;
    next_key_.assign(runs_->Valid() ? Key(runs_) : std::string_view());
    DecodeRun(next_key_);
  }
}

void BodyRecords::DecodeRun(std::string_view next_key) {
  std::string_view tenant;
  uint64_t first;
  if (!ParseSeqKey(row_key_, &tenant, &first)) {
    // Not a key(tenant, seq): handed on whole, for the checker to name.
    Slot().key.assign(row_key_);
    Add(row_, true);
    return;
  }
  prefix_.assign(tenant);  // TenantPrefix, in a kept buffer
  prefix_.push_back('\0');
  // key(tenant, seq), written into the next free slot's key (whose buffer
  // is reused from row to row).
  auto key_of = [&](uint64_t seq) -> std::string_view {
    std::string& k = Slot().key;
    k.assign(prefix_);
    chain::PutU64(&k, seq);
    return k;
  };
  BodyRun run(first, row_);
  uint64_t seq;
  std::string_view body;
  const char* rest = nullptr;  // where the undecoded bytes start, if any
  uint64_t rest_seq = first;   // the seq they are named at
  bool rest_has_seq = true;
  for (;;) {
    const uint64_t min = run.next_min_seq();
    const bool had_body = n_ > 0;
    if (!run.Next(&seq, &body)) {
      if (run.malformed() || row_.empty()) {
        rest = row_.empty() ? row_.data() : run.rest().data();
        rest_seq = min;
        // After a body of seq 2^64 - 1 no seq is left.
        rest_has_seq = !(had_body && min == 0);
      }
      break;
    }
    if (const std::string_view k = key_of(seq);
        seq - first > max_distance_ || (!next_key.empty() && k >= next_key)) {
      // Out of the row's reach, or into the next row: the fault is here.
      rest = body.data() - kBodyRunEntryHeader;
      rest_seq = min;
      break;
    }
    Add(body, false);
  }
  if (rest == nullptr) return;
  const std::string_view tail(rest, static_cast<size_t>(row_.data() + row_.size() - rest));
  if (rest_has_seq && (key_of(rest_seq) < next_key || next_key.empty())) {
    Add(tail, true);
  } else if (n_ > 0) {
    // No seq is free for it: the last body reads with the rest after it.
    Body& last = bodies_[n_ - 1];
    last.value = std::string_view(last.value.data(), last.value.size() + tail.size());
    last.damaged = true;
  } else {
    Slot().key.assign(row_key_);  // (a row's own key is below the next)
    Add(row_, true);
  }
}

BodyRecords::Body& BodyRecords::Slot() {
  if (n_ == bodies_.size()) bodies_.emplace_back();
  return bodies_[n_];
}

void BodyRecords::Add(std::string_view value, bool damaged) {
  Body& b = Slot();
  b.value = value;
  b.damaged = damaged;
  ++n_;
}

void BodyRecords::Settle() {
  const bool r = run_valid();
  bool l = legacy_ != nullptr && legacy_->Valid();
  int cmp = 0;
  if (r && l) {
    cmp = std::string_view(bodies_[at_].key).compare(Key(legacy_));
    if (cmp == 0) {  // the run's copy is read
      legacy_->Next();
      l = legacy_->Valid();
      cmp = -1;
    }
  }
  // A valid iterator's status is OK; only an exhausted side can hold an
  // error (asking a merging iterator asks every table under it).
  valid_ = (r || l) && (r || runs_ == nullptr || runs_->status().ok()) &&
           (l || legacy_ == nullptr || legacy_->status().ok());
  from_run_ = r && (!l || cmp < 0);
}

}  // namespace indelible::store
