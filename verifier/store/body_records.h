// BodyRecords: the bodies of a store one record at a time, in key order,
// from the rows of kBodiesCf (runs, layout.h "bodies_v2") and of a store's
// legacy kLegacyBodiesCf (one body per row) together. The daemon's
// ReadRecords and the verifier's RecordRows read bodies through it.
//
// A run that does not decode yields the bodies before the fault, then one
// body at the first seq the run could hold next whose value is the rest of
// the row (the checker finds it malformed, or not the body its skeleton
// commits to): the damage is named at that seq, and later seqs of the run
// read as pruned. Where both column families hold a seq (a move the daemon
// did not finish), the run's copy is read.
//
// Not thread-safe. The iterators are not owned and must outlive it; a
// body's key and value stay valid until the next Next() or Seek().
#ifndef INDELIBLE_VERIFIER_STORE_BODY_RECORDS_H_
#define INDELIBLE_VERIFIER_STORE_BODY_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "rocksdb/iterator.h"
#include "rocksdb/status.h"
#include "verifier/store/layout.h"

namespace indelible::store {

class BodyRecords {
 public:
  // `runs` iterates kBodiesCf, `legacy` kLegacyBodiesCf; either may be null
  // (a store without that column family). Call Seek or SeekToFirst first.
  BodyRecords(rocksdb::Iterator* runs, rocksdb::Iterator* legacy)
      : runs_(runs), legacy_(legacy) {}

  void SeekToFirst();
  // The first body whose key(tenant, seq) is at or after `key`.
  void Seek(std::string_view key);
  bool Valid() const { return valid_; }
  void Next();
  // key(tenant, seq) and the body value (layout.h), of the current body.
  std::string_view key() const { return from_run_ ? std::string_view(run_key_) : Key(legacy_); }
  std::string_view value() const { return from_run_ ? run_body_ : Value(legacy_); }
  // The first error of either iterator (OK while Valid()).
  rocksdb::Status status() const;

 private:
  static std::string_view Key(const rocksdb::Iterator* it) {
    return {it->key().data(), it->key().size()};
  }
  static std::string_view Value(const rocksdb::Iterator* it) {
    return {it->value().data(), it->value().size()};
  }
  // Starts the run of the first row from where runs_ is that yields a
  // body (run_valid_ false if none does).
  void LoadRun();
  // The run's next body, or its undecoded rest once; false at its end.
  bool NextInRun();
  // Makes (seq, body) of the current run's tenant the current body.
  void Emit(uint64_t seq, std::string_view body);
  // Moves to the run's next body, loading the next row's run at its end.
  void NextRunBody();
  // Picks the lower of the two sides.
  void Settle();

  rocksdb::Iterator* const runs_;
  rocksdb::Iterator* const legacy_;
  // The current run: its tenant prefix ("tenant || 0x00"), its decoder, and
  // the body it is at (run_valid_).
  std::string run_prefix_;
  BodyRun run_{0, {}};
  bool run_valid_ = false;
  bool run_tail_ = false;  // the body is the undecoded rest of a run
  std::string run_key_;
  std::string_view run_body_;
  // The seq of the last body of run_prefix_'s tenant read from a run.
  bool have_last_ = false;
  uint64_t last_seq_ = 0;
  bool valid_ = false;
  bool from_run_ = false;
};

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_BODY_RECORDS_H_
