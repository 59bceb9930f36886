// ValidateConfig: the checks across fields and sections, after parsing.
#include "daemon/governance/config.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "daemon/governance/config_yaml.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

absl::Status ValidateHostPort(const std::string& key, const std::string& l) {
  const size_t colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == l.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", key, ": want host:port, got \"", l, "\""));
  }
  return absl::OkStatus();
}

bool IsLoopbackHost(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// A backup inside the data directory would be backed up itself, and a data
// directory inside the backup directory would be taken for a backup.
absl::Status ValidateBackup(const DaemonConfig& c) {
  if (c.backup.dir.empty()) {
    if (c.backup.interval_seconds > 0) {
      return absl::InvalidArgumentError("config: backup.interval: needs backup.dir");
    }
    return absl::OkStatus();
  }
  std::error_code ec;
  const auto norm = [&ec](const std::string& p) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(p), ec);
  };
  const std::filesystem::path backup = norm(c.backup.dir), data = norm(c.data_dir);
  auto within = [](const std::filesystem::path& inner, const std::filesystem::path& outer) {
    auto m = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
    return m.first == outer.end();
  };
  if (!ec && (within(backup, data) || within(data, backup))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: backup.dir: ", c.backup.dir,
        " must be outside data_dir and must not contain it"));
  }
  return absl::OkStatus();
}

// A witness URL: its scheme, host and port; http only to loopback.
absl::Status ValidateWitnessUrl(const std::string& field, const std::string& url) {
  auto parts = SplitWitnessUrl(url);
  if (!parts.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", field, ": ", parts.status().message()));
  }
  const bool loopback =
      parts->host == "127.0.0.1" || parts->host == "localhost" || parts->host == "::1";
  if (!parts->https && !loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", field, ": ", url,
        " is plain http off loopback; use https (and tls.ca_file for a private CA)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateWitnesses(const DaemonConfig& c) {
  std::set<std::string> names, keys;
  for (size_t i = 0; i < c.witnesses.size(); ++i) {
    const WitnessConfig& w = c.witnesses[i];
    const std::string p = absl::StrCat("witnesses[", i, "].");
    if (w.key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", p, "key: required (the witness's verifier key, name+id+base64)"));
    }
    auto key = chain::ParseCosignerKey(w.key);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "key: ", key.status().message()));
    }
    if (w.name != key->name) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", p, "name: \"", w.name, "\" is not the name in key (\"", key->name,
          "\")"));
    }
    if (!names.insert(w.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "name: ", w.name, " is listed twice"));
    }
    if (!keys.insert(key->public_key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "key: the same key as an earlier witness"));
    }
    if (w.url.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("config: ", p, "url: required"));
    }
    RETURN_IF_ERROR(ValidateWitnessUrl(p + "url", w.url));
    if (w.tls_cert_file.empty() != w.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: ", p, "tls: cert_file and key_file go together"));
    }
  }
  if (c.witness_quorum > c.witnesses.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: witness_quorum: ", c.witness_quorum, " is more than the ",
        c.witnesses.size(), " witnesses listed"));
  }
  const size_t quorum = EffectiveWitnessQuorum(c);
  if (!c.witnesses.empty() && 2 * quorum <= c.witnesses.size() &&
      !c.witness_allow_minority_quorum) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: witness_quorum: ", quorum, " of ", c.witnesses.size(),
        " witnesses is not a majority: two different checkpoints of one size could each "
        "reach it (a split view); raise it above ", c.witnesses.size() / 2,
        " or set witness_allow_minority_quorum: true"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WitnessUrl> SplitWitnessUrl(const std::string& url) {
  WitnessUrl out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.https = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("want http://host:port or https://host:port");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.path_prefix = rest.substr(slash);
  while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  std::string port_text;
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    port_text = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || authority.find_first_of(" @?#") != std::string::npos) {
    return absl::InvalidArgumentError("want http://host:port or https://host:port");
  }
  out.host = authority;
  if (out.host.size() > 2 && out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  out.port = out.https ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    for (char ch : port_text) {
      if (ch < '0' || ch > '9' || port > 65535) {
        return absl::InvalidArgumentError("the port is not a number from 1 to 65535");
      }
      port = port * 10 + (ch - '0');
    }
    if (port < 1 || port > 65535) {
      return absl::InvalidArgumentError("the port is not a number from 1 to 65535");
    }
    out.port = port;
  }
  return out;
}

