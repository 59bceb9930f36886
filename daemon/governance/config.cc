#include "daemon/governance/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "daemon/governance/config_yaml.h"
#include "yaml-cpp/yaml.h"

namespace indelible {
namespace {

using config_yaml::CheckUnknown;
using config_yaml::ParseAuth;
using config_yaml::ParseBackup;
using config_yaml::ParseIngestRules;
using config_yaml::ParseLimits;
using config_yaml::ParseRetention;
using config_yaml::ParseTls;
using config_yaml::ParseWitnesses;
using config_yaml::Read;
using config_yaml::RequireMap;

absl::StatusOr<DaemonConfig> ParseYaml(const YAML::Node& root) {
  DaemonConfig c;
  if (root.IsNull()) return c;  // empty file: all defaults
  RETURN_IF_ERROR(RequireMap(root, ""));
  std::set<std::string> k;
  RETURN_IF_ERROR(Read(root, "", "listen", &k, &c.listen));
  RETURN_IF_ERROR(Read(root, "", "data_dir", &k, &c.data_dir));
  RETURN_IF_ERROR(Read(root, "", "log_level", &k, &c.log_level));
  RETURN_IF_ERROR(Read(root, "", "port_file", &k, &c.port_file));
  RETURN_IF_ERROR(Read(root, "", "metrics_listen", &k, &c.metrics_listen));
  RETURN_IF_ERROR(Read(root, "", "metrics_allow_non_loopback", &k,
                       &c.metrics_allow_non_loopback));
  RETURN_IF_ERROR(Read(root, "", "local_listen", &k, &c.local_listen));
  RETURN_IF_ERROR(
      Read(root, "", "shutdown_grace_seconds", &k, &c.shutdown_grace_seconds));
  RETURN_IF_ERROR(Read(root, "", "max_read_records", &k, &c.max_read_records));
  RETURN_IF_ERROR(Read(root, "", "signing_key_file", &k, &c.signing_key_file));
  RETURN_IF_ERROR(Read(root, "", "key_rotation_statement_file", &k,
                       &c.key_rotation_statement_file));
  RETURN_IF_ERROR(Read(root, "", "signer_socket", &k, &c.signer_socket));
  RETURN_IF_ERROR(Read(root, "", "key_name", &k, &c.key_name));
  RETURN_IF_ERROR(Read(root, "", "log_name", &k, &c.log_name));
  RETURN_IF_ERROR(
      Read(root, "", "checkpoint_interval_ms", &k, &c.checkpoint_interval_ms));
  RETURN_IF_ERROR(Read(root, "", "max_group_events", &k,
                       &c.sequencer.max_group_events));
  RETURN_IF_ERROR(Read(root, "", "max_queued_events", &k,
                       &c.sequencer.max_queued_events));
  RETURN_IF_ERROR(Read(root, "", "compression", &k, &c.storage.compress));
  RETURN_IF_ERROR(
      Read(root, "", "block_cache_bytes", &k, &c.storage.block_cache_bytes));
  RETURN_IF_ERROR(
      Read(root, "", "write_buffer_bytes", &k, &c.storage.write_buffer_bytes));
  RETURN_IF_ERROR(
      Read(root, "", "max_total_wal_bytes", &k, &c.storage.max_total_wal_bytes));
  RETURN_IF_ERROR(Read(root, "", "memtable_budget_bytes", &k,
                       &c.storage.memtable_budget_bytes));
#ifdef INDELIBLE_TESTING_HOOKS
  RETURN_IF_ERROR(
      Read(root, "", "testing_manual_clock", &k, &c.testing_manual_clock));
#else
  if (root["testing_manual_clock"]) {
    return absl::InvalidArgumentError(
        "config: testing_manual_clock: not accepted by indelibled; only the test "
        "build indelibled-testing has a manual clock");
  }
#endif
  k.insert("retention");
  if (root["retention"]) RETURN_IF_ERROR(ParseRetention(root["retention"], &c.retention));
  k.insert("backup");
  if (root["backup"]) RETURN_IF_ERROR(ParseBackup(root["backup"], &c.backup));
  k.insert("tls");
  if (root["tls"]) RETURN_IF_ERROR(ParseTls(root["tls"], &c.tls));
  k.insert("auth");
  if (root["auth"]) RETURN_IF_ERROR(ParseAuth(root["auth"], &c.auth));

  k.insert("ingest_rules");
  if (root["ingest_rules"]) {
    RETURN_IF_ERROR(ParseIngestRules(root["ingest_rules"], &c.ingest_rules));
  }
  k.insert("limits");
  if (root["limits"]) RETURN_IF_ERROR(ParseLimits(root["limits"], &c.limits));
  k.insert("witnesses");
  if (root["witnesses"]) RETURN_IF_ERROR(ParseWitnesses(root["witnesses"], &c.witnesses));
  RETURN_IF_ERROR(Read(root, "", "witness_quorum", &k, &c.witness_quorum));
  RETURN_IF_ERROR(Read(root, "", "witness_allow_minority_quorum", &k,
                       &c.witness_allow_minority_quorum));
  RETURN_IF_ERROR(Read(root, "", "witness_grace_seconds", &k, &c.witness_grace_seconds));
  RETURN_IF_ERROR(CheckUnknown(root, "", k));
  return c;
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseConfig(const std::string& text) {
  // The checks above keep yaml-cpp from throwing on any input we know of;
  // this is the backstop, so that no config file can end the daemon with an
  // uncaught exception.
  try {
    return ParseYaml(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: not valid YAML: ", e.what()));
  }
}

absl::StatusOr<DaemonConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("config: cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str());
}

}  // namespace indelible
