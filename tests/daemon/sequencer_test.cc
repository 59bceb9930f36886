#include "daemon/write/sequencer.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "daemon/ops/metrics.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/verifier/raw_store.h"
#include "verifier/chain/canonical_event.h"

namespace indelible {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull;

// A file system whose write-ahead-log syncs can be held at a gate and made
// to fail, as a disk error would: the real RocksDB write path sees them.
class FaultyFs : public rocksdb::FileSystemWrapper {
 public:
  FaultyFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = FileSystemWrapper::NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) {
      *r = std::make_unique<Wal>(std::move(*r), this);
    }
    return s;
  }

  // Syncs of the log wait (and say so) until Open() is called.
  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
  }
  void Open(bool fail) {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = false;
    fail_ = fail;
    cv_.notify_all();
  }
  // Blocks until a sync waits at the closed gate.
  void AwaitBlocked() {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(30), [this] { return blocked_ > 0; }));
  }

 private:
  class Wal : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Wal(std::unique_ptr<rocksdb::FSWritableFile> f, FaultyFs* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* d) override {
      if (auto s = fs_->Gate(); !s.ok()) return s;
      return FSWritableFileOwnerWrapper::Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* d) override {
      if (auto s = fs_->Gate(); !s.ok()) return s;
      return FSWritableFileOwnerWrapper::Fsync(o, d);
    }

   private:
    FaultyFs* const fs_;
  };

  rocksdb::IOStatus Gate() {
    std::unique_lock<std::mutex> l(mu_);
    ++blocked_;
    cv_.notify_all();
    cv_.wait(l, [this] { return !closed_; });
    --blocked_;
    if (fail_) return rocksdb::IOStatus::IOError("injected sync failure");
    return rocksdb::IOStatus::OK();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool fail_ = false;
  int blocked_ = 0;
};

class SequencerTest : public ::testing::Test {
 protected:
  void BuildsTheTreeOfAStoreWithoutOne(bool legacy_index);
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/seq-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    StorageOptions so;
    so.env = env_.get();
    auto s = Storage::Open(dir_, so);
    ASSERT_TRUE(s.ok()) << s.status();
    storage_ = std::move(*s);
    Sequencer::Options o;
    o.metrics = &metrics_;
    o.max_queued_events = max_queued_events_;
    seq_ = std::make_unique<Sequencer>(storage_.get(), &clock_, o);
    ASSERT_TRUE(seq_->Start().ok());
  }
  void Close() {
    seq_.reset();
    storage_.reset();
  }

  static PreparedEvent Event(const std::string& tenant, const std::string& id) {
    PreparedEvent e;
    e.tenant = tenant;
    e.event_id = id;
    chain::Salt salt;
    salt.fill(1);
    e.body = store::EncodeBody(0, salt, "ce:" + id);
    e.category = "access";
    e.body_digest = chain::BodyDigest(salt, "ce:" + id);
    return e;
  }

  // An event with well-formed canonical bytes; `defaulted`: the request
  // left occurred_at unset and `occurred_at` is the daemon's receive time.
  static PreparedEvent RealEvent(const std::string& tenant, const std::string& id,
                                 const std::string& action, uint64_t occurred_at,
                                 bool defaulted = false, uint8_t salt_byte = 2) {
    chain::EventFields f;
    f.tenant = tenant;
    f.event_id = id;
    f.occurred_at_ns = occurred_at;
    f.actor_id = "alice";
    f.action = action;
    f.category = "access";
    const std::string ce = *chain::EncodeCanonicalEvent(f);
    PreparedEvent e;
    e.tenant = tenant;
    e.event_id = id;
    e.category = "access";
    chain::Salt salt;
    salt.fill(salt_byte);  // each request draws its own salt
    e.body = store::EncodeBody(0, salt, ce);
    e.body_digest = chain::BodyDigest(salt, ce);
    e.occurred_at_defaulted = defaulted;
    return e;
  }

  absl::StatusOr<std::vector<Receipt>> SubmitSync(std::vector<PreparedEvent> ev) {
    std::promise<absl::StatusOr<std::vector<Receipt>>> p;
    auto f = p.get_future();
    seq_->Submit(std::move(ev), [&p](absl::StatusOr<std::vector<Receipt>> r) {
      p.set_value(std::move(r));
    });
    return f.get();
  }

  using Result = absl::StatusOr<std::vector<Receipt>>;
  using Seqs = std::vector<std::pair<uint64_t, bool>>;  // seq, duplicate

  // Submits `events` and holds the committer on them until `released` is
  // ready; returns once the sequencer has taken them, so the requests
  // submitted next are linked together, as one chunk.
  void SubmitHeld(std::vector<PreparedEvent> events, std::shared_future<void> released,
                  std::promise<Result>* out) {
    seq_->Submit(std::move(events), [out](Result r) { out->set_value(std::move(r)); },
                 [released](rocksdb::WriteBatch*) { released.wait(); });
    for (int i = 0; i < 3000 && metrics_.QueueDepth() != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(metrics_.QueueDepth(), 0) << "the held request was not taken";
  }

  static Seqs SeqsOf(const std::vector<Receipt>& rs) {
    Seqs out;
    for (const Receipt& r : rs) out.emplace_back(r.seq, r.duplicate);
    return out;
  }

  // Recomputes the chain from storage and checks it ends at the head.
  void ExpectChainIntact(const std::string& tenant, uint64_t want_len) {
    auto recs = storage_->ReadRecords(tenant, 1, 1 << 20);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), want_len);
    chain::Digest prev = chain::Genesis(tenant);
    uint64_t prev_time = 0;
    for (size_t i = 0; i < recs->size(); ++i) {
      const StoredRecord& r = (*recs)[i];
      ASSERT_EQ(r.seq, i + 1);
      ASSERT_FALSE(r.pruned);
      EXPECT_EQ(chain::BodyDigest(r.salt, r.ce), r.skeleton.body_digest);
      EXPECT_GE(r.skeleton.received_at_ns, prev_time);
      chain::Digest h = chain::EntryHash(tenant, r.seq, r.skeleton.received_at_ns,
                                         prev, r.skeleton.body_digest);
      ASSERT_EQ(h, r.skeleton.entry_hash) << "seq " << r.seq;
      prev = h;
      prev_time = r.skeleton.received_at_ns;
    }
    store::Head head = seq_->GetHead(tenant);
    EXPECT_EQ(head.seq, want_len);
    EXPECT_EQ(head.entry_hash, prev);
    std::vector<chain::Digest> leaves;
    for (const StoredRecord& r : *recs) {
      leaves.push_back(chain::LeafHash(r.skeleton.entry_hash, "access"));
    }
    ExpectTreeIs(tenant, leaves, std::vector<std::string>(leaves.size(), "access"));
  }

  rocksdb::ColumnFamilyHandle* Cf(const std::string& name) {
    for (auto* h : storage_->column_families()) {
      if (h->GetName() == name) return h;
    }
    return nullptr;
  }

  // The stored tree of `tenant` holds exactly the complete nodes of the tree
  // over `leaves` at level 4 and above, each node (stored or hashed from
  // skeletons) has the hash recomputed from the leaves, and each skeleton
  // keeps its leaf's category.
  void ExpectTreeIs(const std::string& tenant, const std::vector<chain::Digest>& leaves,
                    const std::vector<std::string>& categories) {
    const uint64_t n = leaves.size();
    ASSERT_EQ(categories.size(), n);
    for (uint64_t i = 0; i < n; ++i) {
      auto sk = storage_->GetSkeleton(tenant, i + 1);
      ASSERT_TRUE(sk.ok()) << sk.status();
      EXPECT_EQ(sk->category, categories[i]) << tenant << " leaf " << i;
      EXPECT_EQ(store::LeafOf(*sk), leaves[i]) << tenant << " leaf " << i;
    }
    size_t want_rows = 0;
    for (int level = 0; (uint64_t{1} << level) <= n; ++level) {
      for (uint64_t i = 0; i < (n >> level); ++i) {
        if (level >= store::kLowestStoredLevel) ++want_rows;
        auto got = storage_->GetTreeNodes(tenant, {chain::NodeId{level, i}});
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->at(0), chain::MerkleRoot(leaves.data() + (i << level),
                                                size_t{1} << level))
            << tenant << " level " << level << " index " << i;
      }
    }
    size_t rows = 0;
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), Cf(store::kTreeCf)));
    const std::string prefix = store::TenantPrefix(tenant);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++rows;
    EXPECT_EQ(rows, want_rows) << "nodes of " << tenant << " beyond its records";
    auto range = storage_->LoadCompactRange(tenant, n);
    ASSERT_TRUE(range.ok()) << range.status();
    EXPECT_EQ(range->Root(), chain::MerkleRoot(leaves));
  }

  std::string dir_;
  size_t max_queued_events_ = 4096;
  std::shared_ptr<FaultyFs> fs_ = std::make_shared<FaultyFs>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  Metrics metrics_;
  ManualClock clock_{kStart};
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Sequencer> seq_;
};

