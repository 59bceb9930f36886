#include "daemon/governance/config_reload.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/api/admin_service.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/hash.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

std::string FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return chain::ToHex(chain::Sha256(ss.str()));
}

// The settings on record, or nullopt if the store has none yet.
absl::StatusOr<std::optional<GovernedSettings>> SettingsOnRecord(Storage* storage) {
  auto rows = storage->ScanMeta(store::kAppliedSettingsKey);
  if (!rows.ok()) return rows.status();
  for (const auto& [key, value] : *rows) {
    if (key != store::kAppliedSettingsKey) continue;
    auto s = DecodeGovernedSettings(value);
    if (!s.ok()) return s.status();
    return std::optional<GovernedSettings>(*std::move(s));
  }
  return std::optional<GovernedSettings>();
}

chain::EventFields ChangeEvent(const std::string& tenant, const std::string& action,
                               const std::string& reason, const SettingChange& c,
                               const std::string& change_id, bool weakening) {
  chain::EventFields e;
  e.tenant = tenant;
  e.actor_id = "operator";
  e.actor_type = "admin";
  e.action = action;
  e.resource_type = "config";
  e.resource_id = c.key;
  e.reason = reason;
  e.outcome = "applied";
  e.source = "indelibled";
  e.category = kAdminCategory;
  auto add = [&e](const std::string& k, const std::string& v) { e.metadata.emplace_back(k, v); };
  add("old", c.old_value);
  add("new", c.new_value);
  add("change_id", change_id);
  if (weakening) add("weakening", "accepted with --accept-weaker-config");
  return e;
}

}  // namespace

absl::Status CommitSettings(Storage* storage, const DaemonRecorder& recorder,
                            const GovernedSettings& next, const std::string& action,
                            bool accept_weaker, size_t* changes_out) {
  auto old = SettingsOnRecord(storage);
  if (!old.ok()) return old.status();
  const std::vector<SettingChange> changes =
      DiffGovernedSettings(old->value_or(GovernedSettings()), next);
  if (changes_out != nullptr) *changes_out = changes.size();
  if (changes.empty()) return absl::OkStatus();
  // A store without chains holds nothing a change could weaken.
  const std::vector<std::string> tenants = recorder.RecordableTenants(action.c_str());
  std::vector<std::string> weaker;
  if (old->has_value() && !tenants.empty()) weaker = FindWeakenings(**old, next);
  if (!weaker.empty() && !accept_weaker) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the configuration weakens ", absl::StrJoin(weaker, "; "),
        action == kConfigStartAction
            ? " (docs/SECURITY.md; to apply it anyway, start with --accept-weaker-config)"
            : " (docs/SECURITY.md: refused on reload; kept the running configuration)"));
  }
  const std::string reason =
      action == kConfigReloadAction ? "configuration reloaded on SIGHUP"
      : old->has_value() ? "configuration changed while the daemon was stopped"
                         : "settings put on record for the first time";
  chain::Salt id;
  if (auto s = chain::RandomSalt(&id); !s.ok()) return s;
  const std::string change_id = chain::ToHex(chain::AsBytes(id)).substr(0, 16);
  std::vector<chain::EventFields> events;
  for (const SettingChange& c : changes) {
    for (const std::string& tenant : tenants) {
      if (c.tenant && *c.tenant != tenant) continue;
      events.push_back(ChangeEvent(tenant, action, reason, c, change_id, !weaker.empty()));
    }
  }
  const std::string value = EncodeGovernedSettings(next);
  auto receipts = recorder.Append(std::move(events), [storage, value](rocksdb::WriteBatch* b) {
    storage->PutMeta(b, store::kAppliedSettingsKey, value);
  });
  if (!receipts.ok()) return receipts.status();
  std::vector<std::string> keys;
  for (const SettingChange& c : changes) keys.push_back(c.key);
  spdlog::info("event=config_change_recorded action={} change_id={} settings={} records={} "
               "keys=\"{}\"",
               action, change_id, changes.size(), receipts->size(),
               absl::StrJoin(keys, ","));
  if (!weaker.empty()) {
    spdlog::warn("event=config_weakened change_id={} changes=\"{}\" message=\"accepted with "
                 "--accept-weaker-config\"",
                 change_id, absl::StrJoin(weaker, "; "));
  }
  return absl::OkStatus();
}

