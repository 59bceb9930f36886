#include "witness/witness_main.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <openssl/ssl.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "httplib.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/key_file.h"
#include "witness/config.h"
#include "witness/state.h"
#include "witness/witness.h"

namespace indelible::witness {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string RenderMetrics(const Witness& w, const StateStore& store) {
  std::string out =
      "# HELP indelible_witness_requests_total add-checkpoint requests by result.\n"
      "# TYPE indelible_witness_requests_total counter\n";
  for (size_t i = 0; i < kNumResults; ++i) {
    const Result r = static_cast<Result>(i);
    absl::StrAppend(&out, "indelible_witness_requests_total{result=\"", ResultName(r), "\"} ",
                    w.Count(r), "\n");
  }
  absl::StrAppend(&out,
                  "# HELP indelible_witness_origin_size Size of the newest checkpoint "
                  "cosigned, per origin.\n"
                  "# TYPE indelible_witness_origin_size gauge\n");
  for (const auto& [origin, state] : store.Snapshot()) {
    absl::StrAppend(&out, "indelible_witness_origin_size{origin=\"", EscapeLabelValue(origin),
                    "\"} ", state.size, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP indelible_witness_state_ok 1 while state writes succeed; 0 while "
                  "the newest failed (after a failure past its rename: until a restart).\n"
                  "# TYPE indelible_witness_state_ok gauge\n"
                  "indelible_witness_state_ok ",
                  store.failed() ? 0 : 1, "\n");
  return out;
}

void ServeHealth(httplib::Server* server, const StateStore* store) {
  server->Get("/health", [store](const httplib::Request&, httplib::Response& res) {
    if (store->failed()) {
      res.status = 503;
      res.set_content("state_write_failed\n", "text/plain; charset=utf-8");
    } else {
      res.set_content("ok\n", "text/plain; charset=utf-8");
    }
  });
}

// Binds host:port (port 0: any free port); the bound port or -1.
int Bind(httplib::Server* server, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int want = 0;
  try {
    want = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return -1;
  }
  if (want == 0) return server->bind_to_any_port(host);
  return server->bind_to_port(host, want) ? want : -1;
}

// TLS 1.3 only; with client_ca_file, clients must present a certificate
// that chains to it.
absl::StatusOr<std::unique_ptr<httplib::Server>> MakeServer(const TlsConfig& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  if (auto s = chain::CheckPrivateFile(tls.key_file, "tls.key_file"); !s.ok()) return s;
  std::string error;
  auto server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    if (SSL_CTX_set_min_proto_version(&ctx, TLS1_3_VERSION) != 1) {
      error = "cannot require TLS 1.3";
      return false;
    }
    if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert_file.c_str()) != 1) {
      error = "tls.cert_file: cannot load " + tls.cert_file;
      return false;
    }
    if (SSL_CTX_use_PrivateKey_file(&ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      error = "tls.key_file: cannot load " + tls.key_file + " or it does not match the certificate";
      return false;
    }
    if (!tls.client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(&ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
        error = "tls.client_ca_file: cannot load " + tls.client_ca_file;
        return false;
      }
      SSL_CTX_set_client_CA_list(&ctx, SSL_load_client_CA_file(tls.client_ca_file.c_str()));
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return true;
  });
  if (!server->is_valid()) {
    return absl::FailedPreconditionError(error.empty() ? "tls: cannot set up" : error);
  }
  return server;
}

int Keygen(const std::string& name, const std::string& out) {
  if (!IsValidWitnessName(name)) {
    std::fprintf(stderr,
                 "indelible-witness: --name: printable ASCII without spaces or '+' required\n");
    return kExitUsage;
  }
  struct stat st;
  if (stat(out.c_str(), &st) == 0) {
    std::fprintf(stderr, "indelible-witness: --out: %s exists; not overwritten\n", out.c_str());
    return kExitRuntime;
  }
  bool created = false;
  auto key = chain::LoadSigningKey(out, /*create_if_missing=*/true, &created);
  if (!key.ok()) {
    std::fprintf(stderr, "indelible-witness: %s\n", std::string(key.status().message()).c_str());
    return kExitRuntime;
  }
  const chain::CosignerKey vkey = chain::MakeCosignerKey(name, key->PublicKey());
  std::printf("%s\n", chain::CosignerKeyString(vkey).c_str());
  return kExitOk;
}

