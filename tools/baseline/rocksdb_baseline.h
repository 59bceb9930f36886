// The storage baseline: what one thread gets from RocksDB on this disk when
// it does the daemon's irreducible work per record and nothing else.
//
// Per record: draw a 16-byte salt, body digest = SHA-256(salt || payload),
// entry hash = SHA-256 over the chain link (verifier/chain, the daemon's
// own functions), then one Put of key(tenant, seq) -> skeleton || salt ||
// payload. Records are written `batch` at a time as one WriteBatch with
// sync=true, into a fresh RocksDB in a temporary directory, with the
// daemon's DB options (no compression on these bytes).
//
// It writes one key per record where the daemon writes three (skeleton,
// body, event id) plus a head per tenant per group: the gap between the two
// is the price of the layout, validation, gRPC and queueing.
#ifndef INDELIBLE_TOOLS_BASELINE_ROCKSDB_BASELINE_H_
#define INDELIBLE_TOOLS_BASELINE_ROCKSDB_BASELINE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace indelible::tools {

struct RawWriteOptions {
  std::string parent_dir;     // the temporary DB goes under it
  int batch = 256;            // records per synced WriteBatch
  size_t payload_bytes = 512; // stands for the canonical event
  double duration_s = 5;      // after the warmup
  double warmup_s = 0.5;
  uint64_t count = 0;         // records, warmup included; 0: time only
};

// Runs one batch size; JSON with records/s, syncs/s and per-batch commit
// latency (p50/p95/p99/max ms).
absl::StatusOr<nlohmann::json> RunRawWrites(const RawWriteOptions& options);

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_BASELINE_ROCKSDB_BASELINE_H_
