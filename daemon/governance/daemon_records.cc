#include "daemon/governance/daemon_records.h"

#include <algorithm>
#include <future>

#include "spdlog/spdlog.h"
#include "daemon/api/service.h"
#include "verifier/chain/hash.h"

namespace indelible {

std::vector<std::string> DaemonRecorder::RecordableTenants(const char* what) const {
  std::vector<std::string> out;
  for (const auto& [tenant, head] : sequencer_->AllHeads()) {
    if (sequencer_->PurgeCertificate(tenant)) continue;
    if (auto reason = sequencer_->Quarantined(tenant)) {
      spdlog::warn("event=record_skipped tenant={} record={} reason=\"quarantined\"", tenant,
                   what);
      continue;
    }
    out.push_back(tenant);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<Receipt>> DaemonRecorder::Append(
    std::vector<chain::EventFields> events, Sequencer::Extra extra) const {
  if (events.empty()) {
    if (!extra) return std::vector<Receipt>();
    rocksdb::WriteBatch b;
    extra(&b);
    if (auto s = storage_->WriteSynced(&b); !s.ok()) return s;
    return std::vector<Receipt>();
  }
  std::vector<PreparedEvent> prepared(events.size());
  const uint64_t now = clock_->NowNanos();
  for (size_t i = 0; i < events.size(); ++i) {
    chain::EventFields& e = events[i];
    chain::Salt id;
    if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
    e.event_id = "indelible-" + e.action + "-" + chain::ToHex(chain::AsBytes(id));
    if (auto s = PrepareFields(std::move(e), limits_, now, chain::RandomSalt, "record",
                               &prepared[i]);
        !s.ok()) {
      return s;
    }
  }
  std::promise<absl::StatusOr<std::vector<Receipt>>> done;
  auto f = done.get_future();
  sequencer_->Submit(
      std::move(prepared),
      [&done](absl::StatusOr<std::vector<Receipt>> r) { done.set_value(std::move(r)); },
      std::move(extra));
  return f.get();
}

absl::StatusOr<chain::EventFields> DaemonRecordFields(const std::string& tenant,
                                                      const std::string& event_id_prefix,
                                                      const Principal& who,
                                                      const std::string& action,
                                                      const std::string& category) {
  chain::EventFields f;
  f.tenant = tenant;
  chain::Salt id;
  if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
  f.event_id = event_id_prefix + chain::ToHex(chain::AsBytes(id));
  f.actor_id = who.name;
  f.actor_type = "principal";
  f.action = action;
  f.source = "indelibled";
  f.category = category;
  f.metadata = {{"auth_method", who.method}, {"peer", who.peer}};
  return f;
}

absl::Status RecordBackup(const DaemonRecorder& recorder, const Principal& who,
                          const std::string& actor_type, const std::string& reason,
                          const std::string& name) {
  std::vector<chain::EventFields> events;
  for (const std::string& tenant : recorder.RecordableTenants("store.backup")) {
    auto e = DaemonRecordFields(tenant, "", who, "store.backup", kAccessCategory);
    if (!e.ok()) return e.status();
    e->actor_type = actor_type;
    e->resource_type = "store";
    e->resource_id = name;
    e->reason = reason;
    e->outcome = "allowed";
    events.push_back(*std::move(e));
  }
  auto r = recorder.Append(std::move(events), nullptr);
  if (!r.ok()) return r.status();
  spdlog::info("event=backup_recorded name={} tenants={} actor=\"{}\"", name, r->size(),
               who.name);
  return absl::OkStatus();
}

}  // namespace indelible
