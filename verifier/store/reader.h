// Reader: read access to an Indelible data directory (layout.h) that never
// disturbs the daemon that may be writing it.
//
// The directory is opened as a RocksDB SECONDARY instance
// (DB::OpenAsSecondary) whose private files live in a fresh directory under
// ReaderOptions::scratch_dir, removed again on close; it is never opened
// read-write, and never with OpenForReadOnly (undefined while a primary
// writes). It is the one way anything but the daemon's Storage opens a store:
// indelible-verify, the daemon's backups (its finished checkpoint) and
// restore (the copy) all open it here. Open() catches up with the primary once; after that the view is
// frozen, so every iterator sees the same state, in which a record's
// skeleton, body and head row (one WriteBatch) are either all present or all
// absent. A stopped daemon's directory and a copied backup open the same way.
//
// Every column family the directory lists is opened. Rows are handed out raw
// (key and value bytes): deciding what is malformed is the checker's job.
//
// Thread safety: a Reader may be shared; each row iterator is used by one
// thread at a time. Iterators must be destroyed before their Reader.
#ifndef INDELIBLE_VERIFIER_STORE_READER_H_
#define INDELIBLE_VERIFIER_STORE_READER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/store/body_records.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
class Slice;
}  // namespace rocksdb

namespace indelible::store {

struct ReaderOptions {
  // Parent of the secondary instance's private directory. Empty: $TMPDIR,
  // else /tmp.
  std::string scratch_dir;
};

// Rows of one column family in key order, optionally limited to the keys of
// one tenant. Valid() turns false at the end or on an error; then check
// status() (DataLoss when RocksDB found corruption).
class Rows {
 public:
  ~Rows();
  bool Valid() const;
  void Next();
  std::string_view key() const;
  std::string_view value() const;
  absl::Status status() const;
  bool ok() const;  // status().ok(), cheaply
  // The RocksDB iterator under it; null for an absent column family.
  rocksdb::Iterator* iterator() const;

 private:
  friend class Reader;
  Rows();
  // The iterator's upper bound, which must outlive it; it_ is null for a
  // column family the directory does not have.
  std::string upper_bound_;
  std::unique_ptr<rocksdb::Slice> upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The full outer join of the skeletons and the bodies (SkeletonRecords and
// BodyRecords, each of both its column families) on their key (tenant,
// seq), in key order: a row has a skeleton, a body, or both (a pruned
// record has only a skeleton; a body alone is an orphan). It ends at the
// first error of either side.
class RecordRows {
 public:
  ~RecordRows();
  bool Valid() const { return valid_; }
  void Next();
  std::string_view key() const { return key_; }
  bool has_skeleton() const { return has_skeleton_; }
  bool has_body() const { return has_body_; }
  std::string_view skeleton() const;  // REQUIRES: has_skeleton()
  // The skeleton is part of a row that does not decode (BodyRecords'
  // damaged()): its value is not a skeleton as written.
  bool skeleton_damaged() const;      // REQUIRES: has_skeleton()
  std::string_view body() const;      // REQUIRES: has_body()
  absl::Status status() const;

 private:
  friend class Reader;
  RecordRows() = default;
  void Settle();
  // The rows of both skeletons column families, which skeletons_ reads.
  std::unique_ptr<Rows> skeleton_runs_;
  std::unique_ptr<Rows> legacy_skeletons_;
  std::unique_ptr<SkeletonRecords> skeletons_;
  // The rows of both bodies column families, which bodies_ reads.
  std::unique_ptr<Rows> runs_;
  std::unique_ptr<Rows> legacy_bodies_;
  std::unique_ptr<BodyRecords> bodies_;
  bool valid_ = false;
  bool has_skeleton_ = false;
  bool has_body_ = false;
  std::string_view key_;
};

class Reader {
 public:
  // NotFound if `data_dir` does not exist; FailedPrecondition if it is not
  // an Indelible v1 store (no RocksDB there, a missing column family, no or
  // another format marker); other errors as RocksDB reports them.
  static absl::StatusOr<std::unique_ptr<Reader>> Open(
      const std::string& data_dir, const ReaderOptions& options = {});
  ~Reader();

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::string& data_dir() const { return data_dir_; }
  // Every column family the directory has, as ListColumnFamilies names them.
  const std::vector<std::string>& column_families() const { return cf_names_; }
  bool HasColumnFamily(std::string_view name) const;

  // Rows of column family `cf` whose keys start with `key_prefix` (all rows
  // if it is empty; TenantPrefix(t) for one tenant's). An absent column
  // family has no rows.
  std::unique_ptr<Rows> NewRows(std::string_view cf,
                                std::string_view key_prefix = {}) const;
  // skeletons (of kSkeletonsCf and kLegacySkeletonsCf) ⋈ bodies (of
  // kBodiesCf and kLegacyBodiesCf), of every tenant or of one.
  std::unique_ptr<RecordRows> NewRecordRows(std::string_view tenant = {}) const;

  // The last row of column family `cf` whose key starts with `key_prefix`
  // (of the whole column family if it is empty), as (key, value); nullopt if
  // there is none.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> LastRow(
      std::string_view cf, std::string_view key_prefix) const;

  // A point read; nullopt if absent.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view cf,
                                                 std::string_view key) const;
  // The skeleton of (tenant, seq) from its run (or its legacy row); nullopt
  // if there is none; DataLoss if the row that would hold it does not
  // decode up to it.
  absl::StatusOr<std::optional<std::string>> GetSkeleton(std::string_view tenant,
                                                         uint64_t seq) const;

 private:
  Reader() = default;
  rocksdb::ColumnFamilyHandle* Handle(std::string_view cf) const;
  // readahead: ReadOptions::readahead_size (0: RocksDB's adaptive one).
  std::unique_ptr<Rows> NewRowsWithBounds(rocksdb::ColumnFamilyHandle* h,
                                          std::string lower, std::string upper,
                                          size_t readahead) const;

  std::string data_dir_;
  std::string secondary_dir_;
  std::vector<std::string> cf_names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_READER_H_
