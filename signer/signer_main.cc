#include "signer/signer_main.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "common/version.h"
#include "signer/config.h"
#include "signer/signer.h"
#include "signer/wire.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/key_file.h"
#include "witness/state.h"

namespace indelible::signer {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// How long one connection may take to send its request.
constexpr int kReadTimeoutSeconds = 5;

std::string Errno(const std::string& what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

// Answers one connection: one frame in, one frame out.
void Serve(int fd, Signer* signer) {
  timeval tv{kReadTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  Response r;
  auto payload = ReadFrame(fd);
  std::string method, body;
  if (!payload.ok()) {
    if (absl::IsUnavailable(payload.status())) return;  // nothing to answer
    r = {400, "text/plain; charset=utf-8", std::string(payload.status().message()) + "\n",
         Result::kBadRequest};
  } else if (auto s = SplitHead(*payload, &method, &body); !s.ok()) {
    r = {400, "text/plain; charset=utf-8", std::string(s.message()) + "\n", Result::kBadRequest};
  } else if (method == kMethodKey) {
    r = {200, "text/plain; charset=utf-8",
         chain::NoteVerifierKeyString(signer->verifier_key()) + "\n", Result::kSigned};
  } else if (method == kMethodSignCheckpoint || method == kMethodSignDeletion) {
    r = signer->Sign(body, method == kMethodSignDeletion);
  } else {
    r = {400, "text/plain; charset=utf-8", "unknown method\n", Result::kBadRequest};
  }
  (void)WriteFrame(fd, absl::StrCat(r.status, " ", r.content_type, "\n", r.body));
}

// Binds the socket with `mode` (created under a umask that leaves it no
// wider than 0600 until the chmod, so it is never open to more).
absl::StatusOr<int> Listen(const std::string& path, mode_t mode) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("socket: ", path, " exists and is not a socket"));
    }
    unlink(path.c_str());  // left by a previous run (the state dir lock keeps out a live one)
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(Errno("socket"));
  const mode_t old_umask = umask(0177);
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  umask(old_umask);
  if (rc != 0) {
    const std::string why = Errno(absl::StrCat("socket: cannot bind ", path));
    close(fd);
    return absl::UnavailableError(why);
  }
  if (chmod(path.c_str(), mode) != 0 || listen(fd, 64) != 0) {
    const std::string why = Errno(absl::StrCat("socket: ", path));
    close(fd);
    return absl::InternalError(why);
  }
  return fd;
}

int Keygen(const std::string& name, const std::string& out) {
  struct stat st;
  if (stat(out.c_str(), &st) == 0) {
    std::fprintf(stderr, "indelible-signer: --out: %s exists; not overwritten\n", out.c_str());
    return kExitRuntime;
  }
  bool created = false;
  auto key = chain::LoadSigningKey(out, /*create_if_missing=*/true, &created);
  if (!key.ok()) {
    std::fprintf(stderr, "indelible-signer: %s\n", std::string(key.status().message()).c_str());
    return kExitRuntime;
  }
  const chain::NoteSigner signer(name, *std::move(key));
  std::printf("%s\n", chain::NoteVerifierKeyString(signer.verifier_key()).c_str());
  return kExitOk;
}

int Run(const SignerConfig& config) {
  bool created = false;
  auto key = chain::LoadSigningKey(config.signing_key_file, /*create_if_missing=*/false, &created);
  if (!key.ok()) {
    spdlog::critical("event=startup_failed field=signing_key_file reason=\"{}\"",
                     std::string(key.status().message()));
    return kExitRuntime;
  }
  auto store = witness::StateStore::Open(config.state_dir, kStateKind);
  if (!store.ok()) {
    spdlog::critical("event=startup_failed field=state_dir reason=\"{}\"",
                     std::string(store.status().message()));
    return kExitRuntime;
  }
  Signer signer(config.log_name, chain::NoteSigner(config.key_name, *std::move(key)),
                store->get());
  spdlog::info("event=signing_key verifier_key={}",
               chain::NoteVerifierKeyString(signer.verifier_key()));
  for (const auto& [origin, state] : (*store)->Snapshot()) {
    spdlog::info("event=state_loaded origin={} size={}", origin, state.size);
  }
  auto listen_fd = Listen(config.socket, config.socket_mode);
  if (!listen_fd.ok()) {
    spdlog::critical("event=startup_failed field=socket reason=\"{}\"",
                     std::string(listen_fd.status().message()));
    return kExitRuntime;
  }
  // One connection at a time: the daemon asks one question at a time, and
  // a slow client is cut off after kReadTimeoutSeconds.
  std::thread server([fd = *listen_fd, &signer] {
    for (;;) {
      const int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // shut down
      }
      Serve(conn, &signer);
      close(conn);
    }
  });
  spdlog::info("event=listening socket={} mode={:04o} log_name={}", config.socket,
               static_cast<unsigned>(config.socket_mode), config.log_name);
  const int sig = process::WaitForSignal();
  spdlog::info("event=shutdown signal={}", sig);
  shutdown(*listen_fd, SHUT_RDWR);
  server.join();
  close(*listen_fd);
  unlink(config.socket.c_str());
  for (size_t i = 0; i < kNumResults; ++i) {
    spdlog::info("event=requests result={} count={}", ResultName(static_cast<Result>(i)),
                 signer.Count(static_cast<Result>(i)));
  }
  spdlog::info("event=stopped");
  return kExitOk;
}

}  // namespace

int SignerMain(int argc, char** argv) {
  CLI::App app{"indelible-signer: holds an Indelible log's signing key; signs only "
               "consistent extensions"};
  std::string config_path, socket_path, state_dir, key_file, log_name, log_level;
  app.add_option("-c,--config", config_path, "YAML config file (docs/OPERATIONS.md)");
  app.add_option("--socket", socket_path, "Unix socket path");
  app.add_option("--state-dir", state_dir, "state directory");
  app.add_option("--signing-key-file", key_file, "the log's Ed25519 private key (PEM)");
  app.add_option("--log-name", log_name, "the daemon's log_name");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  app.set_version_flag("--version", absl::StrCat("indelible-signer ", kIndelibleVersion));
  std::string keygen_name = "indelible", keygen_out;
  CLI::App* keygen = app.add_subcommand(
      "keygen", "create an Ed25519 log key (mode 0600) and print its verifier key");
  keygen->add_option("--name", keygen_name, "the key name (default indelible)");
  keygen->add_option("--out", keygen_out, "the private key file to create")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (keygen->parsed()) return Keygen(keygen_name, keygen_out);
  SignerConfig config;
  if (!config_path.empty()) {
    auto c = LoadConfigFile(config_path);
    if (!c.ok()) {
      std::fprintf(stderr, "indelible-signer: %s\n", std::string(c.status().message()).c_str());
      return kExitUsage;
    }
    config = *c;
  }
  if (!socket_path.empty()) config.socket = socket_path;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (!key_file.empty()) config.signing_key_file = key_file;
  if (!log_name.empty()) config.log_name = log_name;
  if (!log_level.empty()) config.log_level = log_level;
  if (auto s = ValidateConfig(config); !s.ok()) {
    std::fprintf(stderr, "indelible-signer: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  process::SetUpLogging("indelible-signer", config.log_level);
  signal(SIGPIPE, SIG_IGN);
  if (!process::InstallSignalHandlers({SIGTERM, SIGINT}).ok()) {
    spdlog::critical("event=startup_failed reason=\"cannot install signal handlers\"");
    return kExitRuntime;
  }
  return Run(config);
}

}  // namespace indelible::signer
