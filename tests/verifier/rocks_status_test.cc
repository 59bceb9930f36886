// store::FromRocksDb: every RocksDB code, and the subcodes that matter (a
// full disk, a held LOCK).
#include "verifier/store/rocks_status.h"

#include <string>

#include "gtest/gtest.h"
#include "rocksdb/status.h"

namespace indelible::store {
namespace {

using rocksdb::Status;

absl::StatusCode CodeOf(const Status& s) { return FromRocksDb(s, "ctx").code(); }

TEST(StoreRocksStatus, OkIsOk) { EXPECT_TRUE(FromRocksDb(Status::OK(), "ctx").ok()); }

TEST(StoreRocksStatus, EveryCode) {
  EXPECT_EQ(CodeOf(Status::NotFound("x")), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(Status::Corruption("x")), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CodeOf(Status::NotSupported("x")), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeOf(Status::InvalidArgument("x")), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(Status::IOError("x")), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(Status::MergeInProgress("x")), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(Status::Incomplete("x")), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(Status::ShutdownInProgress("x")), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(Status::TimedOut("x")), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(Status::Aborted("x")), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(Status::Busy("x")), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(Status::Expired("x")), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(Status::TryAgain("x")), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(Status::CompactionTooLarge("x")), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeOf(Status::ColumnFamilyDropped("x")), absl::StatusCode::kInternal);
}

TEST(StoreRocksStatus, NoSpaceIsDiskFull) {
  const absl::Status s = FromRocksDb(Status::NoSpace("write failed"), "write batch");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message().rfind("disk full: write batch: ", 0), 0u) << s;
}

TEST(StoreRocksStatus, MessageNamesContextAndRocksDbText) {
  const absl::Status s = FromRocksDb(Status::Corruption("bad block"), "read body");
  EXPECT_EQ(s.message(), "read body: Corruption: bad block");
}

TEST(StoreRocksStatus, HeldLockAsksAboutAnotherDaemon) {
  // As RocksDB words them (another process; this process).
  for (const Status& st :
       {Status::IOError("While lock file: /d/LOCK: Resource temporarily unavailable"),
        Status::IOError("lock hold by current process, acquire time 1: /d/LOCK")}) {
    const absl::Status s = FromRocksDb(st, "open /d");
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find("is another indelibled using this data directory?"),
              std::string::npos)
        << s;
  }
}

TEST(StoreRocksStatus, PathContainingLockIsNotALockError) {
  const absl::Status s = FromRocksDb(
      Status::IOError("While open a file for random read: /srv/blocks/000012.sst: EIO"),
      "read body");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
}

}  // namespace
}  // namespace indelible::store
