// CRC32C for RocksDB in every binary that links indelible_store.
//
// RocksDB checksums every write-ahead log record with CRC32C. Debian's
// RocksDB is built for any x86-64 CPU, so it computes CRC32C in software: a
// tenth of the committer thread's time under streaming ingest. crc32c.cc
// defines the three functions of RocksDB's util/crc32c.cc, which the link
// then takes instead of the library's (static librocksdb.a: that member is
// never pulled in; a shared librocksdb calls them through its PLT, which the
// executable's definitions interpose). They compute the same functions (the
// Castagnoli polynomial, as RFC 3720 and RocksDB define it) with the SSE4.2
// crc32 instruction when the CPU has it, and with a table otherwise: files
// written by either read back with the other (tests/verifier/crc32c_test.cc
// reads the daemon's WAL with Debian's ldb).
#ifndef INDELIBLE_VERIFIER_STORE_CRC32C_H_
#define INDELIBLE_VERIFIER_STORE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rocksdb::crc32c {
// RocksDB's own declarations (util/crc32c.h).
// The CRC32C of the bytes that produced `init_crc`, followed by data[0, n).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);
// The CRC32C of A || B from crc1 = CRC32C(A), crc2 = CRC32C(B), |B| = crc2len.
uint32_t Crc32cCombine(uint32_t crc1, uint32_t crc2, size_t crc2len);
// A line for RocksDB's LOG.
std::string IsFastCrc32Supported();
}  // namespace rocksdb::crc32c

namespace indelible::store {

// What computes RocksDB's CRC32C in this process: "sse4.2", "table" (this
// CPU lacks SSE4.2) or "librocksdb" (a shared library that binds its calls
// to its own copy, e.g. one linked with -Bsymbolic: nothing is wrong then,
// only slower). Logged by the daemon at start.
std::string_view Crc32cImplementation();

namespace internal {
// The two ways Extend computes, for tests: each takes and returns the
// register (not inverted). REQUIRES for the second: the CPU has SSE4.2.
uint32_t Crc32cByTable(uint32_t crc, const char* data, size_t n);
uint32_t Crc32cBySse42(uint32_t crc, const char* data, size_t n);
}  // namespace internal

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_CRC32C_H_
