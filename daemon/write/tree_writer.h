// TreeWriter: grows the tenants' Merkle trees (docs/FORMAT.md 13) as the
// sequencer links records. Each record is a leaf, LeafHash(entry_hash,
// category); appending it to the tenant's frontier (its compact range: the
// tree's right edge, held by TenantTable) completes the leaf node and each
// perfect subtree it closes, and every completed node is put into the same
// WriteBatch as the record's rows. The stored tree is therefore always the
// tree of the stored records, after kill -9 too.
//
// One writer serves one chunk of linking: it builds its node visitor once,
// so appending allocates nothing per record. Not thread-safe; neither
// copyable nor movable (the visitor refers to the writer).
// REQUIRES: storage and batch outlive the writer.
#ifndef INDELIBLE_DAEMON_WRITE_TREE_WRITER_H_
#define INDELIBLE_DAEMON_WRITE_TREE_WRITER_H_

#include <string>

#include "daemon/write/storage.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"

namespace indelible {

class TreeWriter {
 public:
  TreeWriter(Storage* storage, rocksdb::WriteBatch* batch);
  TreeWriter(const TreeWriter&) = delete;
  TreeWriter& operator=(const TreeWriter&) = delete;

  // Appends the leaf of `tenant`'s record with `entry_hash` and `category`
  // to `frontier`, and puts the nodes it completes into the batch.
  void Append(const std::string& tenant, const chain::Digest& entry_hash,
              const std::string& category, chain::CompactRange* frontier);

 private:
  Storage* const storage_;
  rocksdb::WriteBatch* const batch_;
  // The record being appended, for the visitor.
  const std::string* tenant_ = nullptr;
  const std::string* category_ = nullptr;
  const chain::CompactRange::Visitor visit_;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_TREE_WRITER_H_
