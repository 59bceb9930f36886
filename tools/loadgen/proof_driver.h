// The proofs mode of indelible-loadgen: how many inclusion proofs a daemon
// serves per second, and how fast (docs/PERFORMANCE.md).
//
//   1. preload: appends `preload` events to the run's first tenant
//      (AppendBatch, `batch` events a call, one call at a time) — not
//      measured;
//   2. waits, bounded, for the daemon's v2 checkpoint of that tree size and
//      verifies its signature with the daemon's key (GetPublicKey);
//   3. `inflight` concurrent callers (callback API) request
//      GetInclusionProof for uniformly random seqs against that size until
//      the time or count bound (--duration after --warmup, --count);
//   4. with verify, a sample of `sample_size` proofs (or every one with
//      full) is checked client-side by RFC 9162 against the checkpoint's
//      root, each leaf recomputed from its preload receipt.
//
// Not thread-safe: one call per run.
#ifndef INDELIBLE_TOOLS_LOADGEN_PROOF_DRIVER_H_
#define INDELIBLE_TOOLS_LOADGEN_PROOF_DRIVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "tools/loadgen/driver.h"

namespace indelible::tools {

struct ProofOptions {
  uint64_t preload = 100000;  // events appended before the proofs
  // The checkpointer signs the preloaded tree within its interval (1 s by
  // default); waiting longer means something is wrong.
  double checkpoint_wait_s = 30;
};

struct ProofResult {
  std::unique_ptr<RunStats> stats;  // of the proof requests (not the preload)
  uint64_t tree_size = 0;
  double preload_seconds = 0;
  std::string verify_mode = "none";  // none | sample | full
  uint64_t checked = 0;              // proofs verified client-side...
  uint64_t failed = 0;               // ...of which these did not verify
  std::string first_failure;
  std::string error;  // why the run could not be set up (empty: it was)

  bool verify_ok() const { return failed == 0; }
};

// Runs steps 1-4 with rc's options, stubs and factory (rc's stats,
// receipts and gate are not used: the stats and the time bounds start
// after the preload). Returns false if gRPC did not complete a call well
// after every deadline. out->error says why a run could not be set up;
// then out->stats is null.
bool RunProofs(const RunContext& rc, const ProofOptions& po, ProofResult* out);

// REQUIRES: r.stats set.
nlohmann::json ProofsToJson(const LoadOptions& o, const ProofOptions& po, const ProofResult& r);
std::string ProofsToText(const LoadOptions& o, const ProofOptions& po, const ProofResult& r);

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_PROOF_DRIVER_H_