TEST_F(SequencerTest, EmptyTenantHeadIsGenesis) {
  store::Head h = seq_->GetHead("nobody");
  EXPECT_EQ(h.seq, 0u);
  EXPECT_EQ(h.entry_hash, chain::Genesis("nobody"));
}

TEST_F(SequencerTest, ConcurrentAppendsAreGaplessPerTenant) {
  const std::vector<std::string> tenants = {"t1", "t2", "t3"};
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<std::string, std::map<uint64_t, chain::Digest>> receipts;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& tenant = tenants[(t + i) % tenants.size()];
        auto r = SubmitSync({Event(tenant, "e" + std::to_string(t) + "-" +
                                               std::to_string(i))});
        ASSERT_TRUE(r.ok()) << r.status();
        std::lock_guard<std::mutex> l(mu);
        ASSERT_TRUE(receipts[tenant].emplace(r->at(0).seq, r->at(0).entry_hash).second)
            << "seq handed out twice";
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t total = 0;
  for (const auto& tenant : tenants) {
    const auto& got = receipts[tenant];
    total += got.size();
    ExpectChainIntact(tenant, got.size());
    auto recs = storage_->ReadRecords(tenant, 1, 1 << 20);
    for (const auto& r : *recs) EXPECT_EQ(got.at(r.seq), r.skeleton.entry_hash);
  }
  EXPECT_EQ(total, size_t{kThreads * kPerThread});
}

TEST_F(SequencerTest, BatchIsAtomicAndOrdered) {
  auto r = SubmitSync({Event("acme", "a"), Event("acme", "b"), Event("other", "c")});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].seq, 1u);
  EXPECT_EQ((*r)[1].seq, 2u);
  EXPECT_EQ((*r)[2].seq, 1u);
  EXPECT_EQ((*r)[2].tenant, "other");
  ExpectChainIntact("acme", 2);
  ExpectChainIntact("other", 1);
}