absl::Status ValidateConfig(const DaemonConfig& c) {
  if (c.data_dir.empty()) {
    return absl::InvalidArgumentError("config: data_dir: required");
  }
  if (spdlog::level::from_str(c.log_level) == spdlog::level::off &&
      c.log_level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("config: log_level: unknown level \"", c.log_level, "\""));
  }
  if (auto s = ValidateHostPort("listen", c.listen); !s.ok()) return s;
  if (!IsLoopbackHost(c.listen) && (!c.tls.enabled() || !c.auth.enabled)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: listen: ", c.listen,
        " is not loopback; a non-loopback listener needs tls (cert_file, key_file) "
        "and auth.enabled: true (docs/SECURITY.md)"));
  }
  if (c.tls.enabled() && (c.tls.cert_file.empty() || c.tls.key_file.empty())) {
    return absl::InvalidArgumentError("config: tls: cert_file and key_file go together");
  }
  if (!c.local_listen.empty()) {
    if (auto s = ValidateHostPort("local_listen", c.local_listen); !s.ok()) return s;
    if (!IsLoopbackHost(c.local_listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: local_listen: ", c.local_listen, " is not loopback; it is plaintext"));
    }
  }
  if (!c.metrics_listen.empty()) {
    if (auto s = ValidateHostPort("metrics_listen", c.metrics_listen); !s.ok()) return s;
    if (!IsLoopbackHost(c.metrics_listen) && !c.metrics_allow_non_loopback) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: metrics_listen: ", c.metrics_listen,
          " is not loopback; the metrics endpoint serves plain HTTP without "
          "authentication: keep it on loopback, or set metrics_allow_non_loopback: "
          "true and fence the port (docs/OPERATIONS.md, \"Metrics\")"));
    }
  }
  if (c.auth.enabled && c.auth.approval_window_seconds == 0) {
    return absl::InvalidArgumentError("config: auth.approval_window: must be positive");
  }
  // As ParseNoteVerifierKey requires of the names it accepts.
  const bool bad_name_char =
      std::any_of(c.key_name.begin(), c.key_name.end(), [](char ch) {
        return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '+';
      });
  if (c.key_name.empty() || bad_name_char) {
    return absl::InvalidArgumentError(
        "config: key_name: required, without spaces, control characters or '+'");
  }
  if (!c.signer_socket.empty() && !c.signing_key_file.empty()) {
    return absl::InvalidArgumentError(
        "config: signer_socket and signing_key_file: set one; with signer_socket the "
        "daemon holds no key");
  }
  if (!c.log_name.empty() && !chain::IsValidLogName(c.log_name)) {
    return absl::InvalidArgumentError(
        "config: log_name: a schema-less URL such as audit.example.com: 1..200 printable "
        "ASCII bytes without space or '+', not starting or ending with '/'");
  }
  if (c.log_name.empty() && !IsLoopbackHost(c.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: log_name: required when listen (", c.listen,
        ") is not loopback: it names this deployment in every v2 checkpoint "
        "(docs/CONFIG.md)"));
  }
  if (c.checkpoint_interval_ms < 10) {
    return absl::InvalidArgumentError(
        "config: checkpoint_interval_ms: at least 10");
  }
  if (auto s = ValidateRetentionConfig(c.retention); !s.ok()) return s;
  if (auto s = ValidateBackup(c); !s.ok()) return s;
  if (auto s = ValidateWitnesses(c); !s.ok()) return s;
  if (c.sequencer.max_queued_events == 0) {
    return absl::InvalidArgumentError(
        "config: max_queued_events: must be positive (events admitted and not yet "
        "answered before appends are refused and streams paused)");
  }
  if (c.limits.max_batch_events == 0 || c.limits.max_event_bytes == 0 ||
      c.sequencer.max_group_events == 0 || c.max_read_records == 0) {
    return absl::InvalidArgumentError("config: limits must be positive");
  }
  return absl::OkStatus();
}

}  // namespace indelible
