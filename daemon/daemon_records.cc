#include "daemon/daemon_records.h"

#include <algorithm>
#include <future>

#include "spdlog/spdlog.h"
#include "daemon/service.h"
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

absl::StatusOr<std::vector<Receipt>> DaemonRecorder::Append(std::vector<v1::Event> events,
                                                            Sequencer::Extra extra) const {
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
    v1::Event& e = events[i];
    chain::Salt id;
    if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
    e.set_event_id("indelible-" + e.action() + "-" + chain::ToHex(chain::AsBytes(id)));
    if (auto s = PrepareEvent(e, limits_, now, chain::RandomSalt, "record", &prepared[i]);
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

absl::Status RecordBackup(const DaemonRecorder& recorder, const Principal& who,
                          const std::string& actor_type, const std::string& reason,
                          const std::string& name) {
  std::vector<v1::Event> events;
  for (const std::string& tenant : recorder.RecordableTenants("store.backup")) {
    auto e = MakeDaemonEvent(tenant, "", who, "store.backup", kAccessCategory);
    if (!e.ok()) return e.status();
    e->mutable_actor()->set_type(actor_type);
    e->mutable_resource()->set_type("store");
    e->mutable_resource()->set_id(name);
    e->set_reason(reason);
    e->set_outcome("allowed");
    events.push_back(*std::move(e));
  }
  auto r = recorder.Append(std::move(events), nullptr);
  if (!r.ok()) return r.status();
  spdlog::info("event=backup_recorded name={} tenants={} actor=\"{}\"", name, r->size(),
               who.name);
  return absl::OkStatus();
}

}  // namespace indelible
