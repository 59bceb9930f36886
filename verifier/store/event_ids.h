// The idempotency index's rows of one tenant: with the index keyed event id
// first (store::EventIdKey), a tenant's rows are not one key range, so a
// purge finds them by a scan. Shared by the daemon's purge and restore's
// purge register.
#ifndef INDELIBLE_VERIFIER_STORE_EVENT_IDS_H_
#define INDELIBLE_VERIFIER_STORE_EVENT_IDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace indelible::store {

// Deletes every row of each of `tenants` from `event_ids` (an index keyed
// as store::EventIdKey), in synced batches, in one scan of the whole column
// family. The daemon refuses appends to a purged tenant, so no row of it is
// added meanwhile; an interrupted call leaves rows that a second one removes.
absl::Status DeleteTenantsEventIds(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* event_ids,
                                   const std::vector<std::string>& tenants);

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_EVENT_IDS_H_
