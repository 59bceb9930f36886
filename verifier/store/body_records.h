// BodyRecords: the bodies of a store one record at a time, in key order,
// from the rows of kBodiesCf (runs, layout.h "bodies_v2") and of a store's
// legacy kLegacyBodiesCf (one body per row) together. The daemon's
// ReadRecords and the verifier's RecordRows read bodies through it, and
// skeletons the same way (SkeletonRecords: kSkeletonsCf's runs and
// kLegacySkeletonsCf's rows, encoded alike); "body" below is either.
//
// A row's bodies must lie below the next row's key: a run may not reach
// into the next, so damage to one row never spoils another. A run that does
// not decode (BodyRun), or whose body reaches the next row's key, yields
// the bodies before the fault, then its undecoded rest as a damaged body
// (damaged()) at the next seq it could hold; if no seq is free below the
// next row, the rest is read as part of the last body before it (which
// then does not match its skeleton). An empty row is a damaged body at its
// key's seq, and a row whose key is not key(tenant, seq) is handed on
// whole, damaged. The damage is named at that seq, and later seqs of the
// row read as pruned. Where both column families hold a seq (a move the
// daemon did not finish), the run's copy is read.
//
// Skeletons (SkeletonRecords) are also read only within reach of their
// row's key: the daemon reads the skeleton of seq from the rows of keys
// seq - 63 to seq (SkeletonRunFloor), so a skeleton kBodyRunMaxRecords or
// more seqs above its row's key starts the row's undecoded rest, named as
// any rest is (at the seq after the last skeleton read).
//
// Not thread-safe. The iterators are not owned and must outlive it; a
// body's key and value stay valid until the next Next() or Seek().
#ifndef INDELIBLE_VERIFIER_STORE_BODY_RECORDS_H_
#define INDELIBLE_VERIFIER_STORE_BODY_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rocksdb/iterator.h"
#include "rocksdb/status.h"
#include "verifier/store/layout.h"

namespace indelible::store {

class BodyRecords {
 public:
  // `runs` iterates kBodiesCf, `legacy` kLegacyBodiesCf; either may be null
  // (a store without that column family). Call Seek or SeekToFirst first.
  BodyRecords(rocksdb::Iterator* runs, rocksdb::Iterator* legacy)
      : BodyRecords(runs, legacy, UINT64_MAX) {}

  void SeekToFirst();
  // The first body whose key(tenant, seq) is at or after `key`, or a
  // damaged body of the key's tenant before it whose row's range holds the
  // key (the damage may cover the body of `key`).
  void Seek(std::string_view key);
  // Seek(key) where the row that holds `key` starts at or after `from`
  // (SkeletonRunFloor): reads no row before `from`. A seek backwards (Seek)
  // reads the table before the key, which may be another tenant's: damage
  // there would fail this tenant's read.
  void SeekFrom(std::string_view from, std::string_view key);
  bool Valid() const { return valid_; }
  void Next();
  // key(tenant, seq) and the body value (layout.h), of the current body.
  std::string_view key() const;
  std::string_view value() const;
  // The current body is part of a row that does not decode (above): its
  // value is not a body as written.
  bool damaged() const { return from_run_ && bodies_[at_].damaged; }
  // The first error of either iterator (OK while Valid()).
  rocksdb::Status status() const;

 protected:
  // A row holds seqs at most `max_distance` above its key's seq only.
  BodyRecords(rocksdb::Iterator* runs, rocksdb::Iterator* legacy, uint64_t max_distance)
      : runs_(runs), legacy_(legacy), max_distance_(max_distance) {}

 private:
  struct Body {
    std::string key;
    std::string_view value;
    bool damaged = false;
  };
  static std::string_view Key(const rocksdb::Iterator* it) {
    return {it->key().data(), it->key().size()};
  }
  static std::string_view Value(const rocksdb::Iterator* it) {
    return {it->value().data(), it->value().size()};
  }
  // Reads the row runs_ is at into bodies_ and moves runs_ to the next
  // row, whose key bounds this one; then on to later rows while one yields
  // no body. at_ = 0.
  void LoadRun();
  // Decodes row_ (of key row_key_) into bodies_, each below `next_key`
  // (none if empty).
  void DecodeRun(std::string_view next_key);
  // The slot after the last body of the row (bodies_[n_]), made if new;
  // Add fills in its value and makes it the row's last body.
  Body& Slot();
  void Add(std::string_view value, bool damaged);
  void NextRunBody();
  // Skips the bodies below `key` (Seek).
  void SkipTo(std::string_view key);
  bool run_valid() const { return at_ < n_; }
  // Picks the lower of the two sides.
  void Settle();

  rocksdb::Iterator* const runs_;
  rocksdb::Iterator* const legacy_;
  const uint64_t max_distance_;
  // The current row, copied (runs_ has moved on to the next), and its
  // bodies, bodies_[0, n_); at_ is the current one. Slots past n_ are kept
  // from earlier rows so that their keys' buffers are reused.
  std::string row_key_;
  std::string row_;
  std::string next_key_;  // the next row's key; empty if it is the last
  std::string prefix_;    // the row's TenantPrefix
  std::vector<Body> bodies_;
  size_t n_ = 0;
  size_t at_ = 0;
  bool valid_ = false;
  bool from_run_ = false;
};

// The skeletons of a store one record at a time (above), each within
// kBodyRunMaxRecords seqs of its row's key.
class SkeletonRecords : public BodyRecords {
 public:
  SkeletonRecords(rocksdb::Iterator* runs, rocksdb::Iterator* legacy)
      : BodyRecords(runs, legacy, kBodyRunMaxRecords - 1) {}
};

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_BODY_RECORDS_H_