// Requests that mix tenants, queued behind a blocked link so that they are
// linked as one chunk (the sequencer links a chunk's new events tenant by
// tenant): each tenant's records follow the order the events came in, and a
// repeat, in the same chunk or an earlier one, gets its first's receipt.
TEST_F(SequencerTest, MixedTenantRequestsLinkInArrivalOrderPerTenant) {
  std::promise<void> release;
  std::promise<Result> pa, pb, pc;
  SubmitHeld({Event("acme", "1"), Event("globex", "1"), Event("acme", "2"),
              Event("initech", "1")},
             release.get_future().share(), &pa);
  seq_->Submit({Event("globex", "2"), Event("acme", "1"), Event("acme", "3"),
                Event("globex", "3"), Event("initech", "1")},
               [&pb](Result r) { pb.set_value(std::move(r)); });
  seq_->Submit({Event("initech", "2"), Event("globex", "2"), Event("acme", "4"),
                Event("initech", "2")},
               [&pc](Result r) { pc.set_value(std::move(r)); });
  release.set_value();
  const Result a = pa.get_future().get(), b = pb.get_future().get(),
               c = pc.get_future().get();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status() << b.status() << c.status();
  EXPECT_EQ(SeqsOf(*a), (Seqs{{1, false}, {1, false}, {2, false}, {1, false}}));
  EXPECT_EQ(SeqsOf(*b), (Seqs{{2, false}, {1, true}, {3, false}, {3, false}, {1, true}}));
  EXPECT_EQ(SeqsOf(*c), (Seqs{{2, false}, {2, true}, {4, false}, {2, true}}));
  // A repeat's receipt is its first's, whole.
  EXPECT_EQ((*b)[1].entry_hash, (*a)[0].entry_hash);
  EXPECT_EQ((*b)[1].received_at_ns, (*a)[0].received_at_ns);
  EXPECT_EQ((*c)[1].entry_hash, (*b)[0].entry_hash);
  EXPECT_EQ((*c)[1].prev_entry_hash, (*b)[0].prev_entry_hash);
  EXPECT_EQ((*c)[3].entry_hash, (*c)[0].entry_hash);
  // Each receipt links onto the one before it in its tenant.
  EXPECT_EQ((*b)[2].prev_entry_hash, (*a)[2].entry_hash);    // acme 3 on 2
  EXPECT_EQ((*c)[2].prev_entry_hash, (*b)[2].entry_hash);    // acme 4 on 3
  EXPECT_EQ((*b)[3].prev_entry_hash, (*b)[0].entry_hash);    // globex 3 on 2
  EXPECT_EQ((*c)[0].prev_entry_hash, (*a)[3].entry_hash);    // initech 2 on 1
  ExpectChainIntact("acme", 4);
  ExpectChainIntact("globex", 3);
  ExpectChainIntact("initech", 2);
  auto recs = storage_->ReadRecords("globex", 1, 10);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_EQ((*recs)[1].ce, "ce:2");
  EXPECT_EQ((*recs)[2].ce, "ce:3");
}

TEST_F(SequencerTest, DuplicateEventIdReturnsFirstReceipt) {
  auto first = SubmitSync({Event("acme", "x")});
  ASSERT_TRUE(first.ok());
  auto again = SubmitSync({Event("acme", "x")});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_EQ((*again)[0].seq, (*first)[0].seq);
  EXPECT_EQ((*again)[0].entry_hash, (*first)[0].entry_hash);
  EXPECT_EQ((*again)[0].received_at_ns, (*first)[0].received_at_ns);
  // Same id within one request, and the same id in another tenant.
  auto mixed = SubmitSync({Event("acme", "y"), Event("acme", "y"), Event("b", "x")});
  ASSERT_TRUE(mixed.ok());
  EXPECT_FALSE((*mixed)[0].duplicate);
  EXPECT_TRUE((*mixed)[1].duplicate);
  EXPECT_EQ((*mixed)[1].seq, (*mixed)[0].seq);
  EXPECT_FALSE((*mixed)[2].duplicate);
  ExpectChainIntact("acme", 2);
  ExpectChainIntact("b", 1);
}

// A chunk's ids are looked up in storage together (one MultiGet): each
// stored repeat still gets its own first's receipt, whichever request and
// position of the chunk it is in.
TEST_F(SequencerTest, StoredRepeatsInOneChunkEachGetTheirFirstsReceipt) {
  auto stored = SubmitSync({Event("acme", "1"), Event("acme", "2"), Event("acme", "3"),
                            Event("globex", "1")});
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::promise<void> release;
  std::promise<Result> pa, pb, pc;
  SubmitHeld({Event("acme", "4")}, release.get_future().share(), &pa);
  seq_->Submit({Event("globex", "2"), Event("acme", "2"), Event("acme", "5")},
               [&pb](Result r) { pb.set_value(std::move(r)); });
  seq_->Submit({Event("acme", "3"), Event("globex", "1"), Event("initech", "1"),
                Event("acme", "1")},
               [&pc](Result r) { pc.set_value(std::move(r)); });
  release.set_value();
  const Result a = pa.get_future().get(), b = pb.get_future().get(),
               c = pc.get_future().get();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status() << b.status() << c.status();
  EXPECT_EQ(SeqsOf(*a), (Seqs{{4, false}}));
  EXPECT_EQ(SeqsOf(*b), (Seqs{{2, false}, {2, true}, {5, false}}));
  EXPECT_EQ(SeqsOf(*c), (Seqs{{3, true}, {1, true}, {1, false}, {1, true}}));
  EXPECT_EQ((*b)[1].entry_hash, (*stored)[1].entry_hash);
  EXPECT_EQ((*c)[0].entry_hash, (*stored)[2].entry_hash);
  EXPECT_EQ((*c)[1].entry_hash, (*stored)[3].entry_hash);
  EXPECT_EQ((*c)[3].entry_hash, (*stored)[0].entry_hash);
  EXPECT_EQ((*c)[3].prev_entry_hash, chain::Genesis("acme"));
  ExpectChainIntact("acme", 5);
  ExpectChainIntact("globex", 2);
  ExpectChainIntact("initech", 1);
}

TEST_F(SequencerTest, RacingRetriesStoreOnce) {
  constexpr int kRacers = 16;
  std::vector<std::future<absl::StatusOr<std::vector<Receipt>>>> results;
  for (int i = 0; i < kRacers; ++i) {
    results.push_back(std::async(std::launch::async, [this] {
      return SubmitSync({Event("acme", "same")});
    }));
  }
  int originals = 0;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].seq, 1u);
    originals += (*r)[0].duplicate ? 0 : 1;
  }
  EXPECT_EQ(originals, 1);
  ExpectChainIntact("acme", 1);
}

