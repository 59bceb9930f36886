#include "tools/baseline/durable_log.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "verifier/chain/coding.h"

namespace indelible::tools {

absl::StatusOr<std::unique_ptr<DurableLog>> DurableLog::Open(const std::string& dir) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(o, dir, &raw);
  if (!st.ok()) return absl::InternalError(absl::StrCat("open ", dir, ": ", st.ToString()));
  std::unique_ptr<DurableLog> log(new DurableLog());
  log->db_.reset(raw);
  log->writer_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

DurableLog::~DurableLog() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  writer_.join();
}

void DurableLog::Submit(std::vector<std::string> records, Done done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back({std::move(records), std::move(done)});
  }
  cv_.notify_one();
}

void DurableLog::Run() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, everything answered
      group.swap(queue_);
    }
    rocksdb::WriteBatch batch;
    std::string key;
    for (const Pending& p : group) {
      for (const std::string& r : p.records) {
        key.clear();
        chain::PutU64(&key, ++next_key_);
        batch.Put(key, r);
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const bool ok = db_->Write(wo, &batch).ok();
    for (Pending& p : group) p.done(ok);
    group.clear();
  }
}

}  // namespace indelible::tools
