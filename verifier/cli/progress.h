// A progress line on stderr for long checks: shown only when stderr is a
// terminal and the run has lasted over a second, so pipes, logs and quick
// runs stay clean.
//
// Thread safety: not thread-safe; call from one thread.
#ifndef INDELIBLE_VERIFIER_CLI_PROGRESS_H_
#define INDELIBLE_VERIFIER_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>

namespace indelible::verify {

class ProgressBar {
 public:
  ProgressBar();
  ~ProgressBar();  // Finish()es
  // `expected` may be 0 (unknown).
  void Update(uint64_t done, uint64_t expected);
  // Erases the line if one was drawn.
  void Finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace indelible::verify

#endif  // INDELIBLE_VERIFIER_CLI_PROGRESS_H_