TEST_F(SequencerTest, ReceivedAtNeverGoesBackwards) {
  auto a = SubmitSync({Event("acme", "1")});
  clock_.Set(kStart - 5000000000ull);  // the wall clock jumps back 5 s
  auto b = SubmitSync({Event("acme", "2")});
  clock_.Set(kStart + 1000);
  auto c = SubmitSync({Event("acme", "3")});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)[0].received_at_ns, kStart);
  EXPECT_EQ((*b)[0].received_at_ns, kStart);
  EXPECT_EQ((*c)[0].received_at_ns, kStart + 1000);
  ExpectChainIntact("acme", 3);
}

TEST_F(SequencerTest, RestartContinuesChain) {
  ASSERT_TRUE(SubmitSync({Event("acme", "1"), Event("acme", "2")}).ok());
  Close();
  clock_.Set(kStart - 1);  // even across a restart, time does not go back
  Open();
  EXPECT_EQ(seq_->GetHead("acme").seq, 2u);
  auto r = SubmitSync({Event("acme", "3"), Event("acme", "1")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].seq, 3u);
  EXPECT_GE((*r)[0].received_at_ns, kStart);
  EXPECT_TRUE((*r)[1].duplicate);
  EXPECT_EQ((*r)[1].seq, 1u);
  ExpectChainIntact("acme", 3);
}

// Group N+1 is linked onto group N before N is durable. If N's write fails,
// N+1 must fail too, nothing of either may be acknowledged (not even as a
// duplicate of N), and the chain continues from what is stored.
TEST_F(SequencerTest, FailedWriteFailsTheGroupsLinkedOntoIt) {
  ASSERT_TRUE(SubmitSync({Event("acme", "1")}).ok());
  fs_->Close();
  std::promise<absl::StatusOr<std::vector<Receipt>>> a, b;
  seq_->Submit({Event("acme", "2")},
               [&a](absl::StatusOr<std::vector<Receipt>> r) { a.set_value(std::move(r)); });
  fs_->AwaitBlocked();  // group "2" is being synced
  // Group "3": a duplicate of the unsynced "2" and a new event, linked
  // onto "2" while it is still in flight.
  seq_->Submit({Event("acme", "2"), Event("acme", "3")},
               [&b](absl::StatusOr<std::vector<Receipt>> r) { b.set_value(std::move(r)); });
  for (int i = 0; i < 3000 && metrics_.QueueDepth() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(metrics_.QueueDepth(), 0) << "the second group was not taken";
  EXPECT_EQ(seq_->GetHead("acme").seq, 1u) << "a head was published before it was durable";
  fs_->Open(/*fail=*/true);
  auto ra = a.get_future().get();
  auto rb = b.get_future().get();
  EXPECT_FALSE(ra.ok());
  EXPECT_FALSE(rb.ok()) << "linked onto a failed write, yet acknowledged";
  EXPECT_EQ(rb.status(), ra.status());
  EXPECT_NE(std::string(ra.status().message()).find("injected sync failure"),
            std::string::npos) << ra.status();
  EXPECT_EQ(seq_->GetHead("acme").seq, 1u);

  fs_->Open(/*fail=*/false);  // the disk works again
  // RocksDB takes a failed log sync as fatal: it refuses writes until the
  // store is reopened, and so nothing is acknowledged meanwhile.
  auto refused = SubmitSync({Event("acme", "4")});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(seq_->GetHead("acme").seq, 1u);
  // After a restart the chain continues from what is stored. A failed
  // append is not acknowledged, but it may still be stored: "2" reached the
  // log before its sync failed, and RocksDB replays it (a client's retry
  // with the same id gets that record). The group linked onto it was never
  // written: "3" is not stored.
  Close();
  Open();
  const uint64_t stored = seq_->GetHead("acme").seq;
  ASSERT_TRUE(stored == 1 || stored == 2) << stored;
  ExpectChainIntact("acme", stored);
  auto recs = storage_->ReadRecords("acme", 1, 10);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->back().ce, stored == 2 ? "ce:2" : "ce:1");
  auto rc = SubmitSync({Event("acme", "3"), Event("acme", "2")});
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ((*rc)[0].seq, stored + 1);
  EXPECT_FALSE((*rc)[0].duplicate) << "\"3\" was stored by a group linked onto a failed write";
  EXPECT_EQ((*rc)[1].duplicate, stored == 2);
  EXPECT_EQ((*rc)[1].seq, stored == 2 ? 2u : stored + 2);
  ExpectChainIntact("acme", stored == 2 ? 3 : 4);
}

// Many concurrent groups through the pipeline, with ids repeated across
// groups: each id is stored once, and every receipt matches the chain.
TEST_F(SequencerTest, DuplicatesAcrossInFlightGroupsStoreOnce) {
  constexpr int kThreads = 8, kPerThread = 200, kIds = 300;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<std::string, std::set<uint64_t>> seq_of_id;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "id" + std::to_string((t * 37 + i * 11) % kIds);
        auto r = SubmitSync({Event("acme", id)});
        ASSERT_TRUE(r.ok()) << r.status();
        std::lock_guard<std::mutex> l(mu);
        seq_of_id[id].insert(r->at(0).seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> seqs;
  for (const auto& [id, s] : seq_of_id) {
    ASSERT_EQ(s.size(), 1u) << id << " stored more than once";
    seqs.insert(*s.begin());
  }
  EXPECT_EQ(seqs.size(), seq_of_id.size());
  ExpectChainIntact("acme", seq_of_id.size());
}

TEST_F(SequencerTest, ReceiptsCarryWhatTheRecordWasLinkedOn) {
  auto a = SubmitSync({Event("acme", "1"), Event("acme", "2"), Event("acme", "1")});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)[0].prev_entry_hash, chain::Genesis("acme"));
  EXPECT_EQ((*a)[0].body_digest, Event("acme", "1").body_digest);
  EXPECT_EQ((*a)[1].prev_entry_hash, (*a)[0].entry_hash);
  EXPECT_EQ((*a)[1].body_digest, Event("acme", "2").body_digest);
  // A duplicate in flight and one of a stored record: the first's values.
  for (const Receipt& dup : {(*a)[2], SubmitSync({Event("acme", "2")})->at(0)}) {
    EXPECT_TRUE(dup.duplicate);
    const Receipt& first = dup.seq == 1 ? (*a)[0] : (*a)[1];
    EXPECT_EQ(dup.prev_entry_hash, first.prev_entry_hash);
    EXPECT_EQ(dup.body_digest, first.body_digest);
  }
  Close();
  Open();
  auto again = SubmitSync({Event("acme", "2")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].prev_entry_hash, (*a)[0].entry_hash);
  EXPECT_EQ((*again)[0].body_digest, (*a)[1].body_digest);
}

