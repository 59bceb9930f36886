// RawStore: direct read-write access to a data directory's RocksDB, for
// tests. In the unit tests it builds stores; in the end-to-end damage tests
// it is the attacker, editing a copy of what the daemon wrote.
//
// REQUIRES: no other process has the directory open read-write.
#ifndef INDELIBLE_TESTS_VERIFIER_RAW_STORE_H_
#define INDELIBLE_TESTS_VERIFIER_RAW_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rocksdb/db.h"
#include "tests/verifier/test_chain.h"

namespace indelible::testing {

class RawStore {
 public:
  // Opens (creating if `create`) with the column families of layout.h and
  // whatever others the directory has. Aborts the test process on failure.
  explicit RawStore(const std::string& dir, bool create = false);
  ~RawStore();

  void Put(std::string_view cf, std::string_view key, std::string_view value);
  void Delete(std::string_view cf, std::string_view key);
  std::optional<std::string> Get(std::string_view cf, std::string_view key);
  // One record's body (layout.h: in the run of bodies that holds it), as
  // the daemon stores it: u64(received_at_ns) || salt || CE.
  std::optional<std::string> GetBody(const std::string& tenant, uint64_t seq);
  // Replaces the body of seq in its run, or adds it (to the run whose seqs
  // it falls among, else as a run of one).
  void PutBody(const std::string& tenant, uint64_t seq, std::string_view body);
  // Takes the body of seq out of its run (the row goes once it is empty).
  void DeleteBody(const std::string& tenant, uint64_t seq);
  // The same three for a record's skeleton (layout.h: in the run of
  // skeletons that holds it), as the daemon stores it (EncodeSkeleton).
  std::optional<std::string> GetSkeleton(const std::string& tenant, uint64_t seq);
  void PutSkeleton(const std::string& tenant, uint64_t seq, std::string_view skeleton);
  void DeleteSkeleton(const std::string& tenant, uint64_t seq);
  // Flushes memtables to table files (so data is not only in the WAL).
  void Flush();

  // Writes records, and the head of their last one, as the daemon would
  // (skeletons, and bodies, of consecutive seqs in runs of up to
  // kBodyRunMaxRecords).
  void WriteChain(const std::string& tenant,
                  const std::vector<TestRecord>& records, bool head = true);
  void WriteRecord(const std::string& tenant, const TestRecord& r);
  void WriteHead(const std::string& tenant, const store::Head& h);

  // One record read back (skeleton and, if present, body).
  TestRecord ReadRecord(const std::string& tenant, uint64_t seq);
  // Deletes a record's skeleton and body.
  void DeleteRecord(const std::string& tenant, uint64_t seq);

  rocksdb::DB* db() { return db_.get(); }
  // The handle of column family `cf`; aborts if the store has none.
  rocksdb::ColumnFamilyHandle* Handle(std::string_view cf);

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// RawStore's body edits on a store open elsewhere (the daemon's Storage in
// its unit tests), on its bodies column family `bodies` (or, for its
// skeletons, its skeletons column family: rows of runs alike); each edit is
// written at once (synced).
std::optional<std::string> GetBody(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* bodies,
                                   const std::string& tenant, uint64_t seq);
void PutBody(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* bodies, const std::string& tenant,
             uint64_t seq, std::string_view body);
void DeleteBody(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* bodies, const std::string& tenant,
                uint64_t seq);

// Copies a directory tree (a "backup" of a stopped daemon's data).
void CopyTree(const std::string& from, const std::string& to);

}  // namespace indelible::testing

#endif  // INDELIBLE_TESTS_VERIFIER_RAW_STORE_H_
