// RocksDB's CRC32C as this project computes it (verifier/store/crc32c.h):
// the published check values, and the same results by the instruction, by
// the table, in pieces and combined. tests/e2e/fault_e2e_test.cc has
// Debian's ldb read a write-ahead log the daemon wrote with it.
#include "verifier/store/crc32c.h"

#include <cstring>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace indelible::store {
namespace {

uint32_t Crc(const std::string& s) { return rocksdb::crc32c::Extend(0, s.data(), s.size()); }

TEST(Crc32cTest, PublishedCheckValues) {
  // RFC 3720, appendix B.4, and the CRC catalogue's check value.
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Crc(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(Crc(ascending), 0x46dd794eu);
  EXPECT_EQ(Crc(descending), 0x113fdb5cu);
  EXPECT_EQ(Crc("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc(""), 0u);
}

TEST(Crc32cTest, PiecesAndCombinationsGiveTheWholeCrc) {
  std::mt19937 rng(7);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t len = 0; len <= data.size(); len += 7) {
    // Every start alignment, and every split of the range.
    for (size_t start = 0; start < 9 && start + len <= data.size(); ++start) {
      const std::string whole = data.substr(start, len);
      const uint32_t want = Crc(whole);
      for (size_t cut = 0; cut <= len; cut += 5) {
        const std::string a = whole.substr(0, cut);
        const std::string b = whole.substr(cut);
        ASSERT_EQ(rocksdb::crc32c::Extend(Crc(a), b.data(), b.size()), want)
            << "len " << len << " start " << start << " cut " << cut;
        ASSERT_EQ(rocksdb::crc32c::Crc32cCombine(Crc(a), Crc(b), b.size()), want)
            << "len " << len << " start " << start << " cut " << cut;
      }
    }
  }
}

TEST(Crc32cTest, InstructionAndTableAgree) {
  if (!__builtin_cpu_supports("sse4.2")) {
    EXPECT_EQ(Crc32cImplementation(), "table");
    return;  // the other tests checked the table
  }
  EXPECT_EQ(Crc32cImplementation(), "sse4.2");
  std::mt19937 rng(11);
  std::string data(4096 + 13, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096}) {
      const uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(internal::Crc32cBySse42(seed, data.data() + start, len),
                internal::Crc32cByTable(seed, data.data() + start, len))
          << "start " << start << " len " << len;
    }
  }
}

}  // namespace
}  // namespace indelible::store
