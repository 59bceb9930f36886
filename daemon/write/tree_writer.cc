#include "daemon/write/tree_writer.h"

#include "verifier/store/tree_nodes.h"

namespace indelible {

TreeWriter::TreeWriter(Storage* storage, rocksdb::WriteBatch* batch)
    : storage_(storage),
      batch_(batch),
      visit_([this](chain::NodeId n, const chain::Digest& h) {
        if (store::IsStoredNode(n)) storage_->PutTreeNode(batch_, *tenant_, n, h);
      }) {}

void TreeWriter::Append(const std::string& tenant, const chain::Digest& entry_hash,
                        const std::string& category, chain::CompactRange* frontier) {
  tenant_ = &tenant;
  category_ = &category;
  frontier->Append(chain::LeafHash(entry_hash, category), visit_);
}

}  // namespace indelible
