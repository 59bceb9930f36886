// The report file as the exporter writes it: append-only, its SHA-256 taken
// on the way, the writing and hashing done on a thread of its own so that
// the thread reading the chain only copies bytes.
//
// Writing a report through the page cache cost more than all of the rest of
// an export on the reference machine (docs/PERFORMANCE.md, "Where the time
// goes"); the file is written with O_DIRECT where the file system allows it
// (whole aligned buffers; the tail after clearing the flag), else buffered.
// Nobody in this process reads the report back.
//
// Not thread-safe: one thread calls Append and Finish.
#ifndef INDELIBLE_VERIFIER_REPORT_REPORT_FILE_H_
#define INDELIBLE_VERIFIER_REPORT_REPORT_FILE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/chain/hash.h"

namespace indelible::report {

class ReportFile {
 public:
  // Creates (or truncates) `path`. Unavailable if it cannot.
  static absl::StatusOr<std::unique_ptr<ReportFile>> Create(const std::string& path);
  // Stops the writer thread; without Finish() the file is left incomplete.
  ~ReportFile();
  ReportFile(const ReportFile&) = delete;
  ReportFile& operator=(const ReportFile&) = delete;

  // Copies `bytes` to the file's end. Blocks while every buffer is queued.
  void Append(std::string_view bytes);
  // Writes what is left and closes the file; the first write error, if any.
  absl::Status Finish();

  uint64_t bytes() const { return bytes_; }
  // SHA-256 of everything appended. REQUIRES: Finish() returned OK.
  const chain::Digest& sha256() const { return sha256_; }

 private:
  struct Buffer;
  ReportFile(int fd, bool direct);
  void Submit(bool last);
  void Run();

  int fd_;
  bool direct_;
  uint64_t bytes_ = 0;
  chain::Digest sha256_{};
  std::unique_ptr<Buffer> current_;
  bool finished_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Buffer>> full_;  // guarded by mu_, in file order
  std::vector<std::unique_ptr<Buffer>> free_;  // guarded by mu_
  int buffers_ = 0;                            // guarded by mu_
  bool done_ = false;                          // guarded by mu_: the last buffer was written
  absl::Status status_;                        // guarded by mu_
  std::thread writer_;
};

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_REPORT_FILE_H_
