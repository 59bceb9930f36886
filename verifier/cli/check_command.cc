#include "verifier/cli/check_command.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"
#include "verifier/check/checkpoint_rows.h"
#include "verifier/check/store_check.h"
#include "verifier/cli/check_output.h"
#include "verifier/cli/progress.h"
#include "verifier/cli/proof_commands.h"
#include "verifier/cli/trust_flags.h"
#include "verifier/cli/witness_flags.h"
#include "verifier/store/reader.h"

namespace indelible::verify {
namespace {

using chain::ToStd;

struct CheckFlags {
  std::string data_dir;
  std::string tenant;
  TrustFlags trust;
  WitnessFlags witness;
  bool json = false;
  int threads = -1;  // -1: one per core
  size_t max_findings = 1000;
  RemoteFlags remote;
};

// Keeps the first `max` findings and counts the rest.
class CollectingReporter final : public check::Reporter {
 public:
  explicit CollectingReporter(size_t max) : max_(max) {}
  void Report(const check::Finding& f) override {
    if (findings_.size() < max_) {
      findings_.push_back(f);
    } else {
      ++omitted_;
    }
  }
  std::vector<check::Finding> findings_;
  uint64_t omitted_ = 0;

 private:
  size_t max_;
};

int Fail(const std::string& what, const absl::Status& s) {
  std::cerr << "indelible-verify check: " << what
            << (what.empty() ? "" : ": ") << ToStd(s.message()) << "\n";
  return kExitError;
}

int RunCheck(const CheckFlags& flags) {
  if (flags.remote.target.empty() == flags.data_dir.empty()) {
    return Fail("", absl::InvalidArgumentError(
                        "give exactly one of --data-dir and --remote"));
  }
  auto policy = flags.witness.Load();
  if (!policy.ok()) return Fail("", policy.status());
  if (!flags.remote.target.empty()) {
    return RunRemoteCheck(flags.remote, flags.tenant, flags.trust.keys,
                          flags.trust.key_pems, flags.trust.rotations,
                          flags.trust.checkpoints,
                          flags.json, *policy);
  }
  check::StoreCheckOptions options;
  options.witnesses = *policy;
  options.tenant = flags.tenant;
  if (!flags.tenant.empty() && !chain::IsValidTenantId(flags.tenant)) {
    return Fail("--tenant " + flags.tenant,
                absl::InvalidArgumentError("not a valid tenant id"));
  }
  if (auto s = flags.trust.Apply(&options); !s.ok()) return Fail("", s);
  // Default: one hashing thread per core, at most kMaxDefaultThreads (each
  // thread keeps about two chunks in memory).
  constexpr unsigned kMaxDefaultThreads = 8;
  options.parallel.threads =
      flags.threads >= 0
          ? flags.threads
          : static_cast<int>(std::clamp(std::thread::hardware_concurrency(),
                                        1u, kMaxDefaultThreads));

  auto reader = store::Reader::Open(flags.data_dir);
  if (!reader.ok()) return Fail("", reader.status());

  ProgressBar progress;
  options.progress = [&progress](uint64_t done, uint64_t expected) {
    progress.Update(done, expected);
  };
  CollectingReporter reporter(flags.max_findings);
  auto result = check::CheckStore(**reader, options, &reporter);
  progress.Finish();
  if (!result.ok()) return Fail("", result.status());

  CheckReport report;
  report.data_dir = flags.data_dir;
  report.tenant = flags.tenant;
  report.result = *std::move(result);
  report.findings = std::move(reporter.findings_);
  report.findings_omitted = reporter.omitted_;
  if (flags.json) {
    std::cout << CheckReportJson(report).dump(
                     2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << CheckReportText(report);
  }
  std::cout.flush();
  switch (JudgeTrust(report.result).verdict) {
    case Verdict::kVerified:
      return kExitVerified;
    case Verdict::kFindings:
      return kExitFindings;
    case Verdict::kNoTrustedKey:
      return kExitNoTrustedKey;
    case Verdict::kBelowQuorum:
      return kExitBelowQuorum;
  }
  return kExitNoTrustedKey;
}

}  // namespace

std::pair<CLI::App*, Command> RegisterCheckCommand(CLI::App* app) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* sub = app->add_subcommand(
      "check",
      "Check every chain of a data directory (or a backup copy of one) "
      "against its skeletons, bodies, heads and checkpoints. Safe while the "
      "daemon runs. Exit 0: verified, 1: findings, 2: usage or I/O error, "
      "3: not verified (no trusted key given, no checkpoint signature "
      "verified with one, or a tenant's newest checkpoint below the witness "
      "quorum).");
  sub->add_option("--data-dir", flags->data_dir,
                  "The daemon's data directory, or a copy of it");
  sub->add_option("--tenant", flags->tenant, "Check only this tenant");
  flags->trust.Register(sub);
  flags->witness.Register(sub);
  RegisterRemoteFlags(sub, &flags->remote);
  sub->add_flag("--json", flags->json, "Print the result as JSON");
  sub->add_option("--threads", flags->threads,
                  "Hashing threads (default: one per core, at most 8; 0: hash "
                  "on the reading thread)")
      ->check(CLI::Range(0, 256));
  sub->add_option("--max-findings", flags->max_findings,
                  "List at most this many findings (all are counted)")
      ->capture_default_str();
  return {sub, [flags] { return RunCheck(*flags); }};
}

}  // namespace indelible::verify
