// indelible-loadgen: drives a running indelibled (or the echo baseline of
// indelible-baseline) on 127.0.0.1 and reports throughput, latency and
// errors, then checks every receipt against the chain; or, in the proofs
// mode (proof_driver.h), measures the inclusion proofs it serves. See
// docs/PERFORMANCE.md.
//
// Exit: 0 ok; 1 could not run (no connection, nothing acknowledged, calls
// that never completed); 2 usage; 3 a receipt or proof did not check out.
#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tools/loadgen/driver.h"
#include "tools/loadgen/proof_driver.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/verify.h"
#include "verifier/chain/hash.h"

namespace indelible::tools {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRun = 1;
constexpr int kExitUsage = 2;
constexpr int kExitVerify = 3;

bool IsLoopbackTarget(const std::string& t) {
  const std::string host = "127.0.0.1:";
  uint32_t port = 0;
  return t.compare(0, host.size(), host) == 0 &&
         absl::SimpleAtoi(t.substr(host.size()), &port) && port > 0 &&
         port < 65536;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  // Separate connections for separate channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("indelible.loadgen.channel", index);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

int Main(int argc, char** argv) {
  // As in indelibled (daemon_main.cc): Debian's Abseil leaves absl::Mutex
  // deadlock detection on, a debugging aid that costs every gRPC lock.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"indelible-loadgen: load and latency against indelibled on 127.0.0.1"};
  LoadOptions o;
  std::string mode = "unary";
  bool json = false;
  std::string verify = "full";
  app.add_option("--target", o.target, "127.0.0.1:PORT of the daemon")->required();
  app.add_option("--mode", mode,
                 "unary | batch | stream | proofs (inclusion proofs of a preloaded tenant)")
      ->check(CLI::IsMember({"unary", "batch", "stream", "proofs"}));
  ProofOptions proof_options;
  app.add_option("--preload", proof_options.preload,
                 "proofs: events appended first (in --batch calls); the tree size")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  app.add_option("--inflight", o.inflight,
                 "unary/batch/proofs: calls in flight (the cap, with --rate)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--batch", o.batch, "batch/stream: events per message")
      ->check(CLI::Range(1, 100000));
  app.add_option("--streams", o.streams, "stream: concurrent AppendStream calls")
      ->check(CLI::Range(1, 10000));
  app.add_option("--window", o.stream_window,
                 "stream: unanswered messages per stream")
      ->check(CLI::Range(1, 10000));
  app.add_option("--tenants", o.tenants, "tenants written round robin")
      ->check(CLI::Range(1, 100000));
  app.add_option("--tenant-prefix", o.tenant_prefix,
                 "write tenants PREFIX-0, PREFIX-1, ... shared with other runs "
                 "(default: tenants of this run's own)");
  std::string ids = "counter";
  app.add_option("--event-ids", ids,
                 "counter (<run id>-<n>, not in the order sent) | uuid4 (random) | "
                 "uuid7 (growing with time)")
      ->check(CLI::IsMember({"counter", "uuid4", "uuid7"}))
      ->capture_default_str();
  app.add_option("--event-bytes", o.event_bytes,
                 "approximate serialized size of an event (filled via reason)")
      ->check(CLI::Range(size_t{1}, size_t{60000}));
  app.add_option("--duration", o.duration_s, "seconds measured after the warmup")
      ->check(CLI::Range(0.0, kMaxRunSeconds));
  app.add_option("--count", o.count,
                 "events (proofs: proofs) to send, warmup included (0: bounded by "
                 "time only)");
  app.add_option("--warmup", o.warmup_s, "seconds not measured")
      ->check(CLI::Range(0.0, kMaxRunSeconds));
  app.add_option("--rate", o.rate,
                 "unary/batch: offered events/s, open loop (0: closed loop)")
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--timeout", o.call_timeout_s, "deadline of each call, seconds")
      ->check(CLI::Range(0.1, 300.0));
  app.add_option("--channels", o.channels, "separate connections")
      ->check(CLI::Range(1, 64));
  app.add_option("--client-threads", o.client_threads,
                 "unary/batch: threads polling completions")
      ->check(CLI::Range(1, 64));
  std::string client_api = "cq";
  app.add_option("--client-api", client_api,
                 "unary/batch: cq (completion queues) | callback")
      ->check(CLI::IsMember({"cq", "callback"}));
  app.add_option("--verify", verify, "full | sample | none")
      ->check(CLI::IsMember({"full", "sample", "none"}));
  app.add_option("--sample", o.sample_size,
                 "receipts (proofs: proofs) checked by --verify sample");
  app.add_flag("--json", json, "print the results as one JSON object");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (!IsLoopbackTarget(o.target)) {
    std::fprintf(stderr, "indelible-loadgen: --target must be 127.0.0.1:PORT\n");
    return kExitUsage;
  }
  o.mode = mode == "unary" ? Mode::kUnary
           : mode == "batch" ? Mode::kBatch
                             : Mode::kStream;
  if (o.rate > 0 && (o.mode == Mode::kStream || mode == "proofs")) {
    std::fprintf(stderr, "indelible-loadgen: --rate applies to unary and batch\n");
    return kExitUsage;
  }
  if (o.warmup_s + o.duration_s > kMaxRunSeconds) {
    std::fprintf(stderr, "indelible-loadgen: warmup + duration exceed %.0f s\n",
                 kMaxRunSeconds);
    return kExitUsage;
  }
  o.callback_api = client_api == "callback";
  o.ids = ids == "uuid4"   ? IdFormat::kUuid4
          : ids == "uuid7" ? IdFormat::kUuid7
                           : IdFormat::kRunCounter;
  o.verify = verify != "none";
  o.verify_sample = verify == "sample";

  if (!o.tenant_prefix.empty() && mode == "proofs") {
    std::fprintf(stderr, "indelible-loadgen: --tenant-prefix does not apply to --mode proofs "
                         "(it preloads a tenant of its own)\n");
    return kExitUsage;
  }
  if (!o.tenant_prefix.empty() &&
      !chain::IsValidTenantId(absl::StrCat(o.tenant_prefix, "-", o.tenants - 1))) {
    std::fprintf(stderr, "indelible-loadgen: --tenant-prefix %s does not make valid tenant ids\n",
                 o.tenant_prefix.c_str());
    return kExitUsage;
  }
  EventFactory factory(NewRunId(), o.tenants, o.event_bytes, o.tenant_prefix, o.ids);
  RunContext rc;
  rc.options = &o;
  rc.factory = &factory;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.channels; ++i) {
    channels.push_back(MakeChannel(o.target, i));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(10))) {
      std::fprintf(stderr, "indelible-loadgen: cannot connect to %s\n",
                   o.target.c_str());
      return kExitRun;
    }
    rc.stubs.push_back(v1::AuditLog::NewStub(channels.back()));
    rc.channels.push_back(channels.back());
  }

  if (mode == "proofs") {
    ProofResult result;
    if (!RunProofs(rc, proof_options, &result)) {
      std::fprintf(stderr, "indelible-loadgen: calls did not complete after their deadlines\n");
      std::fflush(stderr);
      std::_Exit(kExitRun);  // gRPC still owns state we cannot safely free
    }
    if (!result.error.empty()) {
      std::fprintf(stderr, "indelible-loadgen: %s\n", result.error.c_str());
      return kExitRun;
    }
    if (json) {
      std::cout << ProofsToJson(o, proof_options, result).dump() << std::endl;
    } else {
      std::cout << ProofsToText(o, proof_options, result) << std::flush;
    }
    if (!result.verify_ok()) return kExitVerify;
    return result.stats->measured_calls() == 0 ? kExitRun : kExitOk;
  }

  const int64_t t0 = SteadyNanos();
  const int64_t measure_start = t0 + static_cast<int64_t>(o.warmup_s * 1e9);
  const int64_t deadline = measure_start + static_cast<int64_t>(o.duration_s * 1e9);
  RunStats stats(measure_start);
  ReceiptLog receipts(factory.tenants());
  IssueGate gate(deadline, o.count);
  rc.stats = &stats;
  rc.receipts = &receipts;
  rc.gate = &gate;
  const bool finished = o.mode == Mode::kStream ? RunStream(&rc) : RunUnary(&rc);
  if (!finished) {
    std::fprintf(stderr, "indelible-loadgen: calls did not complete after their deadlines\n");
    std::fflush(stderr);
    std::_Exit(kExitRun);  // gRPC still owns state we cannot safely free
  }

  RunReport report;
  report.options = &o;
  report.event_bytes = factory.event_bytes();
  report.stats = &stats;
  if (o.verify) {
    report.verify = VerifyReceipts(rc.stubs.front().get(), factory.tenants(),
                                   &receipts, o.verify_sample, o.sample_size,
                                   /*shared_tenants=*/!o.tenant_prefix.empty());
  }
  if (json) {
    std::cout << ToJson(report).dump() << std::endl;
  } else {
    std::cout << ToText(report) << std::flush;
  }
  if (o.verify && !report.verify.ok()) return kExitVerify;
  if (stats.acknowledged_events() == 0) return kExitRun;
  return kExitOk;
}

}  // namespace
}  // namespace indelible::tools

int main(int argc, char** argv) { return indelible::tools::Main(argc, argv); }
