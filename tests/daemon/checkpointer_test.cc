#include "daemon/trust/checkpointer.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

#include "absl/cleanup/cleanup.h"
#include "verifier/chain/key_file.h"
#include "gtest/gtest.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

// Counts the syncs of RocksDB's write-ahead log.
class SyncCountingFs : public rocksdb::FileSystemWrapper {
 public:
  SyncCountingFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "SyncCountingFs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = FileSystemWrapper::NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) {
      *r = std::make_unique<Wal>(std::move(*r), &syncs_);
    }
    return s;
  }
  int syncs() const { return syncs_.load(); }

 private:
  class Wal : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Wal(std::unique_ptr<rocksdb::FSWritableFile> f, std::atomic<int>* syncs)
        : FSWritableFileOwnerWrapper(std::move(f)), syncs_(syncs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      syncs_->fetch_add(1);
      return FSWritableFileOwnerWrapper::Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      syncs_->fetch_add(1);
      return FSWritableFileOwnerWrapper::Fsync(o, d);
    }

   private:
    std::atomic<int>* const syncs_;
  };
  std::atomic<int> syncs_{0};
};

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/cp-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    storage_ = *Storage::Open(dir_, StorageOptions());
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, Sequencer::Options());
    ASSERT_TRUE(seq_->Start().ok());
    signer_ = std::make_unique<KeyLogSigner>(
        chain::NoteSigner("test", *chain::Ed25519PrivateKey::Generate()));
    cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_,
                                         signer_.get(), Checkpointer::Options());
    ASSERT_TRUE(cp_->Init().ok());
  }
  void TearDown() override {
    cp_.reset();
    seq_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
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
  chain::Checkpoint Latest(const std::string& tenant, uint64_t min_seq = 0) {
    auto note = storage_->GetCheckpoint(tenant, min_seq);
    EXPECT_TRUE(note.ok()) << note.status();
    auto cp = chain::VerifyCheckpoint(*note, {signer_->verifier_key()});
    EXPECT_TRUE(cp.ok()) << cp.status();
    return *cp;
  }

  std::string dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
  std::unique_ptr<KeyLogSigner> signer_;
  std::unique_ptr<Checkpointer> cp_;
};

// Beside each v1 checkpoint a v2 one: origin <log_name>/<tenant>, the root
// of the tree of the records, the chain head; the history is kept, and a
// restarted checkpointer continues it.
TEST_F(CheckpointerTest, SignsV2CheckpointsOfTheTree) {
  Checkpointer::Options o;
  o.log_name = "audit.example.com";
  cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_, signer_.get(), o);
  ASSERT_TRUE(cp_->Init().ok());
  std::vector<chain::Digest> leaves;
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < round; ++i) Append("acme", std::to_string(round) + "-" + std::to_string(i));
    clock_.Advance(1000);
    ASSERT_TRUE(cp_->RunOnce().ok());
  }
  auto records = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(records.ok());
  for (const StoredRecord& r : *records) {
    leaves.push_back(chain::LeafHash(r.skeleton.entry_hash, ""));
  }
  for (uint64_t size : {1u, 3u, 6u}) {
    auto stored = storage_->GetCheckpointV2("acme", size);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->first, size);
    auto cp = chain::VerifyCheckpointV2(stored->second, {signer_->verifier_key()});
    ASSERT_TRUE(cp.ok()) << cp.status();
    EXPECT_EQ(cp->origin(), "audit.example.com/acme");
    EXPECT_EQ(cp->size, size);
    EXPECT_EQ(cp->root, chain::MerkleRoot(leaves.data(), size));
    EXPECT_EQ(cp->chain_head, (*records)[size - 1].skeleton.entry_hash);
  }
  // Nothing new: nothing signed; after a restart only new heads are.
  cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_, signer_.get(), o);
  ASSERT_TRUE(cp_->Init().ok());
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(storage_->GetCheckpointV2("acme", 7).status().code(), absl::StatusCode::kNotFound);
  Append("acme", "7");
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(storage_->GetCheckpointV2("acme", 0)->first, 7u);
}

TEST_F(CheckpointerTest, SignsHeadsThatMovedAndKeepsHistory) {
  Append("acme", "1");
  Append("acme", "2");
  clock_.Advance(1000);
  ASSERT_TRUE(cp_->RunOnce().ok());
  chain::Checkpoint c = Latest("acme");
  EXPECT_EQ(c.seq, 2u);
  EXPECT_EQ(c.head, seq_->GetHead("acme").entry_hash);
  EXPECT_EQ(c.timestamp_ns, kStart + 1000);

  // Nothing new: no new checkpoint.
  clock_.Advance(1000);
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(Latest("acme").timestamp_ns, kStart + 1000);

  Append("acme", "3");
  Append("beta", "1");
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(Latest("acme").seq, 3u);
  EXPECT_EQ(Latest("beta").seq, 1u);
  // The older checkpoint is still there.
  EXPECT_EQ(Latest("acme", 1).seq, 2u);

  // The clock steps back: checkpoint times still never decrease.
  clock_.Set(kStart - 5000);
  Append("acme", "4");
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(Latest("acme").seq, 4u);
  EXPECT_GE(Latest("acme").timestamp_ns, Latest("acme", 3).timestamp_ns);

  // A new checkpointer (a restart) picks up where the history ends.
  Checkpointer again(storage_.get(), seq_.get(), &clock_, signer_.get(), {});
  ASSERT_TRUE(again.Init().ok());
  ASSERT_TRUE(again.RunOnce().ok());
  EXPECT_EQ(Latest("acme").seq, 4u);
  EXPECT_FALSE(storage_->GetCheckpoint("acme", 5).ok());
  EXPECT_TRUE(absl::IsNotFound(storage_->GetCheckpoint("nobody", 0).status()));
}

