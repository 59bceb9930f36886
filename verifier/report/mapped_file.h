// A read-only memory map of a whole file: verify-report hashes and reads
// the rows of reports of any size without copying them into memory (the
// pages are file-backed and reclaimable).
#ifndef INDELIBLE_VERIFIER_REPORT_MAPPED_FILE_H_
#define INDELIBLE_VERIFIER_REPORT_MAPPED_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace indelible::report {

class MappedFile {
 public:
  // NotFound if the file does not exist; Unavailable on other I/O errors.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  void* addr_;
  size_t size_;
};

}  // namespace indelible::report

#endif  // INDELIBLE_VERIFIER_REPORT_MAPPED_FILE_H_
