// Backup naming and retention (pure), and the Backuper against a real store
// with a manual clock: no sleeping.
#include "daemon/ops/backup.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "daemon/ops/backup_retention.h"
#include "daemon/write/sequencer.h"
#include "verifier/chain/key_file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/hash.h"
#include "verifier/store/backup_layout.h"

namespace indelible {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSecond = 1000000000ull;
constexpr uint64_t kDay = 86400 * kSecond;
// 2026-12-01T19:05:01Z
constexpr uint64_t kStart = 1796151901ull * kSecond;

TEST(BackupNameTest, IsUtcSecondsWithOptionalLabelAndParsesBack) {
  EXPECT_EQ(BackupName(kStart + 123456789, ""), "20261201T190501Z");
  EXPECT_EQ(BackupName(kStart, "pre-upgrade"), "20261201T190501Z-pre-upgrade");
  EXPECT_EQ(ParseBackupTime("20261201T190501Z"), kStart);
  EXPECT_EQ(ParseBackupTime("20261201T190501Z-pre-upgrade-2"), kStart);
  EXPECT_EQ(ParseBackupTime(".tmp-20261201T190501Z"), std::nullopt);
  EXPECT_EQ(ParseBackupTime("20261201T190501Zx"), std::nullopt);
  EXPECT_EQ(ParseBackupTime("20261301T190501Z"), std::nullopt);
  EXPECT_EQ(ParseBackupTime("lost+found"), std::nullopt);
  EXPECT_TRUE(IsValidBackupLabel(""));
  EXPECT_TRUE(IsValidBackupLabel("v1.2_pre-upgrade"));
  EXPECT_FALSE(IsValidBackupLabel("../x"));
  EXPECT_FALSE(IsValidBackupLabel("Upper"));
  EXPECT_FALSE(IsValidBackupLabel(std::string(65, 'a')));
}

std::vector<BackupEntry> Daily(int n, uint64_t newest) {
  std::vector<BackupEntry> out;
  for (int i = 0; i < n; ++i) {
    const uint64_t t = newest - i * kDay;
    out.push_back({BackupName(t, ""), t});
  }
  return out;
}

TEST(BackupRetentionTest, KeepDaysRemovesOnlyOlderThanTheWindow) {
  const auto backups = Daily(20, kStart);  // 0..19 days old
  auto pruned = SelectBackupsToPrune(backups, kStart, {.keep_days = 14});
  ASSERT_EQ(pruned.size(), 5u);  // 15..19 days old; exactly 14 days is kept
  for (int i = 15; i < 20; ++i) {
    EXPECT_NE(std::find(pruned.begin(), pruned.end(), backups[i].name), pruned.end());
  }
}

TEST(BackupRetentionTest, KeepCountKeepsTheNewest) {
  const auto backups = Daily(5, kStart);
  auto pruned = SelectBackupsToPrune(backups, kStart, {.keep_days = 0, .keep_count = 2});
  EXPECT_EQ(pruned, (std::vector<std::string>{backups[2].name, backups[3].name,
                                              backups[4].name}));
  EXPECT_TRUE(SelectBackupsToPrune(backups, kStart, {.keep_days = 0}).empty());
}

TEST(BackupRetentionTest, NeverTheNewestNorTheOneJustTaken) {
  // Everything is a year old: the newest stays anyway.
  const auto backups = Daily(3, kStart);
  auto pruned = SelectBackupsToPrune(backups, kStart + 365 * kDay, {.keep_days = 1});
  EXPECT_EQ(pruned, (std::vector<std::string>{backups[1].name, backups[2].name}));
  // keep_count 1 with the clock moved back: the one just taken is kept too.
  pruned = SelectBackupsToPrune(backups, kStart, {.keep_days = 0, .keep_count = 1},
                                backups[2].name);
  EXPECT_EQ(pruned, (std::vector<std::string>{backups[1].name}));
}

class BackuperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pid keeps concurrent runs (other build trees) apart.
    root_ = ::testing::TempDir() + "/backup-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    data_ = root_ + "/data";
    storage_ = *Storage::Open(data_, StorageOptions());
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, Sequencer::Options());
    ASSERT_TRUE(seq_->Start().ok());
    // A key left in the data directory by an earlier version: what a
    // backup must never carry along.
    bool created = false;
    auto key = chain::LoadSigningKey(data_ + "/signing-key.pem", true, &created);
    ASSERT_TRUE(key.ok());
    signer_ = std::make_unique<KeyLogSigner>(chain::NoteSigner("test", *std::move(key)));
    cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_, signer_.get(),
                                         Checkpointer::Options());
    ASSERT_TRUE(cp_->Init().ok());
  }
  void TearDown() override {
    backuper_.reset();
    cp_.reset();
    seq_.reset();
    storage_.reset();
    fs::remove_all(root_);
  }
  void MakeBackuper(BackupRetention retention) {
    backuper_ = std::make_unique<Backuper>(
        Backuper::Deps{.storage = storage_.get(),
                       .checkpointer = cp_.get(),
                       .clock = &clock_,
                       .signer = signer_.get(),
                       .data_dir = data_},
        BackupOptions{.dir = root_ + "/backups", .retention = retention});
  }
  void Append(const std::string& tenant, const std::string& id) {
    PreparedEvent e;
    e.tenant = tenant;
    e.event_id = id;
    chain::Salt salt{};
    e.body = store::EncodeBody(0, salt, id);
    e.body_digest = chain::BodyDigest(salt, id);
    std::promise<void> done;
    seq_->Submit({e}, [&](absl::StatusOr<std::vector<Receipt>> r) {
      EXPECT_TRUE(r.ok());
      done.set_value();
    });
    done.get_future().get();
  }
  std::vector<std::string> OnDisk() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(root_ + "/backups")) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string root_, data_;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
  std::unique_ptr<KeyLogSigner> signer_;
  std::unique_ptr<Checkpointer> cp_;
  std::unique_ptr<Backuper> backuper_;
};

