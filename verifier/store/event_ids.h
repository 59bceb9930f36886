// The idempotency index's rows of one tenant: with the index keyed event id
// first (store::EventIdKey), a tenant's rows are not one key range, so a
// purge finds them by a scan. Shared by the daemon's purge and restore's
// purge register.
#ifndef INDELIBLE_VERIFIER_STORE_EVENT_IDS_H_
#define INDELIBLE_VERIFIER_STORE_EVENT_IDS_H_

#include <string_view>

#include "absl/status/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace indelible::store {

// Deletes every row of `tenant` from `event_ids` (an index keyed as
// store::EventIdKey), in synced batches, scanning the whole column family.
// The daemon refuses appends to a purged tenant, so no row of it is added
// meanwhile; an interrupted call leaves rows that a second call, or the
// retention filter of a later compaction, removes.
absl::Status DeleteTenantEventIds(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* event_ids,
                                  std::string_view tenant);

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_EVENT_IDS_H_