// A round stores the checkpoints of every tenant it signs for in one synced
// write per Options::tenants_per_write tenants, not two per tenant: with
// many tenants the disk's syncs stay the appends'.
TEST_F(CheckpointerTest, ARoundOfManyTenantsIsOneSyncedWrite) {
  auto fs = std::make_shared<SyncCountingFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  // The store closes before `env` goes, however the test ends.
  absl::Cleanup close = [this] {
    cp_.reset();
    seq_.reset();
    storage_.reset();
  };
  cp_.reset();
  seq_.reset();
  storage_.reset();
  std::filesystem::remove_all(dir_);
  StorageOptions options;
  options.env = env.get();
  storage_ = *Storage::Open(dir_, options);
  seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, Sequencer::Options());
  ASSERT_TRUE(seq_->Start().ok());
  constexpr int kTenants = 40;
  // Round 1 with the default (one write), round 2 with 16 tenants a write,
  // round 3 with checkpoints held for no time (a write per tenant).
  const int syncs[] = {1, 3, kTenants};
  const uint64_t sizes[] = {1, 3, 5};
  for (int round = 1; round <= 3; ++round) {
    Checkpointer::Options o;
    if (round == 2) o.tenants_per_write = 16;
    if (round == 3) o.interval = std::chrono::milliseconds(0);
    cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_, signer_.get(), o);
    ASSERT_TRUE(cp_->Init().ok());
    for (int t = 0; t < kTenants; ++t) {
      for (int i = 0; i < std::min(round, 2); ++i) {
        Append("t" + std::to_string(t), std::to_string(round) + "-" + std::to_string(i));
      }
    }
    clock_.Advance(1000);
    const int before = fs->syncs();
    ASSERT_TRUE(cp_->RunOnce().ok());
    EXPECT_EQ(fs->syncs() - before, syncs[round - 1]) << "round " << round;
    const uint64_t size = sizes[round - 1];
    for (int t = 0; t < kTenants; ++t) {
      const std::string tenant = "t" + std::to_string(t);
      EXPECT_EQ(Latest(tenant).seq, size) << tenant;
      auto v2 = storage_->GetCheckpointV2(tenant, 0);
      ASSERT_TRUE(v2.ok()) << v2.status();
      EXPECT_EQ(v2->first, size);
      auto cp = chain::VerifyCheckpointV2(v2->second, {signer_->verifier_key()});
      ASSERT_TRUE(cp.ok()) << cp.status();
      EXPECT_EQ(cp->chain_head, seq_->GetHead(tenant).entry_hash);
    }
  }
  // Nothing moved: no write at all.
  const int before = fs->syncs();
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(fs->syncs(), before);
}

