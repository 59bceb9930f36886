#include "verifier/check/chain_checker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/chain/tenant_id.h"
#include "verifier/chain/text.h"

namespace indelible::check {
namespace {

std::string_view SourceName(CheckpointClaim::Source s) {
  return s == CheckpointClaim::Source::kStored ? "stored" : "supplied";
}

}  // namespace

ChainChecker::ChainChecker(std::string tenant, HeadRow head, CheckSink* sink)
    : sink_(sink), head_(head) {
  summary_.tenant = std::move(tenant);
  prev_ = chain::Genesis(summary_.tenant);
  summary_.head_hash = prev_;
  if (!chain::IsValidTenantId(summary_.tenant)) {
    Report(Kind::kMalformed, 0,
           absl::StrCat("not a valid tenant id (", chain::kTenantIdPattern, ")"));
  }
}

void ChainChecker::Report(Kind kind, uint64_t seq, std::string detail) {
  sink_->Report(Finding{summary_.tenant, seq, kind, std::move(detail)});
}

void ChainChecker::AddCheckpoint(const CheckpointClaim& claim) {
  const chain::Checkpoint& cp = claim.checkpoint;
  if (claim.source == CheckpointClaim::Source::kStored) {
    ++summary_.stored_checkpoints;
    ++(claim.signature_verified ? summary_.checkpoints_signed
                                : summary_.checkpoints_unverified);
    // Stored checkpoints arrive in seq order; signing times must not go
    // backwards along it. A later-signed checkpoint at a lower seq means
    // the daemon's state was rolled back and an older head signed again.
    if (any_stored_ && cp.timestamp_ns < newest_stored_ts_) {
      Report(Kind::kCheckpointRollback, cp.seq,
             absl::StrCat("the checkpoint at seq ", cp.seq, " was signed at ",
                          cp.timestamp_ns, ", before the checkpoint at seq ",
                          newest_stored_seq_, " (signed at ", newest_stored_ts_,
                          "): the head went back from seq ", cp.seq,
                          " or later to seq ", newest_stored_seq_));
    }
    if (!any_stored_ || cp.timestamp_ns >= newest_stored_ts_) {
      newest_stored_ts_ = cp.timestamp_ns;
      newest_stored_seq_ = cp.seq;
    }
    any_stored_ = true;
  } else {
    ++summary_.supplied_checkpoints;
  }
  if (cp.seq == 0) {  // the empty chain, whose head is the genesis
    if (cp.head == chain::Genesis(summary_.tenant)) {
      ++summary_.checkpoints_confirmed;
    } else {
      Report(Kind::kCheckpointMismatch, 0,
             absl::StrCat("a ", chain::ToAbsl(SourceName(claim.source)),
                          " checkpoint of seq 0 names a head other than the "
                          "tenant's genesis"));
    }
    return;
  }
  pending_.emplace(cp.seq, claim);
}

bool ChainChecker::TakeSeq(uint64_t seq, uint64_t received_at_ns) {
  if (seq < expect_) {
    Report(Kind::kSeqOutOfOrder, seq,
           seq == 0 ? std::string("seq 0 is not a record's seq")
           : seq + 1 == expect_
               ? absl::StrCat("seq ", seq, " repeats")
               : absl::StrCat("seq ", seq, " comes after seq ", expect_ - 1));
    return false;
  }
  if (seq > expect_) {
    Report(Kind::kSeqGap, expect_,
           seq - expect_ == 1
               ? absl::StrCat("record ", expect_, " is missing")
               : absl::StrCat("records ", expect_, "..", seq - 1,
                              " are missing (", seq - expect_, " records)"));
    prev_known_ = false;
  }
  if (received_at_ns < last_time_) {
    Report(Kind::kReceivedAtDecreased, seq,
           absl::StrCat("received_at_ns ", received_at_ns,
                         " is before the previous record's ", last_time_));
  }
  last_time_ = received_at_ns;
  return true;
}

void ChainChecker::SettleClaimsBefore(uint64_t seq) {
  while (!pending_.empty() && pending_.begin()->first < seq) {
    const CheckpointClaim& c = pending_.begin()->second;
    Report(Kind::kCheckpointMismatch, c.checkpoint.seq,
           absl::StrCat("a ", chain::ToAbsl(SourceName(c.source)),
                        " checkpoint vouches for seq ", c.checkpoint.seq,
                        ", which is missing from the chain"));
    pending_.erase(pending_.begin());
  }
}

void ChainChecker::SettleClaimsAt(uint64_t seq, const chain::Digest* hash) {
  auto [begin, end] = pending_.equal_range(seq);
  for (auto it = begin; it != end; ++it) {
    const CheckpointClaim& c = it->second;
    if (hash == nullptr) {
      Report(Kind::kCheckpointMismatch, seq,
             absl::StrCat("a ", chain::ToAbsl(SourceName(c.source)),
                          " checkpoint vouches for seq ", seq,
                          ", whose skeleton is unreadable"));
    } else if (*hash != c.checkpoint.head) {
      Report(Kind::kCheckpointMismatch, seq,
             absl::StrCat("a ", chain::ToAbsl(SourceName(c.source)),
                          " checkpoint signed at ", c.checkpoint.timestamp_ns,
                          " says entry_hash(", seq, ") = ",
                          chain::ToHex(c.checkpoint.head), ", the chain has ",
                          chain::ToHex(*hash),
                          ": history was rewritten after it was signed"));
    } else {
      ++summary_.checkpoints_confirmed;
    }
  }
  pending_.erase(begin, end);
}

void ChainChecker::AddRecord(const RecordView& r) {
  ++summary_.records;
  if (!r.has_body) ++summary_.pruned;
  if (summary_.records == 1) summary_.first_seq = r.seq;
  if (!TakeSeq(r.seq, r.skeleton.received_at_ns)) {
    sink_->CheckContent(summary_.tenant, r, nullptr);
    return;
  }
  SettleClaimsBefore(r.seq);
  sink_->CheckContent(summary_.tenant, r, prev_known_ ? &prev_ : nullptr);
  SettleClaimsAt(r.seq, &r.skeleton.entry_hash);
  if (head_.state == HeadRow::State::kPresent && head_.head.seq == r.seq &&
      (head_.head.entry_hash != r.skeleton.entry_hash ||
       head_.head.received_at_ns != r.skeleton.received_at_ns)) {
    Report(Kind::kHeadMismatch, r.seq,
           absl::StrCat("the heads row names seq ", r.seq, " with entry_hash ",
                        chain::ToHex(head_.head.entry_hash),
                        " received at ", head_.head.received_at_ns,
                        "; the record has ", chain::ToHex(r.skeleton.entry_hash),
                        " received at ", r.skeleton.received_at_ns));
  }
  prev_ = r.skeleton.entry_hash;
  prev_known_ = true;
  expect_ = r.seq + 1;
  summary_.head_seq = r.seq;
  summary_.head_hash = r.skeleton.entry_hash;
  summary_.head_received_at_ns = r.skeleton.received_at_ns;
}

void ChainChecker::AddUnreadableRecord(uint64_t seq, std::string detail) {
  ++summary_.records;
  if (summary_.records == 1) summary_.first_seq = seq;
  if (!TakeSeq(seq, last_time_)) {
    Report(Kind::kMalformed, seq, std::move(detail));
    return;
  }
  SettleClaimsBefore(seq);
  Report(Kind::kMalformed, seq, std::move(detail));
  SettleClaimsAt(seq, nullptr);
  prev_known_ = false;
  expect_ = seq + 1;
  summary_.head_seq = seq;
  summary_.head_hash = {};
  summary_.head_received_at_ns = 0;
}

void ChainChecker::AddOrphanBody(uint64_t seq) {
  Report(Kind::kOrphanBody, seq,
         absl::StrCat("a body is stored for seq ", seq,
                      " but no skeleton: the record's skeleton was deleted"));
}

void ChainChecker::Finish() {
  const uint64_t last = expect_ - 1;
  if (head_.state == HeadRow::State::kPresent) {
    if (head_.head.seq > last) {
      Report(Kind::kTruncated, last + 1,
             absl::StrCat("the heads row names seq ", head_.head.seq,
                          " as the head, but the chain ends at seq ", last));
    } else if (head_.head.seq < last) {
      Report(Kind::kHeadMismatch, head_.head.seq + 1,
             absl::StrCat("records ", head_.head.seq + 1, "..", last,
                          " lie beyond the head row (seq ", head_.head.seq,
                          "): appended behind the daemon's back"));
    }
  } else if (head_.state == HeadRow::State::kAbsent && summary_.records > 0) {
    Report(Kind::kHeadMismatch, summary_.first_seq,
           absl::StrCat("the tenant has records up to seq ", last,
                        " but no heads row"));
  }
  // Every claim left names a seq beyond the last record: one finding per
  // source, naming the furthest claim.
  for (auto source : {CheckpointClaim::Source::kStored,
                      CheckpointClaim::Source::kSupplied}) {
    const CheckpointClaim* furthest = nullptr;
    for (const auto& [seq, c] : pending_) {
      if (c.source == source) furthest = &c;
    }
    if (furthest == nullptr) continue;
    Report(Kind::kTruncated, last + 1,
           absl::StrCat("a ", chain::ToAbsl(SourceName(source)),
                        " checkpoint signed at ",
                        furthest->checkpoint.timestamp_ns,
                        " vouches for seq ", furthest->checkpoint.seq,
                        ", but the chain ends at seq ", last,
                        ": records were cut off or rolled back"));
  }
  pending_.clear();
}

}  // namespace indelible::check