// Many groups of several tenants and sizes: after each round, and after a
// restart, every tenant's stored tree is the tree of its records.
TEST_F(SequencerTest, TreeFollowsTheChainAcrossGroupsAndRestarts) {
  for (int round = 0; round < 3; ++round) {
    std::vector<std::future<absl::StatusOr<std::vector<Receipt>>>> results;
    for (int i = 0; i < 40; ++i) {
      results.push_back(std::async(std::launch::async, [this, i, round] {
        std::vector<PreparedEvent> ev;
        for (int k = 0; k <= i % 5; ++k) {
          ev.push_back(Event(i % 3 == 0 ? "t1" : "t2",
                             "r" + std::to_string(round) + "-" + std::to_string(i) + "-" +
                                 std::to_string(k)));
        }
        return SubmitSync(std::move(ev));
      }));
    }
    for (auto& f : results) ASSERT_TRUE(f.get().ok());
    ExpectChainIntact("t1", seq_->GetHead("t1").seq);
    ExpectChainIntact("t2", seq_->GetHead("t2").seq);
    Close();
    Open();
  }
  // 40 requests of 1..5 events per round.
  EXPECT_EQ(seq_->GetHead("t1").seq + seq_->GetHead("t2").seq, 3u * 8 * 15);
}

// A store written before the tree existed (no tree rows, no marker) gets
// its trees built at start; a pruned body's leaf takes its category from
// the event-id index, or kUnknownCategory when that is gone too. Such a
// store has its index keyed tenant first (store::kLegacyEventIdsCf), which
// moves after the trees are built; with `legacy_index` false the index is
// already the current one (a store whose tree marker was deleted).
void SequencerTest::BuildsTheTreeOfAStoreWithoutOne(bool legacy_index) {
  std::vector<PreparedEvent> ev;
  for (int i = 1; i <= 17; ++i) {
    PreparedEvent e = RealEvent("acme", std::to_string(i), "read", kStart);
    ev.push_back(std::move(e));
  }
  ASSERT_TRUE(SubmitSync(std::move(ev)).ok());
  ASSERT_TRUE(SubmitSync({RealEvent("globex", "g", "read", kStart)}).ok());
  Close();
  {
    StorageOptions so;
    auto st = Storage::Open(dir_, so);
    ASSERT_TRUE(st.ok());
    storage_ = std::move(*st);
    rocksdb::WriteBatch b;
    b.DeleteRange(Cf(store::kTreeCf), "a", "z");
    b.Delete(store::kTreeMarkerKey);
    // Skeletons of then: no category, each a run of one (as Storage::Open
    // leaves a store of then: MoveLegacySkeletons).
    for (const auto& [tenant, n] : std::vector<std::pair<std::string, uint64_t>>{{"acme", 17},
                                                                              {"globex", 1}}) {
      std::string end(tenant);
      end.push_back('\x01');
      b.DeleteRange(Cf(store::kSkeletonsCf), store::TenantPrefix(tenant), end);
      for (uint64_t seq = 1; seq <= n; ++seq) {
        auto sk = storage_->GetSkeleton(tenant, seq);
        ASSERT_TRUE(sk.ok());
        sk->category.clear();
        std::string run;
        store::AppendToSkeletonRun(&run, seq, store::EncodeSkeleton(*sk));
        b.Put(Cf(store::kSkeletonsCf), store::SeqKey(tenant, seq), run);
      }
    }
    // seq 3: body pruned, id kept; seq 5: body and id pruned.
    testing::DeleteBody(storage_->db(), Cf(store::kBodiesCf), "acme", 3);
    testing::DeleteBody(storage_->db(), Cf(store::kBodiesCf), "acme", 5);
    b.Delete(Cf(store::kEventIdsCf), store::EventIdKey("acme", "5"));
    ASSERT_TRUE(storage_->WriteSynced(&b).ok());
    if (legacy_index) {
      rocksdb::ColumnFamilyHandle* legacy = nullptr;
      ASSERT_TRUE(storage_->db()
                      ->CreateColumnFamily(rocksdb::ColumnFamilyOptions(),
                                           store::kLegacyEventIdsCf, &legacy)
                      .ok());
      rocksdb::WriteBatch m;
      std::unique_ptr<rocksdb::Iterator> it(
          storage_->db()->NewIterator(rocksdb::ReadOptions(), Cf(store::kEventIdsCf)));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string_view tenant, id;
        ASSERT_TRUE(store::ParseEventIdKey(
            std::string_view(it->key().data(), it->key().size()), &tenant, &id));
        m.Put(legacy, store::TenantPrefix(tenant) + std::string(id), it->value());
        m.Delete(Cf(store::kEventIdsCf), it->key());
      }
      it.reset();
      ASSERT_TRUE(storage_->WriteSynced(&m).ok());
      ASSERT_TRUE(storage_->db()->DestroyColumnFamilyHandle(legacy).ok());
    }
    storage_.reset();
  }
  Open();
  std::vector<std::string> cf_names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &cf_names).ok());
  EXPECT_EQ(std::count(cf_names.begin(), cf_names.end(), store::kLegacyEventIdsCf), 0);
  EXPECT_EQ(storage_->LookupEventId("acme", "3")->value_or(0), 3u);
  EXPECT_FALSE(storage_->LookupEventId("acme", "5")->has_value());
  EXPECT_EQ(storage_->LookupEventId("globex", "g")->value_or(0), 1u);
  auto recs = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 17u);
  std::vector<chain::Digest> leaves;
  std::vector<std::string> categories;
  for (const StoredRecord& r : *recs) {
    categories.push_back(r.seq == 5 ? kUnknownCategory : "access");
    leaves.push_back(chain::LeafHash(r.skeleton.entry_hash, categories.back()));
    // A pruned record is read with the category its leaf keeps.
    EXPECT_EQ(r.leaf_category, r.pruned ? std::optional<std::string>(categories.back())
                                        : std::nullopt)
        << "seq " << r.seq;
  }
  ExpectTreeIs("acme", leaves, categories);
  auto g = storage_->ReadRecords("globex", 1, 10);
  ExpectTreeIs("globex", {chain::LeafHash(g->at(0).skeleton.entry_hash, "access")}, {"access"});
  auto more = SubmitSync({RealEvent("acme", "18", "read", kStart)});
  ASSERT_TRUE(more.ok()) << more.status();
  recs = storage_->ReadRecords("acme", 18, 1);
  leaves.push_back(chain::LeafHash(recs->at(0).skeleton.entry_hash, "access"));
  categories.push_back("access");
  ExpectTreeIs("acme", leaves, categories);
}