TEST(SigningKey, CreatesWithMode0600AndReloads) {
  std::string dir = ::testing::TempDir() + "/key-create";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/k.pem";
  bool created = false;
  auto k1 = chain::LoadSigningKey(path, true, &created);
  ASSERT_TRUE(k1.ok()) << k1.status();
  EXPECT_TRUE(created);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k2 = chain::LoadSigningKey(path, true, &created);
  ASSERT_TRUE(k2.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(k1->PublicKey(), k2->PublicKey());
  std::filesystem::remove_all(dir);
}

TEST(SigningKey, RefusesLooseModeAndMissingFile) {
  std::string dir = ::testing::TempDir() + "/key-loose";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/k.pem";
  std::ofstream(path) << chain::Ed25519PrivateKey::Generate()->PrivateKeyPem();
  chmod(path.c_str(), 0644);
  bool created = false;
  auto k = chain::LoadSigningKey(path, false, &created);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(k.status().message()).find("0644"), std::string::npos);
  EXPECT_EQ(std::string(k.status().message()).find("PRIVATE"), std::string::npos);
  EXPECT_FALSE(chain::LoadSigningKey(dir + "/missing.pem", false, &created).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace indelible

namespace indelible {
namespace {

// A signer that refuses one tenant's checkpoints, as indelible-signer does
// an inconsistent tree, and records the old sizes and proofs it was given.
class RefusingSigner final : public LogSigner {
 public:
  RefusingSigner(std::string refused, KeyLogSigner* inner)
      : refused_(std::move(refused)), inner_(inner) {}
  const chain::NoteVerifierKey& verifier_key() const override { return inner_->verifier_key(); }
  absl::StatusOr<SignedCheckpoint> Sign(const chain::CheckpointV2& cp,
                                        const std::vector<std::string>* deletion,
                                        uint64_t old_size,
                                        const ConsistencyProofSource& proof) override {
    if (cp.tenant == refused_) return absl::PermissionDeniedError("signer refused (422)");
    auto hashes = proof(old_size);
    if (!hashes.ok()) return hashes.status();
    if (old_size > 0) {
      auto old_range = *last_range_;
      EXPECT_TRUE(chain::VerifyConsistency(old_size, cp.size, *hashes, old_range, cp.root).ok());
    }
    last_range_ = cp.root;
    old_sizes.push_back(old_size);
    return inner_->Sign(cp, deletion, old_size, proof);
  }
  std::vector<uint64_t> old_sizes;

 private:
  const std::string refused_;
  KeyLogSigner* const inner_;
  std::optional<chain::Digest> last_range_;
};

// A signer that cannot sign the third checkpoint it is asked for (as one
// timing out would), and from the fourth on notes which tenants signed
// before the failure have no stored checkpoint yet.
class FailingThirdSigner final : public LogSigner {
 public:
  FailingThirdSigner(KeyLogSigner* inner, Storage* storage) : inner_(inner), storage_(storage) {}
  const chain::NoteVerifierKey& verifier_key() const override { return inner_->verifier_key(); }
  absl::StatusOr<SignedCheckpoint> Sign(const chain::CheckpointV2& cp,
                                        const std::vector<std::string>* deletion,
                                        uint64_t old_size,
                                        const ConsistencyProofSource& proof) override {
    ++calls;
    if (calls == 3) {
      failed = cp.tenant;
      return absl::UnavailableError("signer timed out");
    }
    if (calls < 3) {
      before.push_back(cp.tenant);
    } else {
      for (const std::string& t : before) {
        if (!storage_->GetCheckpointV2(t, 0).ok()) unstored.push_back(t);
      }
    }
    return inner_->Sign(cp, deletion, old_size, proof);
  }
  int calls = 0;
  std::string failed;
  std::vector<std::string> before;    // signed before the failure
  std::vector<std::string> unstored;  // of those, not stored by a later call

 private:
  KeyLogSigner* const inner_;
  Storage* const storage_;
};

// When the signer fails, what the round signed before is stored at once,
// not held behind the time-outs of the tenants after it; the failed tenant
// is signed on the next round.
TEST_F(CheckpointerTest, ASignerFailureStoresWhatWasSignedBefore) {
  FailingThirdSigner failing(signer_.get(), storage_.get());
  cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_, &failing,
                                       Checkpointer::Options());
  ASSERT_TRUE(cp_->Init().ok());
  for (int t = 0; t < 6; ++t) Append("t" + std::to_string(t), "1");
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(failing.calls, 6);
  EXPECT_EQ(failing.before.size(), 2u);
  EXPECT_TRUE(failing.unstored.empty()) << failing.unstored[0];
  EXPECT_EQ(cp_->unavailable(), 1u);
  EXPECT_TRUE(absl::IsNotFound(storage_->GetCheckpointV2(failing.failed, 0).status()));
  for (int t = 0; t < 6; ++t) {
    const std::string tenant = "t" + std::to_string(t);
    if (tenant != failing.failed) {
      EXPECT_EQ(Latest(tenant).seq, 1u) << tenant;
    }
  }
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(failing.calls, 7);
  EXPECT_EQ(Latest(failing.failed).seq, 1u);
}

// A refusal stores no checkpoint for that tenant, is counted, and does not
// hold back the others; each request carries a consistency proof from the
// size signed before.
TEST_F(CheckpointerTest, ARefusedTenantGetsNoCheckpointAndOthersGoOn) {
  RefusingSigner refusing("evil", signer_.get());
  cp_ = std::make_unique<Checkpointer>(storage_.get(), seq_.get(), &clock_, &refusing,
                                       Checkpointer::Options());
  ASSERT_TRUE(cp_->Init().ok());
  Append("evil", "1");
  Append("acme", "1");
  ASSERT_TRUE(cp_->RunOnce().ok());
  Append("acme", "2");
  Append("acme", "3");
  ASSERT_TRUE(cp_->RunOnce().ok());
  EXPECT_EQ(Latest("acme").seq, 3u);
  EXPECT_TRUE(absl::IsNotFound(storage_->GetCheckpoint("evil", 0).status()));
  EXPECT_TRUE(absl::IsNotFound(storage_->GetCheckpointV2("evil", 0).status()));
  EXPECT_EQ(cp_->refused(), 2u);
  EXPECT_EQ(refusing.old_sizes, (std::vector<uint64_t>{0, 1}));
}

}  // namespace
}  // namespace indelible
