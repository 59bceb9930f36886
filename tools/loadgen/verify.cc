#include "tools/loadgen/verify.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"

namespace indelible::tools {
namespace {

using Entry = ReceiptLog::Entry;

// Reading back is bounded too: a chain that cannot be read in this long is
// reported as an error rather than waited for.
constexpr auto kReadBudget = std::chrono::seconds(300);

std::chrono::system_clock::time_point ReadDeadline() {
  return std::chrono::system_clock::now() + kReadBudget;
}

// Reads one tenant's chain from seq 1 (or, with `from_first_receipt`, from
// the record before the first receipt, which only anchors the links) and
// matches `receipts` (sorted by seq) against it.
void VerifyTenantFull(v1::AuditLog::Stub* stub, const std::string& tenant,
                      const std::vector<Entry>& receipts, bool from_first_receipt,
                      VerifyResult* r) {
  // Other runs' records alone: nothing of this run's to check.
  if (from_first_receipt && receipts.empty()) return;
  chain::Digest prev = chain::Genesis(tenant);
  uint64_t next_seq = 1;
  bool anchor = false;
  if (from_first_receipt && !receipts.empty() && receipts.front().seq > 1) {
    next_seq = receipts.front().seq - 1;
    anchor = true;
  }
  size_t ri = 0;
  const auto deadline = ReadDeadline();
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    v1::ReadRecordsRequest req;
    req.set_tenant(tenant);
    req.set_from_seq(next_seq);
    auto reader = stub->ReadRecords(&ctx, req);
    v1::Record rec;
    uint64_t got = 0;
    while (reader->Read(&rec)) {
      ++got;
      ++r->records;
      if (anchor) {  // an earlier run's record: its entry hash links the next
        anchor = false;
        if (rec.tenant() != tenant || rec.seq() != next_seq ||
            !chain::DigestFromBytes(rec.entry_hash(), &prev)) {
          ++r->chain_errors;
        }
        next_seq = rec.seq() + 1;
        continue;
      }
      chain::Digest body, entry;
      bool ok = rec.tenant() == tenant && rec.seq() == next_seq &&
                chain::DigestFromBytes(rec.body_digest(), &body) &&
                chain::DigestFromBytes(rec.entry_hash(), &entry);
      if (ok && !rec.pruned()) {
        ok = chain::BodyDigest(rec.salt(), rec.canonical_event()) == body;
      }
      if (ok) {
        ok = chain::EntryHash(tenant, rec.seq(), rec.received_at_ns(), prev,
                              body) == entry;
      }
      if (!ok) ++r->chain_errors;
      prev = entry;
      next_seq = rec.seq() + 1;

      while (ri < receipts.size() && receipts[ri].seq < rec.seq()) {
        ++r->missing;
        ++ri;
      }
      if (ri < receipts.size() && receipts[ri].seq == rec.seq()) {
        while (ri < receipts.size() && receipts[ri].seq == rec.seq()) {
          if (receipts[ri].entry_hash == entry) {
            ++r->verified;
          } else {
            ++r->mismatched;
          }
          ++ri;
        }
      } else {
        ++r->unacknowledged;
      }
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      r->error = absl::StrCat("ReadRecords ", tenant, " from ", next_seq, ": ",
                              StatusCodeName(s.error_code()), " ",
                              s.error_message());
      break;
    }
    if (got == 0) break;  // the end of the chain
  }
  r->missing += receipts.size() - ri;
}

void VerifySample(v1::AuditLog::Stub* stub,
                  const std::vector<std::string>& tenants,
                  const std::vector<std::vector<Entry>>& by_tenant,
                  size_t sample_size, VerifyResult* r) {
  std::vector<std::pair<size_t, Entry>> all;
  for (size_t t = 0; t < by_tenant.size(); ++t) {
    for (const Entry& e : by_tenant[t]) all.emplace_back(t, e);
  }
  std::mt19937_64 rng(std::random_device{}());
  std::shuffle(all.begin(), all.end(), rng);
  if (all.size() > sample_size) all.resize(sample_size);
  const auto deadline = ReadDeadline();
  for (const auto& [t, e] : all) {
    ++r->receipts;
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    v1::ReadRecordsRequest req;
    req.set_tenant(tenants[t]);
    req.set_from_seq(e.seq);
    req.set_limit(1);
    auto reader = stub->ReadRecords(&ctx, req);
    v1::Record rec;
    bool found = false;
    while (reader->Read(&rec)) {
      ++r->records;
      if (rec.seq() != e.seq) continue;
      found = true;
      chain::Digest entry;
      if (chain::DigestFromBytes(rec.entry_hash(), &entry) &&
          entry == e.entry_hash) {
        ++r->verified;
      } else {
        ++r->mismatched;
      }
    }
    if (grpc::Status s = reader->Finish(); !s.ok()) {
      r->error = absl::StrCat("ReadRecords ", tenants[t], ": ",
                              StatusCodeName(s.error_code()), " ",
                              s.error_message());
      return;
    }
    if (!found) ++r->missing;
  }
  for (size_t t = 0; t < by_tenant.size(); ++t) {
    if (by_tenant[t].empty()) continue;
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    v1::GetHeadRequest req;
    req.set_tenant(tenants[t]);
    v1::GetHeadResponse head;
    if (grpc::Status s = stub->GetHead(&ctx, req, &head); !s.ok()) {
      r->error = absl::StrCat("GetHead ", tenants[t], ": ",
                              StatusCodeName(s.error_code()), " ",
                              s.error_message());
      return;
    }
    if (head.seq() < by_tenant[t].back().seq) ++r->chain_errors;
  }
}

}  // namespace

VerifyResult VerifyReceipts(v1::AuditLog::Stub* stub,
                            const std::vector<std::string>& tenants,
                            ReceiptLog* log, bool sample, size_t sample_size,
                            bool shared_tenants) {
  const auto t0 = std::chrono::steady_clock::now();
  VerifyResult r;
  r.mode = sample ? "sample" : "full";
  r.malformed = log->malformed();
  r.duplicates = log->duplicates();
  auto& by_tenant = log->by_tenant();
  for (auto& v : by_tenant) {
    std::sort(v.begin(), v.end(),
              [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
  }
  if (sample) {
    VerifySample(stub, tenants, by_tenant, sample_size, &r);
  } else {
    for (size_t t = 0; t < tenants.size() && r.error.empty(); ++t) {
      r.receipts += by_tenant[t].size();
      VerifyTenantFull(stub, tenants[t], by_tenant[t], shared_tenants, &r);
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                  .count();
  return r;
}

}  // namespace indelible::tools
