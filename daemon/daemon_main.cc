#include "daemon/daemon_main.h"

#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/process.h"
#include "daemon/security/auth.h"
#include "daemon/governance/config.h"
#include "daemon/daemon.h"
#include "common/version.h"
#include "spdlog/spdlog.h"

namespace indelible {
namespace {

void TuneProcess() {
  // Debian's Abseil is built without NDEBUG, which leaves absl::Mutex's
  // deadlock detection on: a lock-order graph updated on every lock that
  // gRPC takes (about 4% of the daemon's CPU on a unary load). It is a
  // debugging aid; production code turns it off (docs/PERFORMANCE.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // glibc's malloc only: indelibled is linked with jemalloc by default
  // (main.cc has its settings), and then these change nothing.
  // glibc gives each thread that allocates concurrently an arena of its own,
  // up to 8 per core, and memory freed in one arena is not reused by the
  // others: with gRPC's threads that was about 85 MiB of a 340 MiB peak
  // under streaming load. One arena per core (at least 2) keeps the peak
  // near 250 MiB at the same throughput (docs/PERFORMANCE.md, "Where the time goes").
  // MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  }
  // Memtables are built of 1 MiB blocks. glibc serves blocks that large with
  // mmap at first, but each one freed raises its mmap threshold above that
  // size, so once the first memtable is flushed the next ones come from the
  // heap, and memory freed with them stays with the process, scattered
  // between live blocks: 80-100 MiB above memtables plus block cache after
  // two minutes of load, growing in steps over a soak. A fixed threshold
  // keeps them mmapped, so a flushed memtable goes back to the system
  // (docs/PERFORMANCE.md, "Where the time goes"). MALLOC_MMAP_THRESHOLD_ still wins.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
  }
}

// Flags over the config file. Returns the options, or sets *exit_code
// (usage errors are reported on stderr, --help and --version on stdout).
std::optional<DaemonOptions> ParseFlags(int argc, char** argv, int* exit_code) {
  CLI::App app{"indelibled: the Indelible audit-log daemon"};
  std::string config_path, listen, data_dir, log_level, port_file;
  app.add_option("-c,--config", config_path, "YAML config file (docs/CONFIG.md)");
  bool accept_weaker_config = false;
  app.add_flag("--accept-weaker-config", accept_weaker_config,
               "apply (and record as accepted) a configuration that weakens the two-person "
               "rule, read recording or retention (docs/SECURITY.md)");
  app.add_option("--listen", listen, "host:port to listen on (default 127.0.0.1:7410)");
  app.add_option("--data-dir", data_dir, "data directory (default ./data)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  app.add_option("--port-file", port_file, "write the bound port to this file");
  std::string metrics_listen;
  std::string local_listen;
  app.add_option("--local-listen", local_listen,
                 "loopback host:port of a plaintext listener for local probes (default off)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port of the Prometheus /metrics endpoint (default off)");
  bool testing_manual_clock = false;
#ifdef INDELIBLE_TESTING_HOOKS
  // Only in indelibled-testing: indelibled has no manual clock at all.
  app.add_flag("--testing-manual-clock", testing_manual_clock,
               "TESTS ONLY: a clock that moves only by Admin.AdvanceTestClock");
#endif
  app.set_version_flag("--version", absl::StrCat("indelibled ", kIndelibleVersion));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    *exit_code = rc == 0 ? kExitOk : kExitUsage;
    return std::nullopt;
  }
  DaemonConfig config;
  if (!config_path.empty()) {
    auto c = LoadConfigFile(config_path);
    if (!c.ok()) {
      std::fprintf(stderr, "indelibled: %s\n", std::string(c.status().message()).c_str());
      *exit_code = kExitUsage;
      return std::nullopt;
    }
    config = *c;
  }
  if (!listen.empty()) config.listen = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!log_level.empty()) config.log_level = log_level;
  if (!port_file.empty()) config.port_file = port_file;
  if (!metrics_listen.empty()) config.metrics_listen = metrics_listen;
  if (!local_listen.empty()) config.local_listen = local_listen;
  if (testing_manual_clock) config.testing_manual_clock = true;
  if (auto s = ValidateConfig(config); !s.ok()) {
    std::fprintf(stderr, "indelibled: %s\n", std::string(s.message()).c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return DaemonOptions{std::move(config), config_path, accept_weaker_config};
}

// SIGHUP reloads; SIGTERM or SIGINT drains and stops.
int ServeUntilSignalled(Daemon* daemon) {
  int sig = 0;
  while ((sig = process::WaitForSignal()) == SIGHUP) {
    spdlog::info("event=reload_started signal=SIGHUP");
    (void)daemon->Reload();  // logs and counts its outcome
  }
  spdlog::info("event=shutdown_started signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  daemon->Stop();
  return kExitOk;
}

}  // namespace

int DaemonMain(int argc, char** argv) {
  TuneProcess();
  int exit_code = kExitOk;
  std::optional<DaemonOptions> options = ParseFlags(argc, argv, &exit_code);
  if (!options) return exit_code;
  const DaemonConfig& config = options->config;
  if (config.tls.enabled()) {
    // Before anything initialises OpenSSL (the signing key load does).
    if (auto s = ImposeTls13Minimum(); !s.ok()) {
      std::fprintf(stderr, "indelibled: %s\n", std::string(s.message()).c_str());
      return kExitRuntime;
    }
  }
  process::SetUpLogging("indelibled", config.log_level);
  if (auto s = process::InstallSignalHandlers({SIGTERM, SIGINT, SIGHUP}); !s.ok()) {
    spdlog::critical("event=startup_failed reason=\"{}\"", s.ToString());
    return kExitRuntime;
  }
  Daemon daemon;
  if (!daemon.Start(*std::move(options)).ok()) return daemon.exit_code();
  return ServeUntilSignalled(&daemon);
}

}  // namespace indelible
