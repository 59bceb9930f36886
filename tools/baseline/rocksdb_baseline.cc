#include "tools/baseline/rocksdb_baseline.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "tools/loadgen/histogram.h"
#include "tools/loadgen/run_stats.h"
#include "verifier/chain/hash.h"
#include "verifier/store/layout.h"

namespace indelible::tools {
namespace {

constexpr char kTenant[] = "baseline";

// Removes the directory (and the DB in it) on every way out.
class ScopedDir {
 public:
  explicit ScopedDir(std::string path) : path_(std::move(path)) {}
  ~ScopedDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

absl::StatusOr<nlohmann::json> RunRawWrites(const RawWriteOptions& o) {
  std::string tmpl = o.parent_dir + "/indelible-rawdb-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp under ", o.parent_dir));
  }
  ScopedDir dir(tmpl);

  // The daemon's DBOptions (daemon/write/storage.cc).
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.max_background_jobs = 2;
  opts.bytes_per_sync = 1 << 20;
  opts.wal_bytes_per_sync = 0;
  opts.keep_log_file_num = 5;
  opts.compression = rocksdb::kNoCompression;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(opts, dir.path() + "/db", &raw);
  if (!st.ok()) return absl::InternalError(st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string payload(o.payload_bytes, '\0');
  std::mt19937_64 rng(42);
  for (char& c : payload) c = static_cast<char>(rng());

  rocksdb::WriteOptions wo;
  wo.sync = true;
  const int64_t t0 = SteadyNanos();
  const int64_t measure_start = t0 + static_cast<int64_t>(o.warmup_s * 1e9);
  const int64_t deadline = measure_start + static_cast<int64_t>(o.duration_s * 1e9);
  LatencyHistogram latency;
  chain::Digest prev = chain::Genesis(kTenant);
  uint64_t seq = 0, measured = 0, batches = 0;
  int64_t last_end = measure_start;
  std::string value;
  while (SteadyNanos() < deadline && (o.count == 0 || seq < o.count)) {
    const int64_t start = SteadyNanos();
    rocksdb::WriteBatch batch;
    const uint64_t now_ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    for (int i = 0; i < o.batch; ++i) {
      ++seq;
      chain::Salt salt;
      if (auto s = chain::RandomSalt(&salt); !s.ok()) return s;
      const chain::Digest body = chain::BodyDigest(salt, payload);
      prev = chain::EntryHash(kTenant, seq, now_ns, prev, body);
      value.clear();
      chain::PutU64(&value, now_ns);
      value.append(chain::AsBytes(body));
      value.append(chain::AsBytes(prev));
      value.append(chain::AsBytes(salt));
      value.append(payload);
      batch.Put(store::SeqKey(kTenant, seq), value);
    }
    st = db->Write(wo, &batch);
    if (!st.ok()) return absl::InternalError(st.ToString());
    const int64_t end = SteadyNanos();
    ++batches;
    if (start >= measure_start) {
      latency.Record(static_cast<uint64_t>(end - start));
      measured += o.batch;
      last_end = end;
    }
  }
  db->Close();

  const double secs = static_cast<double>(last_end - measure_start) / 1e9;
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  nlohmann::json j;
  j["mode"] = "rocksdb";
  j["batch"] = o.batch;
  j["payload_bytes"] = o.payload_bytes;
  j["record_bytes"] = store::SeqKey(kTenant, 1).size() + store::kSkeletonSize +
                      chain::kSaltSize + o.payload_bytes;
  j["seconds"] = secs;
  j["events"] = measured;
  j["events_per_s"] = secs > 0 ? static_cast<double>(measured) / secs : 0;
  j["syncs_per_s"] =
      secs > 0 ? static_cast<double>(latency.Count()) / secs : 0;
  j["latency_ms"] = {{"count", latency.Count()},
                     {"p50", ms(latency.Quantile(0.50))},
                     {"p95", ms(latency.Quantile(0.95))},
                     {"p99", ms(latency.Quantile(0.99))},
                     {"max", ms(latency.Max())}};
  j["total_batches"] = batches;
  return j;
}

}  // namespace indelible::tools
