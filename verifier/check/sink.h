// CheckSink: where a ChainChecker sends its work. The sequential checks
// (seq order, received_at, heads, checkpoints) run in the ChainChecker
// itself; the per-record content checks (record_checks.h) go to the sink,
// which may run them at once (InlineSink) or later on a thread pool
// (ParallelSink, parallel_sink.h). Either way a sink delivers findings to its
// Reporter in the order the ChainChecker produced the work.
#ifndef INDELIBLE_VERIFIER_CHECK_SINK_H_
#define INDELIBLE_VERIFIER_CHECK_SINK_H_

#include <string_view>
#include <vector>

#include "verifier/chain/hash.h"
#include "verifier/check/finding.h"
#include "verifier/check/record.h"
#include "verifier/check/record_checks.h"

namespace indelible::check {

class CheckSink {
 public:
  virtual ~CheckSink() = default;
  // A finding of the sequential checks.
  virtual void Report(Finding finding) = 0;
  // Runs CheckRecordContent(tenant, r, prev) now or later. The sink copies
  // what it keeps: `r`'s bytes and *prev need only live for the call.
  virtual void CheckContent(std::string_view tenant, const RecordView& r,
                            const chain::Digest* prev) = 0;
};

// Runs the content checks on the calling thread.
class InlineSink final : public CheckSink {
 public:
  explicit InlineSink(Reporter* reporter) : reporter_(reporter) {}
  void Report(Finding finding) override { reporter_->Report(finding); }
  void CheckContent(std::string_view tenant, const RecordView& r,
                    const chain::Digest* prev) override {
    scratch_.clear();
    CheckRecordContent(tenant, r, prev, &scratch_);
    for (const Finding& f : scratch_) reporter_->Report(f);
  }

 private:
  Reporter* reporter_;
  std::vector<Finding> scratch_;
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_SINK_H_