TEST_F(SequencerTest, StartBuildsTheTreeOfAStoreWithoutOne) {
  BuildsTheTreeOfAStoreWithoutOne(/*legacy_index=*/true);
}

TEST_F(SequencerTest, StartBuildsTheTreeOfAStoreWithoutOneFromTheCurrentIndex) {
  BuildsTheTreeOfAStoreWithoutOne(/*legacy_index=*/false);
}

// A store whose tree marker and tree rows were deleted by hand, its
// skeletons in runs with their categories: the tree is built again from
// them, and no skeleton row is rewritten (each is a run of many).
TEST_F(SequencerTest, StartBuildsTheTreeAgainWithoutRewritingSkeletonRuns) {
  std::vector<PreparedEvent> ev;
  for (int i = 1; i <= 17; ++i) ev.push_back(RealEvent("acme", std::to_string(i), "read", kStart));
  ASSERT_TRUE(SubmitSync(std::move(ev)).ok());
  auto before = storage_->ReadRecords("acme", 1, 100);
  ASSERT_TRUE(before.ok()) << before.status();
  auto rows = [&] {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), Cf(store::kSkeletonsCf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace_back(it->key().ToString(), it->value().ToString());
    }
    return out;
  };
  const auto rows_before = rows();
  ASSERT_EQ(rows_before.size(), 1u) << "one request of one tenant: one run";
  Close();
  {
    auto st = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(st.ok());
    storage_ = std::move(*st);
    rocksdb::WriteBatch b;
    b.DeleteRange(Cf(store::kTreeCf), "a", "z");
    b.Delete(store::kTreeMarkerKey);
    ASSERT_TRUE(storage_->WriteSynced(&b).ok());
    storage_.reset();
  }
  Open();
  EXPECT_EQ(rows(), rows_before);
  std::vector<chain::Digest> leaves;
  std::vector<std::string> categories;
  for (const StoredRecord& r : *before) {
    categories.push_back("access");
    leaves.push_back(chain::LeafHash(r.skeleton.entry_hash, "access"));
  }
  ExpectTreeIs("acme", leaves, categories);
}

// A record's skeleton keeps its leaf's category: pruning the body (and the
// event-id entry, the only other copies) leaves it readable with the record.
TEST_F(SequencerTest, PrunedRecordKeepsItsLeafCategory) {
  PreparedEvent trace = Event("acme", "t");
  trace.category = "trace";
  ASSERT_TRUE(SubmitSync({Event("acme", "a"), std::move(trace)}).ok());
  rocksdb::WriteBatch b;
  testing::DeleteBody(storage_->db(), Cf(store::kBodiesCf), "acme", 2);
  b.Delete(Cf(store::kEventIdsCf), store::EventIdKey("acme", "t"));
  ASSERT_TRUE(storage_->WriteSynced(&b).ok());
  auto recs = storage_->ReadRecords("acme", 1, 10);
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_FALSE((*recs)[0].pruned);
  EXPECT_EQ((*recs)[0].leaf_category, std::nullopt);
  EXPECT_TRUE((*recs)[1].pruned);
  EXPECT_EQ((*recs)[1].leaf_category, std::optional<std::string>("trace"));
  ExpectTreeIs("acme",
               {chain::LeafHash((*recs)[0].skeleton.entry_hash, "access"),
                chain::LeafHash((*recs)[1].skeleton.entry_hash, "trace")},
               {"access", "trace"});
}

