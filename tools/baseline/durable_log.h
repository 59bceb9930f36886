// DurableLog: the least a service must do before it acknowledges an event
// durably, for the "durable echo" baseline (echo_service.h). Each submitted
// record goes into one RocksDB database (default options, one column
// family, key = u64 counter, value = the record's bytes); one thread writes
// whatever has queued as one WriteBatch with sync=true (group commit), then
// calls each submission's callback. No hashing, no index, no tenants.
//
// Thread-safe. Callbacks run on the writer thread, in submission order.
#ifndef INDELIBLE_TOOLS_BASELINE_DURABLE_LOG_H_
#define INDELIBLE_TOOLS_BASELINE_DURABLE_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace indelible::tools {

class DurableLog {
 public:
  // `ok` is false if the synced write failed.
  using Done = std::function<void(bool ok)>;

  // Opens (creating) the database in `dir`.
  static absl::StatusOr<std::unique_ptr<DurableLog>> Open(const std::string& dir);
  ~DurableLog();  // answers what is queued, then closes

  void Submit(std::vector<std::string> records, Done done);

 private:
  struct Pending {
    std::vector<std::string> records;
    Done done;
  };

  DurableLog() = default;
  void Run();

  std::unique_ptr<rocksdb::DB> db_;
  uint64_t next_key_ = 0;  // writer thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::thread writer_;
};

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_BASELINE_DURABLE_LOG_H_
