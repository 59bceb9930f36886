// A skip-list memtable for the column families the committer appends to.
//
// Debian's RocksDB is built with assertions on, and its skip list checks a
// whole insert hint after every insert: about four key comparisons per
// level of the list (some 40 per row once a memtable holds a few hundred
// thousand rows), where the insert itself needs two or three. With tenants
// interleaved, every hint has a successor to compare with, and those
// checks were most of the committer's memtable time (docs/PERFORMANCE.md,
// "The memtable"). This is the same structure (a skip list in the
// memtable's arena, one writer, lock-free readers, insert hints per key
// prefix), built with this project's flags.
//
// One writer at a time: the factory does not support concurrent inserts,
// so the DB must run with allow_concurrent_memtable_write = false.
// RocksDB keeps one map of insert hints per memtable, shared with its range
// tombstones, which stay in RocksDB's own skip list: a column family's hint
// prefix extractor must never take a range tombstone's bounds, or each
// list would be handed the other's hint (TenantPrefixTransform::InDomain,
// storage.cc).
#ifndef INDELIBLE_DAEMON_WRITE_MEMTABLE_REP_H_
#define INDELIBLE_DAEMON_WRITE_MEMTABLE_REP_H_

#include "rocksdb/memtablerep.h"

namespace indelible {

class AppendSkipListFactory final : public rocksdb::MemTableRepFactory {
 public:
  static const char* kClassName() { return "indelible.AppendSkipList"; }
  const char* Name() const override { return kClassName(); }
  rocksdb::MemTableRep* CreateMemTableRep(const rocksdb::MemTableRep::KeyComparator& cmp,
                                          rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform* transform,
                                          rocksdb::Logger* logger) override;
  bool IsInsertConcurrentlySupported() const override { return false; }
  bool CanHandleDuplicatedKey() const override { return true; }
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_MEMTABLE_REP_H_
