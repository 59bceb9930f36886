#include "daemon/daemon_metrics.h"

#include <sys/socket.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace indelible {
namespace {

void AddIngestCollector(Metrics* metrics, const IngestRules* rules) {
  metrics->AddCollector([rules](std::string* out) {
    *out +=
        "# HELP indelible_ingest_redactions_total Values rewritten at ingest by "
        "rule action or secret kind.\n"
        "# TYPE indelible_ingest_redactions_total counter\n";
    for (size_t i = 0; i < IngestRules::kCounters; ++i) {
      absl::StrAppend(out, "indelible_ingest_redactions_total{kind=\"",
                      std::string(IngestRules::CounterName(i)), "\"} ", rules->Count(i), "\n");
    }
  });
}

void AddBackupCollector(Metrics* metrics, const Backuper* backuper) {
  if (backuper->enabled()) {
    metrics->AddCollector([backuper](std::string* out) {
      absl::StrAppend(
          out,
          "# HELP indelible_backups_total Backups attempted since the daemon started.\n"
          "# TYPE indelible_backups_total counter\n"
          "indelible_backups_total{outcome=\"ok\"} ", backuper->succeeded(), "\n",
          "indelible_backups_total{outcome=\"failed\"} ", backuper->failed(), "\n",
          "# HELP indelible_backup_last_success_timestamp_seconds When the last backup "
          "since the daemon started was taken (daemon clock); 0 if none.\n"
          "# TYPE indelible_backup_last_success_timestamp_seconds gauge\n"
          "indelible_backup_last_success_timestamp_seconds ",
          backuper->last_success_ns() / 1000000000, "\n");
    });
  }
}

void AddStorageCollector(Metrics* metrics, Storage* storage) {
  metrics->AddCollector([storage](std::string* out) {
    struct Prop {
      const char* name;
      const char* property;
      const char* help;
    };
    static const Prop kProps[] = {
        {"indelible_rocksdb_live_sst_bytes", "rocksdb.live-sst-files-size",
         "Size of the live table files of a column family."},
        {"indelible_rocksdb_pending_compaction_bytes",
         "rocksdb.estimate-pending-compaction-bytes",
         "Estimated bytes compaction still has to rewrite in a column family."},
        {"indelible_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables",
         "Memory held by a column family's memtables (active, immutable, pinned)."},
        {"indelible_rocksdb_table_readers_bytes", "rocksdb.estimate-table-readers-mem",
         "Memory held by a column family's open table files outside the block cache."},
    };
    for (const Prop& p : kProps) {
      absl::StrAppend(out, "# HELP ", p.name, " ", p.help, "\n# TYPE ", p.name, " gauge\n");
      for (rocksdb::ColumnFamilyHandle* cf : storage->column_families()) {
        uint64_t v = 0;
        if (!storage->db()->GetIntProperty(cf, p.property, &v)) continue;
        absl::StrAppend(out, p.name, "{column_family=\"", EscapeLabelValue(cf->GetName()),
                        "\"} ", v, "\n");
      }
    }
    // One block cache serves every column family: report it once.
    uint64_t usage = 0, pinned = 0;
    if (storage->db()->GetIntProperty("rocksdb.block-cache-usage", &usage) &&
        storage->db()->GetIntProperty("rocksdb.block-cache-pinned-usage", &pinned)) {
      absl::StrAppend(
          out,
          "# HELP indelible_rocksdb_block_cache_bytes Memory held by the block cache "
          "(data, index and filter blocks); pinned = in use or pinned, not evictable.\n"
          "# TYPE indelible_rocksdb_block_cache_bytes gauge\n"
          "indelible_rocksdb_block_cache_bytes{state=\"all\"} ", usage, "\n",
          "indelible_rocksdb_block_cache_bytes{state=\"pinned\"} ", pinned, "\n");
    }
  });
}

void AddCheckpointCollector(Metrics* metrics, Checkpointer* checkpointer, Clock* clock) {
  metrics->AddCollector([checkpointer, clock](std::string* out) {
    const uint64_t now = clock->NowNanos();
    *out +=
        "# HELP indelible_checkpoint_age_seconds Seconds since the tenant's newest "
        "checkpoint, on the daemon's clock.\n"
        "# TYPE indelible_checkpoint_age_seconds gauge\n";
    for (const auto& [tenant, ts] : checkpointer->LastCheckpointTimes()) {
      if (ts == 0) continue;
      const double age = now > ts ? static_cast<double>(now - ts) / 1e9 : 0.0;
      absl::StrAppend(out, "indelible_checkpoint_age_seconds{tenant=\"",
                      EscapeLabelValue(tenant), "\"} ", age, "\n");
    }
    absl::StrAppend(
        out,
        "# HELP indelible_checkpoint_sign_failures_total Checkpoints not signed since the "
        "daemon started: refused by the signer (not a consistent extension) or unsigned "
        "(signer unreachable or failing). The log names each tenant.\n"
        "# TYPE indelible_checkpoint_sign_failures_total counter\n"
        "indelible_checkpoint_sign_failures_total{reason=\"refused\"} ",
        checkpointer->refused(), "\n",
        "indelible_checkpoint_sign_failures_total{reason=\"unavailable\"} ",
        checkpointer->unavailable(), "\n");
  });
}

void AddRetentionCollector(Metrics* metrics, const RetentionCounters* counters) {
  metrics->AddCollector([counters](std::string* out) {
    absl::StrAppend(
        out,
        "# HELP indelible_retention_dropped_total Rows dropped by retention "
        "during compaction.\n"
        "# TYPE indelible_retention_dropped_total counter\n"
        "indelible_retention_dropped_total{column_family=\"bodies\"} ",
        counters->bodies_dropped.load(std::memory_order_relaxed), "\n",
        "indelible_retention_dropped_total{column_family=\"event_ids\"} ",
        counters->event_ids_dropped.load(std::memory_order_relaxed), "\n");
  });
}

}  // namespace

void AddCollectors(Metrics* metrics, Storage* storage, Checkpointer* checkpointer,
                   Clock* clock, const RetentionCounters* counters,
                   const IngestRules* rules, const Backuper* backuper) {
  AddIngestCollector(metrics, rules);
  AddBackupCollector(metrics, backuper);
  AddStorageCollector(metrics, storage);
  AddCheckpointCollector(metrics, checkpointer, clock);
  AddRetentionCollector(metrics, counters);
}

MetricsServer::MetricsServer(const Metrics* metrics) {
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second daemon
  // bind the same address and take half the scrapes: SO_REUSEADDR only.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

absl::StatusOr<int> MetricsServer::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int want = std::atoi(listen.substr(colon + 1).c_str());
  const int port = want == 0 ? server_.bind_to_any_port(host)
                             : (server_.bind_to_port(host, want) ? want : -1);
  if (port <= 0) {
    return absl::UnavailableError(
        "cannot listen on " + listen + ": address in use or not available");
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  return port;
}

void MetricsServer::Stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

}  // namespace indelible
