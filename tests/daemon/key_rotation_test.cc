// ApplyKeyRotation (daemon/governance/key_rotation.h): which statements a daemon takes
// at start, and what it writes for one.
#include "daemon/governance/key_rotation.h"

#include <filesystem>
#include <fstream>
#include <future>

#include "gtest/gtest.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

chain::NoteSigner NewSigner() {
  return chain::NoteSigner("indelible", *chain::Ed25519PrivateKey::Generate());
}

class DaemonKeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/kr-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    storage_ = *Storage::Open(dir_ + "/data", StorageOptions());
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, Sequencer::Options());
    ASSERT_TRUE(seq_->Start().ok());
  }
  void TearDown() override {
    seq_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  // The key history row Checkpointer::Init writes for a key.
  void Signed(const chain::NoteSigner& s) {
    std::string row = store::kSigningKeyPrefix;
    chain::PutU32(&row, s.verifier_key().key_id);
    ASSERT_TRUE(storage_->PutMeta(row, chain::NoteVerifierKeyString(s.verifier_key())).ok());
  }
  void AppendOne(const std::string& tenant) {
    PreparedEvent e;
    e.tenant = tenant;
    e.event_id = "e";
    chain::Salt salt{};
    e.body = store::EncodeBody(0, salt, "e");
    e.body_digest = chain::BodyDigest(salt, "e");
    std::promise<void> done;
    seq_->Submit({e}, [&](absl::StatusOr<std::vector<Receipt>> r) {
      EXPECT_TRUE(r.ok());
      done.set_value();
    });
    done.get_future().get();
  }
  std::string Statement(const chain::NoteSigner& from, const chain::NoteSigner& to,
                        const std::string& log_name = "indelible.local") {
    chain::KeyRotation r{log_name, from.verifier_key(), to.verifier_key(), kStart};
    auto note = chain::SignKeyRotation(r, from, to);
    EXPECT_TRUE(note.ok()) << note.status();
    const std::string path = dir_ + "/statement-" + std::to_string(++files_);
    std::ofstream(path) << *note;
    return path;
  }
  absl::Status Apply(const chain::NoteSigner& key, const std::string& file) {
    return ApplyKeyRotation({storage_.get(), seq_.get(), &clock_, IngestLimits(),
                             key.verifier_key(), "indelible.local", file});
  }

  std::string dir_;
  int files_ = 0;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
};

TEST_F(DaemonKeyRotationTest, AFreshStoreTakesAnyKey) {
  EXPECT_TRUE(Apply(NewSigner(), "").ok());
}

TEST_F(DaemonKeyRotationTest, RecordsInEveryChainAndCaches) {
  const chain::NoteSigner a = NewSigner(), b = NewSigner(), c = NewSigner();
  Signed(a);
  AppendOne("acme");
  AppendOne("globex");
  ASSERT_TRUE(Apply(b, Statement(a, b)).ok());
  EXPECT_EQ(seq_->GetHead("acme").seq, 2u);
  EXPECT_EQ(seq_->GetHead("globex").seq, 2u);
  auto records = storage_->ReadRecords("acme", 2, 1);
  ASSERT_TRUE(records.ok() && records->size() == 1u);
  auto event = chain::DecodeCanonicalEvent((*records)[0].ce);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->category, "indelible.key");
  EXPECT_EQ(event->action, "key.rotate");
  bool has_statement = false;
  for (const auto& [k, v] : event->metadata) {
    if (k == "statement") has_statement = chain::VerifyKeyRotation(v).ok();
  }
  EXPECT_TRUE(has_statement);
  auto cached = storage_->ScanMeta(kKeyRotationPrefix);
  ASSERT_TRUE(cached.ok());
  ASSERT_EQ(cached->size(), 1u);
  // B is current now: taken without a statement; A is not.
  EXPECT_TRUE(Apply(b, "").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(a, "")));
  // The next rotation must come from B, not from A.
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(c, Statement(a, c))));
  ASSERT_TRUE(Apply(c, Statement(b, c)).ok());
  EXPECT_EQ(seq_->GetHead("acme").seq, 3u);
  EXPECT_EQ(storage_->ScanMeta(kKeyRotationPrefix)->size(), 2u);
}

TEST_F(DaemonKeyRotationTest, RefusesWhatDoesNotFit) {
  const chain::NoteSigner a = NewSigner(), b = NewSigner(), c = NewSigner();
  Signed(a);
  AppendOne("acme");
  auto refused = [&](const absl::Status& s, const std::string& says) {
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    EXPECT_NE(s.message().find(says), absl::string_view::npos) << s;
  };
  refused(Apply(b, ""), "a key rotation statement signed by the current key is required");
  refused(Apply(b, dir_ + "/missing"), "cannot read");
  refused(Apply(b, Statement(a, c)), "not to the configured signing key");
  refused(Apply(b, Statement(c, b)), "not by the store's current key");
  refused(Apply(b, Statement(a, b, "audit.example.com")), "is for log audit.example.com");
  const std::string broken = dir_ + "/broken";
  std::ofstream(broken) << "indelible/v1/key-rotation\n";
  refused(Apply(b, broken), "key_rotation_statement_file");
  // Nothing was recorded.
  EXPECT_EQ(seq_->GetHead("acme").seq, 1u);
  EXPECT_TRUE(storage_->ScanMeta(kKeyRotationPrefix)->empty());
}

TEST_F(DaemonKeyRotationTest, AStoreThatRotatedBeforeStatementsTakesAnyOfItsKeys) {
  const chain::NoteSigner a = NewSigner(), b = NewSigner(), c = NewSigner();
  Signed(a);
  Signed(b);
  EXPECT_TRUE(Apply(a, "").ok());
  EXPECT_TRUE(Apply(b, "").ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(c, "")));
  EXPECT_TRUE(Apply(c, Statement(a, c)).ok());
  // From now on only C is current.
  EXPECT_TRUE(absl::IsFailedPrecondition(Apply(b, "")));
}

}  // namespace
}  // namespace indelible
