// indelible-baseline: the yardsticks the daemon's figures are divided by.
//
//   indelible-baseline echo-server --listen 127.0.0.1:0 --port-file F
//                                  [--durable-dir DIR]
//       the AuditLog service answering at once (echo_service.h), or with
//       --durable-dir once the events are in a synced group commit of a
//       RocksDB database created in DIR (durable_log.h), until
//       SIGTERM/SIGINT or --max-seconds; drive it with indelible-loadgen
//       --verify none.
//   indelible-baseline rocksdb --batch 1 --batch 16 ... [--json]
//       synced RocksDB WriteBatches with hashing (rocksdb_baseline.h), one
//       result per batch size.
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "tools/baseline/echo_service.h"
#include "tools/baseline/rocksdb_baseline.h"

namespace indelible::tools {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRun = 1;
constexpr int kExitUsage = 2;

bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

int RunEchoServer(const std::string& listen, const std::string& port_file,
                  const std::string& durable_dir, int max_seconds) {
  if (!absl::StartsWith(listen, "127.0.0.1:")) {
    std::fprintf(stderr, "indelible-baseline: --listen must be 127.0.0.1:PORT\n");
    return kExitUsage;
  }
  // Blocked before gRPC starts its threads, so only sigtimedwait sees them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  std::unique_ptr<DurableLog> log;
  if (!durable_dir.empty()) {
    auto opened = DurableLog::Open(durable_dir);
    if (!opened.ok()) {
      std::fprintf(stderr, "indelible-baseline: %s\n", opened.status().ToString().c_str());
      return kExitRun;
    }
    log = std::move(*opened);
  }
  EchoService service(log.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(16 << 20);  // as indelibled
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "indelible-baseline: cannot listen on %s\n", listen.c_str());
    return kExitRun;
  }
  if (!port_file.empty() && !WritePortFile(port_file, port)) {
    std::fprintf(stderr, "indelible-baseline: cannot write %s\n", port_file.c_str());
    server->Shutdown();
    return kExitRun;
  }
  std::fprintf(stderr, "indelible-baseline: echo server on 127.0.0.1:%d\n", port);
  timespec limit{max_seconds, 0};
  const int sig = sigtimedwait(&sigs, nullptr, &limit);
  if (sig < 0) {
    std::fprintf(stderr, "indelible-baseline: --max-seconds reached, stopping\n");
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return kExitOk;
}

int Main(int argc, char** argv) {
  // As in indelibled (daemon_main.cc): Debian's Abseil leaves absl::Mutex
  // deadlock detection on, a debugging aid that costs every gRPC lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"indelible-baseline: gRPC echo and raw RocksDB yardsticks"};
  app.require_subcommand(1);

  auto* echo = app.add_subcommand("echo-server", "AuditLog that answers at once");
  std::string listen = "127.0.0.1:0", port_file, durable_dir;
  int max_seconds = 3600;
  echo->add_option("--listen", listen, "127.0.0.1:PORT (0: any free port)");
  echo->add_option("--port-file", port_file, "write the bound port here");
  echo->add_option("--durable-dir", durable_dir,
                   "answer once the events are synced to a RocksDB database here");
  echo->add_option("--max-seconds", max_seconds, "stop after this long regardless")
      ->check(CLI::Range(1, 86400));

  auto* rdb = app.add_subcommand("rocksdb", "synced WriteBatches with hashing");
  std::vector<int> batches;
  RawWriteOptions ro;
  bool json = false;
  const char* tmp = getenv("TMPDIR");
  ro.parent_dir = tmp != nullptr ? tmp : "/tmp";
  rdb->add_option("--batch", batches, "records per WriteBatch (repeatable)")
      ->check(CLI::Range(1, 1 << 20));
  rdb->add_option("--event-bytes", ro.payload_bytes, "payload bytes per record")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  rdb->add_option("--duration", ro.duration_s, "seconds measured per batch size")
      ->check(CLI::Range(0.0, 600.0));
  rdb->add_option("--warmup", ro.warmup_s, "seconds not measured")
      ->check(CLI::Range(0.0, 600.0));
  rdb->add_option("--count", ro.count, "records per batch size (0: time only)");
  rdb->add_option("--dir", ro.parent_dir, "parent of the temporary DB");
  rdb->add_flag("--json", json, "one JSON object per line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (echo->parsed()) return RunEchoServer(listen, port_file, durable_dir, max_seconds);

  if (batches.empty()) batches = {1, 16, 256, 4096};
  for (int b : batches) {
    ro.batch = b;
    auto r = RunRawWrites(ro);
    if (!r.ok()) {
      std::fprintf(stderr, "indelible-baseline: %s\n", r.status().ToString().c_str());
      return kExitRun;
    }
    if (json) {
      std::cout << r->dump() << std::endl;
    } else {
      const auto& l = (*r)["latency_ms"];
      std::printf("rocksdb batch=%d: %.0f records/s, %.0f syncs/s, commit ms "
                  "p50 %.3f p99 %.3f max %.3f\n",
                  b, (*r)["events_per_s"].get<double>(),
                  (*r)["syncs_per_s"].get<double>(), l["p50"].get<double>(),
                  l["p99"].get<double>(), l["max"].get<double>());
      std::fflush(stdout);
    }
  }
  return kExitOk;
}

}  // namespace
}  // namespace indelible::tools

int main(int argc, char** argv) { return indelible::tools::Main(argc, argv); }
