// A stored record as the checker sees it: the skeleton, and the body when it
// has not been pruned. Views only: the bytes belong to the caller and must
// outlive the call they are passed to.
#ifndef INDELIBLE_VERIFIER_CHECK_RECORD_H_
#define INDELIBLE_VERIFIER_CHECK_RECORD_H_

#include <cstdint>
#include <string_view>

#include "verifier/store/layout.h"

namespace indelible::check {

struct RecordView {
  uint64_t seq = 0;
  store::Skeleton skeleton;
  // False for a pruned record (retention deleted its body): then body is
  // empty and only the linkage can be checked.
  bool has_body = false;
  // The stored body value, u64(received_at_ns) || salt (16) || CE,
  // undivided (docs/FORMAT.md section 11, `bodies`): a body shorter than its
  // 8-byte time and 16-byte salt is reported as malformed by the content
  // check.
  std::string_view body;
};

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_RECORD_H_