// A tenant whose stored tree lacks a node of its right edge cannot be
// extended consistently: it is quarantined at start, the others go on.
TEST_F(SequencerTest, MissingTreeNodeQuarantinesTheTenant) {
  std::vector<PreparedEvent> ev;
  for (int i = 1; i <= 17; ++i) ev.push_back(Event("acme", std::to_string(i)));
  ASSERT_TRUE(SubmitSync(std::move(ev)).ok());
  ASSERT_TRUE(SubmitSync({Event("globex", "1")}).ok());
  Close();
  {
    auto st = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(st.ok());
    storage_ = std::move(*st);
    rocksdb::WriteBatch b;
    b.Delete(Cf(store::kTreeCf), store::TreeKey("acme", 4, 0));  // leaves 1..16
    ASSERT_TRUE(storage_->WriteSynced(&b).ok());
    storage_.reset();
  }
  Open();
  ASSERT_TRUE(seq_->Quarantined("acme").has_value());
  EXPECT_NE(seq_->Quarantined("acme")->find("level 4 index 0"), std::string::npos)
      << *seq_->Quarantined("acme");
  EXPECT_EQ(SubmitSync({Event("acme", "18")}).status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(SubmitSync({Event("globex", "2")}).ok());
  ExpectChainIntact("globex", 2);
}

TEST_F(SequencerTest, SubmitAfterStopFailsUnavailable) {
  seq_->Stop();
  auto r = SubmitSync({Event("acme", "late")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SequencerTest, TrySubmitRefusesWhileTheBoundIsHeldUntilTheyAreAnswered) {
  Close();
  max_queued_events_ = 3;
  Open();
  // Three events held: their request waits on the sequencer thread (its
  // Extra) until `release`.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<absl::StatusOr<std::vector<Receipt>>> first;
  auto first_done = first.get_future();
  seq_->Submit({Event("acme", "a"), Event("acme", "b"), Event("acme", "c")},
               [&first](absl::StatusOr<std::vector<Receipt>> r) { first.set_value(std::move(r)); },
               [released](rocksdb::WriteBatch*) { released.wait(); });
  bool refused_ran = false;
  EXPECT_FALSE(seq_->TrySubmit({Event("acme", "d")},
                               [&](absl::StatusOr<std::vector<Receipt>>) { refused_ran = true; }));
  std::promise<void> room;
  auto roomy = room.get_future();
  EXPECT_FALSE(seq_->RoomOrWait([&room] { room.set_value(); }));
  EXPECT_EQ(seq_->max_queued_events(), 3u);
  release.set_value();
  ASSERT_TRUE(first_done.get().ok());
  ASSERT_EQ(roomy.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  // Room again: "d" is admitted and stored after a, b, c; a request larger
  // than the bound is admitted when nothing is held.
  std::promise<absl::StatusOr<std::vector<Receipt>>> second;
  auto second_done = second.get_future();
  ASSERT_TRUE(seq_->TrySubmit(
      {Event("acme", "d"), Event("acme", "e"), Event("acme", "f"), Event("acme", "g")},
      [&second](absl::StatusOr<std::vector<Receipt>> r) { second.set_value(std::move(r)); }));
  auto r = second_done.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->front().seq, 4u);
  EXPECT_FALSE(refused_ran);
  ExpectChainIntact("acme", 7);
  const std::string text = metrics_.Render();
  EXPECT_NE(text.find("indelible_ingest_backpressure_total{action=\"refused\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("indelible_ingest_held_events 0\n"), std::string::npos) << text;
  // The resend of "d" (same first event) took the room "d" reserved.
  EXPECT_NE(text.find("indelible_ingest_reserved_events 0\n"), std::string::npos) << text;
}

TEST_F(SequencerTest, HeadDisagreeingWithItsSkeletonQuarantinesTheTenant) {
  ASSERT_TRUE(SubmitSync({Event("acme", "1"), Event("acme", "2")}).ok());
  ASSERT_TRUE(SubmitSync({Event("globex", "1")}).ok());
  Close();
  {
    // A head that does not match the last skeleton, as a damaged or
    // tampered store would have.
    auto s = Storage::Open(dir_, StorageOptions());
    ASSERT_TRUE(s.ok()) << s.status();
    auto head = (*s)->GetHead("acme");
    ASSERT_TRUE(head.ok());
    head->entry_hash[0] ^= 1;
    rocksdb::WriteBatch batch;
    (*s)->PutHead(&batch, "acme", *head);
    ASSERT_TRUE((*s)->WriteSynced(&batch).ok());
  }
  Open();
  auto reason = seq_->Quarantined("acme");
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("head does not match"), std::string::npos) << *reason;
  EXPECT_FALSE(seq_->Quarantined("globex").has_value());
  auto r = SubmitSync({Event("acme", "3")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("tenant acme"), std::string::npos)
      << r.status();
  // Atomic: a batch touching it stores nothing for the other tenant either.
  r = SubmitSync({Event("globex", "2"), Event("acme", "4")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  auto ok = SubmitSync({Event("globex", "3")});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].seq, 2u);
  EXPECT_EQ(seq_->GetHead("acme").seq, 2u);
}

// The same event id with other canonical bytes is not a retry: the request
// fails with AlreadyExists naming the first seq and the field, and nothing
// of it is stored. Identical bytes (under a fresh salt) still get the first
// receipt.
TEST_F(SequencerTest, SameIdDifferentContentIsRefusedNamingTheFirstSeq) {
  ASSERT_TRUE(SubmitSync({RealEvent("acme", "a", "read", 5)}).ok());
  auto first = SubmitSync({RealEvent("acme", "x", "read", 5, false, 3)});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ((*first)[0].seq, 2u);

  auto same = SubmitSync({RealEvent("acme", "x", "read", 5, false, 4)});
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE((*same)[0].duplicate);
  EXPECT_EQ((*same)[0].seq, 2u);
  EXPECT_EQ((*same)[0].entry_hash, (*first)[0].entry_hash);

  PreparedEvent other = RealEvent("acme", "x", "delete", 5);
  other.path = "events[1]";
  auto refused = SubmitSync({RealEvent("acme", "new", "read", 5), other});
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists) << refused.status();
  const std::string msg(refused.status().message());
  EXPECT_NE(msg.find("events[1].event_id"), std::string::npos) << msg;
  EXPECT_NE(msg.find("seq 2"), std::string::npos) << msg;
  // All or none: "new" was not stored, and its id is still free.
  EXPECT_EQ(seq_->GetHead("acme").seq, 2u);
  auto later = SubmitSync({RealEvent("acme", "new", "read", 5)});
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_FALSE((*later)[0].duplicate);
  EXPECT_EQ((*later)[0].seq, 3u);
  // After a restart the stored first record is compared just the same.
  Close();
  Open();
  auto again = SubmitSync({RealEvent("acme", "x", "read", 6)});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
  ExpectChainIntact("acme", 3);
}

// Within one request: a repeat with other bytes refuses the whole request.
TEST_F(SequencerTest, SameIdDifferentContentInOneBatchIsRefused) {
  auto r = SubmitSync({RealEvent("acme", "y", "read", 5), RealEvent("acme", "y", "write", 5)});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("event.event_id"), std::string::npos)
      << r.status();
  EXPECT_EQ(seq_->GetHead("acme").seq, 0u);
  auto ok = SubmitSync({RealEvent("acme", "y", "read", 5), RealEvent("acme", "y", "read", 5)});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE((*ok)[0].duplicate);
  EXPECT_TRUE((*ok)[1].duplicate);
  EXPECT_EQ((*ok)[1].seq, 1u);
  ExpectChainIntact("acme", 1);
}

// Against a group still being synced: a conflicting repeat is refused, an
// identical one gets the first receipt once the first is durable.
TEST_F(SequencerTest, SameIdDifferentContentInFlightIsRefused) {
  fs_->Close();
  std::promise<absl::StatusOr<std::vector<Receipt>>> a;
  seq_->Submit({RealEvent("acme", "z", "read", 5)},
               [&a](absl::StatusOr<std::vector<Receipt>> r) { a.set_value(std::move(r)); });
  fs_->AwaitBlocked();  // the group holding "z" is being synced
  std::promise<absl::StatusOr<std::vector<Receipt>>> conflict, same;
  seq_->Submit({RealEvent("acme", "z", "write", 5)}, [&](absl::StatusOr<std::vector<Receipt>> r) {
    conflict.set_value(std::move(r));
  });
  seq_->Submit({RealEvent("acme", "z", "read", 5, false, 7)},
               [&](absl::StatusOr<std::vector<Receipt>> r) { same.set_value(std::move(r)); });
  auto rc = conflict.get_future().get();  // refused while linking, before the sync ends
  EXPECT_EQ(rc.status().code(), absl::StatusCode::kAlreadyExists) << rc.status();
  EXPECT_NE(std::string(rc.status().message()).find("seq 1"), std::string::npos)
      << rc.status();
  fs_->Open(/*fail=*/false);
  auto ra = a.get_future().get();
  auto rs = same.get_future().get();
  ASSERT_TRUE(ra.ok()) << ra.status();
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_TRUE((*rs)[0].duplicate);
  EXPECT_EQ((*rs)[0].seq, 1u);
  ExpectChainIntact("acme", 1);
}

// occurred_at left unset gets the daemon's receive time, which differs
// between honest retries: such a retry matches any occurred_at of the first.

// A request reusing the id of an event of an earlier request in the same
// chunk (linked together, tenant by tenant) is refused with that event's
// seq, as for a first stored or in an earlier group.
TEST_F(SequencerTest, SameIdDifferentContentInTheSameChunkNamesTheFirstSeq) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  using Result = absl::StatusOr<std::vector<Receipt>>;
  std::promise<Result> pa, pb, pc;
  seq_->Submit({Event("other", "1")}, [&pa](Result r) { pa.set_value(std::move(r)); },
               [released](rocksdb::WriteBatch*) { released.wait(); });
  for (int i = 0; i < 3000 && metrics_.QueueDepth() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(metrics_.QueueDepth(), 0) << "the first request was not taken";
  seq_->Submit({Event("acme", "y"), RealEvent("acme", "z", "read", 5)},
               [&pb](Result r) { pb.set_value(std::move(r)); });
  seq_->Submit({RealEvent("acme", "z", "write", 5)},
               [&pc](Result r) { pc.set_value(std::move(r)); });
  release.set_value();
  const Result a = pa.get_future().get(), b = pb.get_future().get(),
               c = pc.get_future().get();
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  EXPECT_EQ((*b)[1].seq, 2u);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kAlreadyExists) << c.status();
  EXPECT_NE(std::string(c.status().message()).find("was first stored as seq 2 of tenant acme"),
            std::string::npos) << c.status();
  ExpectChainIntact("acme", 2);
}
// An occurred_at the client gave must match.
TEST_F(SequencerTest, RetryWithDefaultedOccurredAtMatches) {
  auto first = SubmitSync({RealEvent("acme", "d", "read", kStart, /*defaulted=*/true)});
  ASSERT_TRUE(first.ok()) << first.status();
  auto retry = SubmitSync({RealEvent("acme", "d", "read", kStart + 99, /*defaulted=*/true)});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE((*retry)[0].duplicate);
  auto given = SubmitSync({RealEvent("acme", "d", "read", kStart + 99, /*defaulted=*/false)});
  EXPECT_EQ(given.status().code(), absl::StatusCode::kAlreadyExists) << given.status();
  auto other = SubmitSync({RealEvent("acme", "d", "write", kStart + 99, /*defaulted=*/true)});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists) << other.status();
  ExpectChainIntact("acme", 1);
}

// A first record whose body retention pruned no longer holds its id: the
// event is stored as a new record (docs/RETENTION.md).
TEST_F(SequencerTest, PrunedFirstRecordFreesItsId) {
  ASSERT_TRUE(SubmitSync({RealEvent("acme", "p", "read", 5)}).ok());
  rocksdb::ColumnFamilyHandle* bodies = nullptr;
  for (auto* h : storage_->column_families()) {
    if (h->GetName() == store::kBodiesCf) bodies = h;
  }
  ASSERT_NE(bodies, nullptr);
  testing::DeleteBody(storage_->db(), bodies, "acme", 1);
  ASSERT_FALSE(storage_->GetBody("acme", 1)->has_value());
  auto r = SubmitSync({RealEvent("acme", "p", "write", 5)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)[0].duplicate);
  EXPECT_EQ((*r)[0].seq, 2u);
}

}  // namespace
}  // namespace indelible
