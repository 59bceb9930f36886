#include "verifier/report/report_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "verifier/chain/hash.h"

namespace indelible::report {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The file holds exactly what was appended, in order, and its SHA-256 is
// the digest reported: across buffer boundaries (4 MiB), with appends of
// every size, and with a tail that is not a whole block.
TEST(ReportFile, WritesAndHashesExactlyWhatIsAppended) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("report-file-test-" + std::to_string(getpid())))
                               .string();
  for (const size_t total : {size_t{0}, size_t{1}, size_t{4096}, size_t{(4 << 20) - 1},
                             size_t{4 << 20}, size_t{(13 << 20) + 12345}}) {
    SCOPED_TRACE(total);
    std::string want;
    want.reserve(total);
    uint64_t x = 88172645463325252ull;
    while (want.size() < total) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      want.push_back(static_cast<char>(x));
    }
    auto f = ReportFile::Create(path);
    ASSERT_TRUE(f.ok()) << f.status();
    size_t at = 0, step = 1;
    while (at < want.size()) {  // 1, 2, 4, ... 2 MiB, then again
      const size_t n = std::min(step, want.size() - at);
      (*f)->Append(std::string_view(want).substr(at, n));
      at += n;
      step = step >= (2u << 20) ? 1 : step * 2;
    }
    ASSERT_TRUE((*f)->Finish().ok());
    EXPECT_EQ((*f)->bytes(), total);
    EXPECT_EQ((*f)->sha256(), chain::Sha256(want));
    EXPECT_TRUE(Slurp(path) == want);
  }
  std::filesystem::remove(path);
}

TEST(ReportFile, UnwritablePathIsAnError) {
  auto f = ReportFile::Create("/nonexistent-dir/report.csv");
  EXPECT_FALSE(f.ok());
}

// Dropped without Finish (an export that found damage): no hang, no crash.
TEST(ReportFile, DroppedWithoutFinish) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("report-file-drop-" + std::to_string(getpid())))
                               .string();
  {
    auto f = ReportFile::Create(path);
    ASSERT_TRUE(f.ok()) << f.status();
    (*f)->Append(std::string(5 << 20, 'x'));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace indelible::report