ConfigReloader::ConfigReloader(Deps deps, DaemonConfig current)
    : d_(std::move(deps)), current_(std::move(current)) {}

absl::Status ConfigReloader::Reload() {
  auto fail = [this](absl::Status s) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("event=reload_failed status=\"{}\" message=\"kept the running configuration\"",
                  s.ToString());
    return s;
  };
  if (d_.config_path.empty()) {
    spdlog::warn("event=reload_skipped reason=\"started without --config\"");
    return absl::OkStatus();
  }
  auto file = LoadConfigFile(d_.config_path);
  if (!file.ok()) return fail(file.status());
  // What a reload changes; everything else (flags included) stays as it runs.
  DaemonConfig next = current_;
  next.log_level = file->log_level;
  next.auth = file->auth;
  next.retention = file->retention;
  if (auto s = ValidateConfig(next); !s.ok()) return fail(s);
  if (next.auth.enabled != current_.auth.enabled) {
    return fail(absl::FailedPreconditionError("auth.enabled cannot change without a restart"));
  }
  const GovernedSettings running = GovernedSettingsOf(current_);
  const GovernedSettings applied = GovernedSettingsOf(next);
  std::vector<std::string> later;
  for (const SettingChange& c : DiffGovernedSettings(applied, GovernedSettingsOf(*file))) {
    later.push_back(c.key);
  }
  if (!later.empty()) {
    spdlog::warn("event=reload_needs_restart keys=\"{}\" message=\"these take effect at the "
                 "next start\"",
                 absl::StrJoin(later, ","));
  }
  // On record first; applied only once that is durable.
  absl::Status s = CommitSettings(d_.storage, *d_.recorder, applied, kConfigReloadAction,
                                  /*accept_weaker=*/false);
  if (absl::IsFailedPrecondition(s)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("event=reload_refused reason=\"{}\"", std::string(s.message()));
    return s;
  }
  if (!s.ok()) return fail(s);
  std::vector<std::string> changed;
  if (next.log_level != current_.log_level) {
    spdlog::default_logger()->set_level(spdlog::level::from_str(next.log_level));
    changed.push_back("log_level");
  }
  bool auth = false, retention = false;
  for (const SettingChange& c : DiffGovernedSettings(running, applied)) {
    auth = auth || absl::StartsWith(c.key, "auth.");
    retention = retention || absl::StartsWith(c.key, "retention.");
  }
  if (auth) {
    // Cannot fail: auth.enabled is the same (checked above).
    if (auto r = d_.authorizer->Reload(next.auth); !r.ok()) return fail(r);
    changed.push_back("auth");
  }
  if (retention) {
    // Each tenant's new policy on record in its chain, then applied.
    if (auto r = d_.retention->RecordAndApply(
            {.cause = kConfigReloadAction,
             .apply = [&next](RetentionState::Snapshot* s) { s->config = next.retention; },
             .scope = RetentionState::PolicyChange::Scope::kRecorded,
             .tenant = ""});
        !r.ok()) {
      spdlog::error("event=retention_policy_not_recorded cause={} status=\"{}\" "
                    "message=\"nothing of the tenants concerned is pruned until it is\"",
                    kConfigReloadAction, r.ToString());
    }
    changed.push_back("retention");
  }
  spdlog::info("event=config_reloaded changed={} config_sha256={}",
               changed.empty() ? "nothing" : absl::StrJoin(changed, ","),
               FileSha256(d_.config_path));
  current_ = std::move(next);
  applied_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

void ConfigReloader::AddMetrics(Metrics* metrics) const {
  metrics->AddCollector([this](std::string* out) {
    absl::StrAppend(
        out,
        "# HELP indelible_config_reloads_total SIGHUP reloads by outcome: applied, refused "
        "(a weakening change), failed (unreadable, invalid or not recordable).\n"
        "# TYPE indelible_config_reloads_total counter\n"
        "indelible_config_reloads_total{outcome=\"applied\"} ",
        applied_.load(std::memory_order_relaxed), "\n",
        "indelible_config_reloads_total{outcome=\"refused\"} ",
        refused_.load(std::memory_order_relaxed), "\n",
        "indelible_config_reloads_total{outcome=\"failed\"} ",
        failed_.load(std::memory_order_relaxed), "\n");
  });
}

}  // namespace indelible
