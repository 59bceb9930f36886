// The end-of-run check of indelible-loadgen: every receipt it was given must
// name a record that is in its tenant's chain with that entry hash.
//
// Full mode reads each tenant's whole chain back (ReadRecords from seq 1;
// the run's tenants hold nothing else), recomputes every body digest and
// entry hash from the wire (docs/FORMAT.md), and matches receipts against
// it. Sample mode reads back only the records of a random sample of
// receipts, and checks each tenant's head is at least as far as its
// newest receipt.
#ifndef INDELIBLE_TOOLS_LOADGEN_VERIFY_H_
#define INDELIBLE_TOOLS_LOADGEN_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "indelible/v1/indelible.grpc.pb.h"
#include "tools/loadgen/run_stats.h"

namespace indelible::tools {

struct VerifyResult {
  std::string mode = "none";  // "full", "sample" or "none"
  uint64_t receipts = 0;      // receipts checked
  uint64_t verified = 0;      // found, with the same entry hash
  uint64_t missing = 0;       // no record at the receipt's seq
  uint64_t mismatched = 0;    // a record, with another entry hash
  uint64_t chain_errors = 0;  // records whose hashes or seq do not link
  uint64_t records = 0;       // records read back
  uint64_t unacknowledged = 0;  // records without a receipt (calls that failed late)
  uint64_t malformed = 0;     // receipts naming no tenant of the run, or bad hashes
  uint64_t duplicates = 0;    // receipts flagged duplicate (every id was new)
  double seconds = 0;
  std::string error;          // a read that failed; empty if none

  bool ok() const {
    return missing == 0 && mismatched == 0 && chain_errors == 0 &&
           malformed == 0 && duplicates == 0 && error.empty();
  }
};

// REQUIRES: no calls of the run are still adding receipts to `log`.
// `shared_tenants`: the tenants hold other runs' records before this run's;
// a full check then reads each chain from the record before the run's first
// receipt, whose entry hash links the rest, instead of from seq 1.
VerifyResult VerifyReceipts(v1::AuditLog::Stub* stub,
                            const std::vector<std::string>& tenants,
                            ReceiptLog* log, bool sample, size_t sample_size,
                            bool shared_tenants = false);

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_VERIFY_H_
