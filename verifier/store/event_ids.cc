#include "verifier/store/event_ids.h"

#include <functional>
#include <memory>
#include <set>

#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "verifier/store/layout.h"
#include "verifier/store/rocks_status.h"

namespace indelible::store {

absl::Status DeleteTenantsEventIds(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* event_ids,
                                   const std::vector<std::string>& tenants) {
  if (tenants.empty()) return absl::OkStatus();
  const std::set<std::string, std::less<>> purged(tenants.begin(), tenants.end());
  constexpr size_t kChunk = 1 << 16;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::WriteBatch batch;
  size_t pending = 0;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // one pass over the whole index
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, event_ids));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    std::string_view row_tenant, id;
    if (!ParseEventIdKey(key, &row_tenant, &id) || purged.count(row_tenant) == 0) continue;
    batch.Delete(event_ids, it->key());
    if (++pending == kChunk) {
      if (auto s = FromRocksDb(db->Write(wo, &batch), "delete event ids"); !s.ok()) return s;
      batch.Clear();
      pending = 0;
    }
  }
  if (auto s = FromRocksDb(it->status(), "scan event ids"); !s.ok()) return s;
  if (pending == 0) return absl::OkStatus();
  return FromRocksDb(db->Write(wo, &batch), "delete event ids");
}

}  // namespace indelible::store