TEST_F(BackuperTest, WritesCheckpointKeysAndManifestUnderItsTimeName) {
  MakeBackuper({});
  Append("acme", "1");
  Append("acme", "2");
  Append("beta", "1");
  auto r = backuper_->Create("");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name, "20261201T190501Z");
  EXPECT_EQ(r->path, root_ + "/backups/20261201T190501Z");
  ASSERT_EQ(r->heads.size(), 2u);
  EXPECT_EQ(r->heads[0].tenant, "acme");
  EXPECT_EQ(r->heads[0].head.seq, 2u);
  EXPECT_EQ(r->heads[0].checkpoint_seq, 2u);  // signed just before
  EXPECT_EQ(r->heads[1].tenant, "beta");
  EXPECT_GT(r->files, 0u);
  const fs::path b = r->path;
  EXPECT_TRUE(fs::exists(b / "CURRENT"));
  EXPECT_TRUE(fs::exists(b / store::kBackupPublicKeyFile));
  // Reading the copy back added nothing to it, and left no scratch files.
  EXPECT_FALSE(fs::exists(b / "LOG"));
  EXPECT_EQ(OnDisk(), std::vector<std::string>{"20261201T190501Z"});
  std::ifstream in(b / store::kBackupManifestFile);
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = nlohmann::json::parse(ss.str());
  EXPECT_EQ(m["format"], store::kBackupManifestFormat);
  EXPECT_EQ(m["created_at"], "2026-12-01T19:05:01Z");
  EXPECT_EQ(m["tenants"][0]["tenant"], "acme");
  EXPECT_EQ(m["tenants"][0]["seq"], 2);
  EXPECT_EQ(m["tenants"][0]["head_hash"], chain::ToHex(r->heads[0].head.entry_hash));
  std::ifstream vk(b / store::kBackupVerifierKeyFile);
  std::string line;
  std::getline(vk, line);
  EXPECT_EQ(line, m["verifier_key"]);

  // Same second, same label: a distinct name.
  auto again = backuper_->Create("");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name, "20261201T190501Z-2");
}

TEST_F(BackuperTest, NeverCopiesAPrivateKeyEvenOneInTheDataDirectory) {
  MakeBackuper({});
  Append("acme", "1");
  auto r = backuper_->Create("");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(fs::exists(fs::path(r->path) / store::kSigningKeyFile));
  for (const auto& e : fs::recursive_directory_iterator(r->path)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find("PRIVATE KEY"), std::string::npos) << e.path();
  }
  std::ifstream in(fs::path(r->path) / store::kBackupManifestFile);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(nlohmann::json::parse(ss.str()).contains("signing_key_included"));
}

TEST_F(BackuperTest, RetentionFollowsTheClockAndLeavesForeignEntries) {
  MakeBackuper({.keep_days = 14, .keep_count = 0});
  ASSERT_TRUE(backuper_->Create("").ok());
  fs::create_directories(root_ + "/backups/notes");
  fs::create_directories(root_ + "/backups/20200101T000000Z");  // no manifest
  fs::create_directories(root_ + "/backups/.tmp-20261202T000000Z");  // crashed
  clock_.Advance(10 * kDay);
  ASSERT_TRUE(backuper_->Create("").ok());
  clock_.Advance(5 * kDay);
  auto r = backuper_->Create("");
  ASSERT_TRUE(r.ok()) << r.status();
  // The first is now 15 days old.
  EXPECT_EQ(r->pruned, std::vector<std::string>{"20261201T190501Z"});
  EXPECT_EQ(OnDisk(), (std::vector<std::string>{"20200101T000000Z", "20261211T190501Z",
                                                "20261216T190501Z", "notes"}));
  // A year without backups: the next prunes all but itself.
  clock_.Advance(365 * kDay);
  r = backuper_->Create("yearly");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pruned.size(), 2u);
  // Called alone, retention never removes the newest.
  clock_.Advance(365 * kDay);
  auto pruned = backuper_->Prune("");
  ASSERT_TRUE(pruned.ok());
  EXPECT_TRUE(pruned->empty());
  EXPECT_EQ(OnDisk(), (std::vector<std::string>{"20200101T000000Z", "20271216T190501Z-yearly",
                                                "notes"}));
}

TEST_F(BackuperTest, OffWithoutADirectory) {
  backuper_ = std::make_unique<Backuper>(
      Backuper::Deps{.storage = storage_.get(), .clock = &clock_, .signer = signer_.get(),
                     .data_dir = data_},
      BackupOptions{});
  EXPECT_FALSE(backuper_->enabled());
  EXPECT_EQ(backuper_->Create("").status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace indelible