int Run(const WitnessConfig& config) {
  bool created = false;
  auto key = chain::LoadSigningKey(config.key_file, /*create_if_missing=*/false, &created);
  if (!key.ok()) {
    spdlog::critical("event=startup_failed field=key_file reason=\"{}\"", std::string(key.status().message()));
    return kExitRuntime;
  }
  auto store = StateStore::Open(config.state_dir);
  if (!store.ok()) {
    spdlog::critical("event=startup_failed field=state_dir reason=\"{}\"",
                     std::string(store.status().message()));
    return kExitRuntime;
  }
  Witness witness(config.logs, chain::Cosigner(config.name, *key), store->get());
  spdlog::info("event=witness_key name={} verifier_key={}", config.name,
               chain::CosignerKeyString(witness.key()));
  for (const auto& [origin, state] : (*store)->Snapshot()) {
    spdlog::info("event=state_loaded origin={} size={}", origin, state.size);
  }

  auto server = MakeServer(config.tls);
  if (!server.ok()) {
    spdlog::critical("event=startup_failed field=tls reason=\"{}\"", std::string(server.status().message()));
    return kExitRuntime;
  }
  httplib::Server& api = **server;
  api.set_payload_max_length(kMaxRequestBytes);
  api.Post("/add-checkpoint", [&witness](const httplib::Request& req, httplib::Response& res) {
    Response r = witness.AddCheckpoint(req.body);
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  });
  api.Get("/add-checkpoint", [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST");
    res.set_content("add-checkpoint takes POST\n", "text/plain; charset=utf-8");
  });
  ServeHealth(&api, store->get());
  const int port = Bind(&api, config.listen);
  if (port <= 0) {
    spdlog::critical("event=startup_failed field=listen reason=\"cannot listen on {}\"",
                     config.listen);
    return kExitRuntime;
  }

  httplib::Server metrics;
  int metrics_port = 0;
  if (!config.metrics_listen.empty()) {
    const StateStore* st = store->get();
    metrics.Get("/metrics", [&witness, st](const httplib::Request&, httplib::Response& res) {
      res.set_content(RenderMetrics(witness, *st), "text/plain; version=0.0.4; charset=utf-8");
    });
    ServeHealth(&metrics, st);
    metrics_port = Bind(&metrics, config.metrics_listen);
    if (metrics_port <= 0) {
      spdlog::critical("event=startup_failed field=metrics_listen reason=\"cannot listen on {}\"",
                       config.metrics_listen);
      return kExitRuntime;
    }
  }
  std::thread api_thread([&api] { api.listen_after_bind(); });
  std::thread metrics_thread;
  if (metrics_port > 0) metrics_thread = std::thread([&metrics] { metrics.listen_after_bind(); });

  absl::Status port_status;
  if (!config.port_file.empty()) {
    if (metrics_port > 0) port_status = process::WritePortFile(config.port_file + ".metrics", metrics_port);
    if (port_status.ok()) port_status = process::WritePortFile(config.port_file, port);
  }
  int rc = kExitOk;
  if (!port_status.ok()) {
    spdlog::critical("event=startup_failed field=port_file reason=\"{}\"", std::string(port_status.message()));
    rc = kExitRuntime;
  } else {
    spdlog::info("event=listening listen={} port={} tls={} mutual_tls={}", config.listen, port,
                 config.tls.enabled(), !config.tls.client_ca_file.empty());
    if (metrics_port > 0) {
      spdlog::info("event=metrics_listening listen={} port={}", config.metrics_listen,
                   metrics_port);
    }
    spdlog::info("event=shutdown signal={}", process::WaitForSignal());
  }
  api.stop();
  api_thread.join();
  if (metrics_thread.joinable()) {
    metrics.stop();
    metrics_thread.join();
  }
  spdlog::info("event=stopped");
  return rc;
}

}  // namespace

int WitnessMain(int argc, char** argv) {
  CLI::App app{"indelible-witness: a C2SP tlog-witness for Indelible logs"};
  std::string config_path, listen, state_dir, log_level, port_file, metrics_listen;
  app.add_option("-c,--config", config_path, "YAML config file (docs/WITNESS.md)");
  app.add_option("--listen", listen, "host:port to listen on (default 127.0.0.1:7420)");
  app.add_option("--state-dir", state_dir, "state directory (default ./witness-state)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  app.add_option("--port-file", port_file, "write the bound port to this file");
  app.add_option("--metrics-listen", metrics_listen,
                 "loopback host:port of GET /metrics and /health (default off)");
  app.set_version_flag("--version", absl::StrCat("indelible-witness ", kWitnessVersion));
  std::string keygen_name, keygen_out;
  CLI::App* keygen = app.add_subcommand(
      "keygen", "create an Ed25519 witness key (mode 0600) and print its verifier key");
  keygen->add_option("--name", keygen_name, "the witness name, e.g. witness.example.com/w1")
      ->required();
  keygen->add_option("--out", keygen_out, "the private key file to create")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (keygen->parsed()) return Keygen(keygen_name, keygen_out);

  WitnessConfig config;
  if (!config_path.empty()) {
    auto c = LoadConfigFile(config_path);
    if (!c.ok()) {
      std::fprintf(stderr, "indelible-witness: %s\n", std::string(c.status().message()).c_str());
      return kExitUsage;
    }
    config = *c;
  }
  if (!listen.empty()) config.listen = listen;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (!log_level.empty()) config.log_level = log_level;
  if (!port_file.empty()) config.port_file = port_file;
  if (!metrics_listen.empty()) config.metrics_listen = metrics_listen;
  if (auto s = ValidateConfig(config); !s.ok()) {
    std::fprintf(stderr, "indelible-witness: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  process::SetUpLogging("indelible-witness", config.log_level);
  signal(SIGPIPE, SIG_IGN);
  if (!process::InstallSignalHandlers({SIGTERM, SIGINT}).ok()) {
    spdlog::critical("event=startup_failed reason=\"cannot install signal handlers\"");
    return kExitRuntime;
  }
  return Run(config);
}

}  // namespace indelible::witness
