#include "verifier/report/report_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace indelible::report {
namespace {

// O_DIRECT wants buffer addresses, lengths and file offsets aligned to the
// logical block size; 4 KiB covers the usual ones. Every buffer but the
// last is written whole, so offsets stay aligned.
constexpr size_t kAlign = 4096;
constexpr size_t kBufferBytes = 4 << 20;
constexpr int kMaxBuffers = 4;  // 16 MiB at most, whatever the report's size

void ClearDirect(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT); }

}  // namespace

struct ReportFile::Buffer {
  Buffer() : data(static_cast<char*>(std::aligned_alloc(kAlign, kBufferBytes))) {
    if (data == nullptr) std::abort();  // out of memory: end loudly
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  char* const data;
  size_t size = 0;
  bool last = false;
};

absl::StatusOr<std::unique_ptr<ReportFile>> ReportFile::Create(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  bool direct = true;
  int fd = open(path.c_str(), kFlags | O_DIRECT, 0666);
  if (fd < 0 && errno == EINVAL) {  // the file system has no O_DIRECT
    direct = false;
    fd = open(path.c_str(), kFlags, 0666);
  }
  if (fd < 0) return absl::UnavailableError("cannot write " + path + ": " + std::strerror(errno));
  return std::unique_ptr<ReportFile>(new ReportFile(fd, direct));
}

ReportFile::ReportFile(int fd, bool direct)
    : fd_(fd), direct_(direct), writer_([this] { Run(); }) {}

ReportFile::~ReportFile() {
  if (!finished_) {
    Submit(/*last=*/true);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }
  writer_.join();
  if (fd_ >= 0) close(fd_);
}

void ReportFile::Append(std::string_view bytes) {
  bytes_ += bytes.size();
  while (!bytes.empty()) {
    if (current_ == nullptr) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !free_.empty() || buffers_ < kMaxBuffers; });
      if (free_.empty()) {
        ++buffers_;
        current_ = std::make_unique<Buffer>();
      } else {
        current_ = std::move(free_.back());
        free_.pop_back();
      }
      current_->size = 0;
    }
    const size_t n = std::min(bytes.size(), kBufferBytes - current_->size);
    std::memcpy(current_->data + current_->size, bytes.data(), n);
    current_->size += n;
    bytes.remove_prefix(n);
    if (current_->size == kBufferBytes) Submit(/*last=*/false);
  }
}

void ReportFile::Submit(bool last) {
  if (current_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    ++buffers_;
    current_ = std::make_unique<Buffer>();
  }
  current_->last = last;
  std::lock_guard<std::mutex> lock(mu_);
  full_.push_back(std::move(current_));
  cv_.notify_all();
}

absl::Status ReportFile::Finish() {
  Submit(/*last=*/true);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return done_; });
  finished_ = true;
  if (close(fd_) != 0 && status_.ok()) {
    status_ = absl::UnavailableError(std::string("close: ") + std::strerror(errno));
  }
  fd_ = -1;
  return status_;
}

// The writer thread: hashes and writes full buffers in order.
void ReportFile::Run() {
  chain::Sha256Stream sha256;
  bool direct = direct_;
  absl::Status status;
  for (;;) {
    std::unique_ptr<Buffer> b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !full_.empty(); });
      b = std::move(full_.front());
      full_.pop_front();
    }
    sha256.Update(std::string_view(b->data, b->size));
    if (direct && b->size % kAlign != 0) {  // the tail
      ClearDirect(fd_);
      direct = false;
    }
    const char* p = b->data;
    size_t left = b->size;
    while (left > 0 && status.ok()) {
      const ssize_t n = write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL && direct) {  // O_DIRECT refused after all
        ClearDirect(fd_);
        direct = false;
        continue;
      }
      if (n < 0) {
        status = absl::UnavailableError(std::string("write: ") + std::strerror(errno));
        break;
      }
      if (static_cast<size_t>(n) < left && direct) {  // offsets no longer aligned
        ClearDirect(fd_);
        direct = false;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    const bool last = b->last;
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(b));
    if (last) {
      sha256_ = sha256.Final();
      status_ = status;
      done_ = true;
    }
    cv_.notify_all();
    if (last) return;
  }
}

}  // namespace indelible::report
