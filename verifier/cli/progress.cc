#include "verifier/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace indelible::verify {
namespace {

constexpr auto kQuietFor = std::chrono::seconds(1);
constexpr int kWidth = 30;

}  // namespace

ProgressBar::ProgressBar()
    : enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done, uint64_t expected) {
  if (!enabled_) return;
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  if (elapsed < kQuietFor) return;
  const double secs = std::chrono::duration<double>(elapsed).count();
  const double rate = done / secs;
  if (expected > 0) {
    const double frac = std::min(1.0, static_cast<double>(done) / expected);
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %3.0f%% %llu/%llu records, %.0f records/s ",
                 bar.c_str(), frac * 100, static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(expected), rate);
  } else {
    std::fprintf(stderr, "\r%llu records, %.0f records/s ",
                 static_cast<unsigned long long>(done), rate);
  }
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace indelible::verify
