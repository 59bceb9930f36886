// End-to-end durability under fault: the real indelibled killed with SIGKILL
// at random moments under load, run on a full disk, and restarted on a data
// directory whose table file was damaged. See docs/ARCHITECTURE.md "Faults".
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::DaemonProcess;
using testing::TempDir;

v1::Event MakeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.set_occurred_at_ns(1700000000000000000ull);
  e.mutable_actor()->set_id("alice@example.com");
  e.mutable_actor()->set_type("user");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("cus_" + id);
  e.set_reason("support ticket");
  e.set_outcome("allowed");
  e.set_source("crm");
  return e;
}

std::unique_ptr<client::Client> Connect(const DaemonProcess& d) {
  client::ClientOptions o;
  o.target = d.target();
  o.deadline = std::chrono::milliseconds(10000);
  auto c = client::Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

// Reads the whole chain of `tenant` and recomputes it from genesis; returns
// entry hashes by seq. Failures are reported as test failures.
std::map<uint64_t, std::string> VerifyChain(client::Client* c,
                                            const std::string& tenant) {
  std::map<uint64_t, std::string> hashes;
  chain::Digest prev = chain::Genesis(tenant);
  uint64_t prev_time = 0, expect_seq = 1;
  auto s = c->ReadRecords(tenant, 1, 0, [&](const v1::Record& r) {
    EXPECT_EQ(r.seq(), expect_seq) << "gap or disorder in " << tenant;
    ++expect_seq;
    EXPECT_GE(r.received_at_ns(), prev_time);
    chain::Digest body = chain::BodyDigest(r.salt(), r.canonical_event());
    EXPECT_EQ(std::string(chain::AsBytes(body)), r.body_digest());
    chain::Digest h =
        chain::EntryHash(tenant, r.seq(), r.received_at_ns(), prev, body);
    EXPECT_EQ(std::string(chain::AsBytes(h)), r.entry_hash())
        << tenant << " seq " << r.seq();
    prev = h;
    prev_time = r.received_at_ns();
    hashes[r.seq()] = r.entry_hash();
    return true;
  });
  EXPECT_TRUE(s.ok()) << tenant << ": " << s;
  auto head = c->GetHead(tenant);
  EXPECT_TRUE(head.ok()) << head.status();
  if (head.ok()) {
    EXPECT_EQ(head->seq(), hashes.size()) << tenant;
    EXPECT_EQ(head->head_hash(), std::string(chain::AsBytes(prev))) << tenant;
  }
  return hashes;
}

// The tree the daemon serves after a restart is the tree of its records:
// the v2 checkpoint it signs at the head (polled, bounded) has the root
// recomputed from the records read over the wire, and an inclusion proof of
// the last record, built from the stored nodes, verifies against it.
void ExpectServedRootIsRecomputed(client::Client* c, const DaemonProcess& d,
                                  const std::string& tenant) {
  std::vector<chain::Digest> leaves;
  auto s = c->ReadRecords(tenant, 1, 0, [&](const v1::Record& r) {
    chain::Digest entry{};
    EXPECT_TRUE(chain::DigestFromBytes(r.entry_hash(), &entry));
    leaves.push_back(chain::LeafHash(entry, r.event().category()));
    return true;
  });
  ASSERT_TRUE(s.ok()) << s;
  if (leaves.empty()) return;
  auto stub = v1::AuditLog::NewStub(
      grpc::CreateChannel(d.target(), grpc::InsecureChannelCredentials()));
  v1::Checkpoint cp;
  for (int i = 0; i < 500 && cp.seq() != leaves.size(); ++i) {
    v1::GetCheckpointRequest req;
    req.set_tenant(tenant);
    req.set_version(2);
    req.set_min_seq(leaves.size());
    grpc::ClientContext ctx;
    if (!stub->GetCheckpoint(&ctx, req, &cp).ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_EQ(cp.seq(), leaves.size()) << tenant << ": no v2 checkpoint at the head";
  const chain::Digest root = chain::MerkleRoot(leaves);
  EXPECT_EQ(cp.root_hash(), std::string(chain::AsBytes(root)))
      << tenant << ": the served root is not the root of the records";
  v1::GetInclusionProofRequest req;
  req.set_tenant(tenant);
  req.set_seq(leaves.size());
  req.set_tree_size(leaves.size());
  v1::GetInclusionProofResponse proof;
  grpc::ClientContext ctx;
  grpc::Status st = stub->GetInclusionProof(&ctx, req, &proof);
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::vector<chain::Digest> hashes;
  for (const auto& h : proof.hashes()) {
    hashes.emplace_back();
    EXPECT_TRUE(chain::DigestFromBytes(h, &hashes.back()));
  }
  EXPECT_TRUE(chain::VerifyInclusion(leaves.size() - 1, leaves.size(), leaves.back(), hashes,
                                     root)
                  .ok())
      << tenant << ": the stored tree does not give the records' root";
}

// ---------------------------------------------------------------------------
// 1. kill -9 at random moments under load.

TEST(FaultE2E, KillDashNineAtRandomMomentsLosesNoAcknowledgedEvent) {
  const unsigned seed = [] {
    if (const char* s = getenv("INDELIBLE_FAULT_SEED")) return unsigned(std::stoul(s));
    return unsigned(std::random_device{}());
  }();
  std::cout << "kill -9 seed " << seed << " (INDELIBLE_FAULT_SEED to replay)"
            << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(20, 200);

  TempDir dir;
  std::ofstream(dir.Sub("config.yaml")) << "checkpoint_interval_ms: 50\n";
  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--config", dir.Sub("config.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  std::unique_ptr<DaemonProcess> daemon = std::move(*d);

  const std::vector<std::string> tenants = {"acme", "globex"};
  // Every acknowledged receipt, over all rounds.
  std::map<std::string, std::map<uint64_t, std::string>> acked;
  size_t total_acked = 0;
  constexpr int kRounds = 20, kThreads = 4;
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    const int delay = delay_ms(rng);
    std::mutex mu;
    std::atomic<int> appends{0};
    {
      auto c = Connect(*daemon);
      ASSERT_NE(c, nullptr);
      std::atomic<bool> stop{false};
      std::vector<std::thread> writers;
      for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
          const std::string& tenant = tenants[t % tenants.size()];
          for (int i = 0; !stop.load(); ++i) {
            const std::string id = "r" + std::to_string(round) + "-t" +
                                   std::to_string(t) + "-" + std::to_string(i);
            std::vector<v1::Receipt> got;
            if (i % 4 == 3) {
              auto r = c->AppendBatch({MakeEvent(tenant, id + "a"),
                                       MakeEvent(tenant, id + "b")});
              if (!r.ok()) return;  // the daemon died under us
              got = *r;
            } else {
              auto r = c->Append(MakeEvent(tenant, id));
              if (!r.ok()) return;
              got.push_back(*r);
            }
            appends.fetch_add(1);
            std::lock_guard<std::mutex> l(mu);
            for (const auto& rc : got) {
              EXPECT_FALSE(rc.duplicate());
              auto [it, inserted] = acked[tenant].emplace(rc.seq(), rc.entry_hash());
              EXPECT_TRUE(inserted) << tenant << " seq " << rc.seq()
                                    << " acknowledged twice (round " << round << ")";
            }
            ++total_acked;
          }
        });
      }
      // The kill moment: `delay` ms after the load starts.
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      daemon->Kill();
      stop = true;
      for (auto& w : writers) w.join();
    }
    ASSERT_TRUE(daemon->Restart().ok()) << daemon->Log();
    {
      auto c = Connect(*daemon);
      ASSERT_NE(c, nullptr);
      for (const std::string& tenant : tenants) {
        auto chain_hashes = VerifyChain(c.get(), tenant);
        for (const auto& [seq, hash] : acked[tenant]) {
          auto it = chain_hashes.find(seq);
          ASSERT_NE(it, chain_hashes.end())
              << "round " << round << " (seed " << seed << ", kill after "
              << delay << " ms): " << tenant << " lost acknowledged seq " << seq;
          ASSERT_EQ(it->second, hash)
              << "round " << round << ": " << tenant << " seq " << seq
              << " has a different entry hash than its receipt";
        }
        ExpectServedRootIsRecomputed(c.get(), *daemon, tenant);
      }
      if (::testing::Test::HasFailure()) {
        FAIL() << "round " << round << " (seed " << seed << ", kill after "
               << delay << " ms) failed";
      }
    }
    std::cout << "round " << round << ": kill after " << delay << " ms, "
              << appends.load() << " calls acknowledged" << std::endl;
  }
  std::cout << "acknowledged calls " << total_acked << ", chains: acme "
            << acked["acme"].size() << ", globex " << acked["globex"].size()
            << " records, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started).count()
            << " ms" << std::endl;
  EXPECT_GT(total_acked, 0u);

  EXPECT_EQ(daemon->Stop(), 0) << daemon->Log();
  auto check = testing::RunCommand(
      {testing::BinPath("indelible-verify"), "check", "--data-dir", dir.Sub("data"), "--key",
       testing::VerifierKeyOf(dir.Sub("data.signing-key.pem"))});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// ---------------------------------------------------------------------------
// 2. Full disk: the data directory on a 16 MiB tmpfs, filled by a file of ours.

// Mounts a size-limited tmpfs on construction, unmounts it on destruction.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    const std::string opts = "size=" + size;
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      error_ = std::string("mount -t tmpfs -o ") + opts + " tmpfs " + dir +
               ": " + strerror(errno) +
               " (the full-disk test needs root or CAP_SYS_ADMIN to mount a "
               "size-limited tmpfs)";
    } else {
      mounted_ = true;
    }
  }
  ~TmpfsMount() {
    if (mounted_ && umount2(dir_.c_str(), MNT_DETACH) != 0) {
      std::cerr << "umount " << dir_ << ": " << strerror(errno) << std::endl;
    }
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system is full; returns the bytes written.
size_t FillDisk(const std::string& path) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return 0;
  const std::string chunk(64 << 10, 'x');
  size_t written = 0;
  for (;;) {
    size_t n = fwrite(chunk.data(), 1, chunk.size(), f);
    written += n;
    if (n < chunk.size() || fflush(f) != 0) break;
  }
  fclose(f);
  return written;
}

// ---------------------------------------------------------------------------
// The write-ahead log, checksummed with this project's CRC32C
// (verifier/store/crc32c.h), replays with RocksDB's own ldb (Debian's
// librocksdb and its software CRC32C): under point-in-time recovery a
// record whose checksum does not match ends the replay there, so a wrong
// CRC would lose the killed daemon's events.

TEST(FaultE2E, RocksDbsOwnLdbReplaysTheLogOfAKilledDaemon) {
  TempDir dir;
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data"), .extra_args = {}, .log_file = {}});
  ASSERT_TRUE(d.ok()) << d.status();
  std::unique_ptr<DaemonProcess> daemon = std::move(*d);
  const std::string want_crc =
      __builtin_cpu_supports("sse4.2") ? "crc32c=sse4.2" : "crc32c=table";
  EXPECT_TRUE(absl::StrContains(daemon->Log(), want_crc)) << daemon->Log();

  // Requests of 100 events (about 80 KB each): log records that span the
  // log's 32 KiB blocks.
  constexpr int kRequests = 3, kPerRequest = 100;
  auto c = Connect(*daemon);
  ASSERT_NE(c, nullptr);
  for (int r = 0; r < kRequests; ++r) {
    std::vector<v1::Event> events;
    for (int i = 0; i < kPerRequest; ++i) {
      v1::Event e = MakeEvent("acme", "w" + std::to_string(r) + "-" + std::to_string(i));
      e.set_reason(std::string(600, 'a' + i % 26));
      events.push_back(std::move(e));
    }
    auto got = c->AppendBatch(events);
    ASSERT_TRUE(got.ok()) << got.status();
  }
  daemon->Kill();  // nothing flushed: the events are in the log only

  std::filesystem::copy(dir.Sub("data"), dir.Sub("copy"),
                        std::filesystem::copy_options::recursive);
  for (const auto& f : std::filesystem::directory_iterator(dir.Sub("copy"))) {
    if (f.path().extension() != ".log") continue;
    testing::CommandResult dump = testing::RunCommand(
        {"/usr/bin/ldb", "dump_wal", "--walfile=" + f.path().string()});
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    for (const char* bad : {"orrupt", "checksum", "mismatch"}) {
      EXPECT_FALSE(absl::StrContains(dump.out + dump.err, bad)) << f.path() << ": " << bad;
    }
  }
  testing::CommandResult scan = testing::RunCommand(
      {"/usr/bin/ldb", "--db=" + dir.Sub("copy"),
       std::string("--column_family=") + store::kSkeletonsCf, "--hex", "scan"});
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  const std::string acme = "0x" + absl::AsciiStrToUpper(chain::ToHex(
                                      store::SeqKey("acme", 1).substr(0, 5)));
  // Rows are runs of skeletons (layout.h): "0x<key> : 0x<run>".
  uint64_t skeletons = 0, next = 1;
  for (absl::string_view line : absl::StrSplit(scan.out, '\n')) {
    if (!absl::StartsWith(line, acme)) continue;
    const size_t arrow = line.find(" : 0x");
    ASSERT_NE(arrow, absl::string_view::npos) << line;
    const std::string row = absl::HexStringToBytes(line.substr(arrow + 5));
    store::BodyRun run(next, row);
    uint64_t seq;
    std::string_view skeleton;
    while (run.Next(&seq, &skeleton)) {
      EXPECT_EQ(seq, next);
      EXPECT_GE(skeleton.size(), store::kSkeletonSize);
      ++skeletons;
      ++next;
    }
    EXPECT_FALSE(run.malformed()) << line.substr(0, 80);
  }
  EXPECT_EQ(skeletons, uint64_t{kRequests * kPerRequest}) << scan.out.substr(0, 400);
}

// Polls the standard health service (bounded) until it reports `want`.
bool WaitForHealth(const DaemonProcess& d,
                   grpc::health::v1::HealthCheckResponse::ServingStatus want,
                   std::string* last) {
  auto channel = grpc::CreateChannel(d.target(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = health->Check(&ctx, req, &resp);
    *last = s.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())
                   : s.error_message();
    if (s.ok() && resp.status() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(FaultE2E, FullDiskRefusesAppendsHarmsNothingAndRecoversWhenSpaceIsFreed) {
  TempDir dir;
  TmpfsMount mnt(dir.Sub("mnt"), "16m");
  ASSERT_TRUE(mnt.mounted()) << mnt.error();
  {
    // RocksDB resumes after a full disk once a memtable's worth of space is
    // free: keep that well below the volume's 16 MiB.
    std::ofstream(dir.Sub("config.yaml")) << "write_buffer_bytes: 1048576\n";
    auto d = DaemonProcess::Start({.data_dir = dir.Sub("mnt") + "/data",
                                   .extra_args = {"--config", dir.Sub("config.yaml")},
                                   .log_file = dir.Sub("daemon.log")});
    ASSERT_TRUE(d.ok()) << d.status();
    std::unique_ptr<DaemonProcess> daemon = std::move(*d);
    const std::vector<std::string> tenants = {"acme", "globex"};
    std::map<std::string, std::map<uint64_t, std::string>> acked;
    {
      auto c = Connect(*daemon);
      ASSERT_NE(c, nullptr);
      for (int i = 0; i < 50; ++i) {
        for (const auto& tenant : tenants) {
          auto r = c->Append(MakeEvent(tenant, "before-" + std::to_string(i)));
          ASSERT_TRUE(r.ok()) << r.status();
          acked[tenant][r->seq()] = r->entry_hash();
        }
      }

      const std::string filler = dir.Sub("mnt") + "/filler";
      const size_t filled = FillDisk(filler);
      std::cout << "filler: " << filled << " bytes" << std::endl;
      ASSERT_GT(filled, 0u);

      // Appends soon fail with RESOURCE_EXHAUSTED (RocksDB preallocates
      // WAL space, so the first ones may still fit).
      absl::Status refused;
      int accepted_while_full = 0;
      for (int i = 0; i < 1000 && refused.ok(); ++i) {
        const std::string& tenant = tenants[i % 2];
        std::vector<v1::Event> batch;
        for (int j = 0; j < 20; ++j) {
          batch.push_back(MakeEvent(tenant, "full-" + std::to_string(i) + "-" +
                                                std::to_string(j)));
        }
        auto r = c->AppendBatch(batch);
        if (r.ok()) {
          for (const auto& rc : *r) acked[tenant][rc.seq()] = rc.entry_hash();
          accepted_while_full += r->size();
        } else {
          refused = r.status();
        }
      }
      std::cout << "accepted after filling: " << accepted_while_full
                << ", then: " << refused << std::endl;
      ASSERT_EQ(refused.code(), absl::StatusCode::kResourceExhausted)
          << refused << "\n" << daemon->Log();
      // Told apart from a request over the 16 MiB message limit, which gRPC
      // refuses with RESOURCE_EXHAUSTED too (append_e2e_test).
      EXPECT_TRUE(absl::StartsWith(refused.message(), "disk full: ")) << refused;
      // Readiness follows: NOT_SERVING while the disk is full.
      std::string health;
      EXPECT_TRUE(WaitForHealth(*daemon, grpc::health::v1::HealthCheckResponse::NOT_SERVING,
                                &health))
          << "health stayed " << health;
      // And keep failing while the disk stays full, without changing a head.
      std::map<std::string, uint64_t> heads_while_full;
      for (const auto& tenant : tenants) {
        heads_while_full[tenant] = c->GetHead(tenant)->seq();
      }
      for (int i = 0; i < 5; ++i) {
        auto r = c->AppendBatch({MakeEvent("acme", "still-full-" + std::to_string(i)),
                                 MakeEvent("globex", "still-full-" + std::to_string(i))});
        ASSERT_FALSE(r.ok()) << "an append succeeded on a full disk";
        EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted)
            << r.status();
        EXPECT_TRUE(absl::StartsWith(r.status().message(), "disk full: ")) << r.status();
      }
      // Nothing stored is harmed: every acknowledged record reads back and
      // the chains verify.
      for (const auto& tenant : tenants) {
        auto chain_hashes = VerifyChain(c.get(), tenant);
        EXPECT_EQ(chain_hashes.size(), heads_while_full[tenant]) << tenant;
        for (const auto& [seq, hash] : acked[tenant]) {
          ASSERT_EQ(chain_hashes[seq], hash) << tenant << " seq " << seq;
        }
      }

      // Free the space: appends succeed again (waiting, bounded, for the
      // daemon to clear the storage error).
      ASSERT_EQ(unlink(filler.c_str()), 0) << strerror(errno);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      absl::StatusOr<v1::Receipt> after = absl::UnknownError("not tried");
      int attempts = 0;
      while (std::chrono::steady_clock::now() < deadline) {
        ++attempts;
        after = c->Append(MakeEvent("acme", "after-free-" + std::to_string(attempts)));
        if (after.ok()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ASSERT_TRUE(after.ok()) << "appends still fail after freeing space: "
                              << after.status() << "\n" << daemon->Log();
      std::cout << "recovered after " << attempts << " attempt(s)" << std::endl;
      EXPECT_TRUE(WaitForHealth(*daemon, grpc::health::v1::HealthCheckResponse::SERVING,
                                &health))
          << "health stayed " << health;
      acked["acme"][after->seq()] = after->entry_hash();
      for (int i = 0; i < 20; ++i) {
        const std::string& tenant = tenants[i % 2];
        auto r = c->Append(MakeEvent(tenant, "recovered-" + std::to_string(i)));
        ASSERT_TRUE(r.ok()) << r.status();
        acked[tenant][r->seq()] = r->entry_hash();
      }
      for (const auto& tenant : tenants) {
        auto chain_hashes = VerifyChain(c.get(), tenant);
        // A failed write may have reached the WAL: more records than were
        // acknowledged is allowed, a missing acknowledged one is not.
        EXPECT_GE(chain_hashes.size(), acked[tenant].size()) << tenant;
        for (const auto& [seq, hash] : acked[tenant]) {
          ASSERT_EQ(chain_hashes[seq], hash) << tenant << " seq " << seq;
        }
      }
    }
    EXPECT_EQ(daemon->Stop(), 0) << daemon->Log();
    auto check = testing::RunCommand(
        {testing::BinPath("indelible-verify"), "check", "--data-dir", dir.Sub("mnt") + "/data",
         "--key", testing::VerifierKeyOf(dir.Sub("mnt") + "/data.signing-key.pem")});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
}

// ---------------------------------------------------------------------------
// 3. A damaged table file: the daemon quarantines the tenant, the verifier
// names it.

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(FaultE2E, DamagedTableFileQuarantinesItsTenantAndTheVerifierNamesIt) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto d = DaemonProcess::Start({.data_dir = data});
  ASSERT_TRUE(d.ok()) << d.status();
  std::unique_ptr<DaemonProcess> daemon = std::move(*d);
  // Each tenant's rows reach their own table files: RocksDB writes the
  // memtables recovered from the WAL to new L0 files when it opens the
  // directory, so a stop and a start after each tenant's appends separate
  // them.
  for (const std::string tenant : {"broken", "healthy"}) {
    {
      auto c = Connect(*daemon);
      ASSERT_NE(c, nullptr);
      for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(c->Append(MakeEvent(tenant, "e" + std::to_string(i))).ok());
      }
    }
    ASSERT_EQ(daemon->Stop(), 0) << daemon->Log();
    ASSERT_TRUE(daemon->Restart().ok()) << daemon->Log();
  }
  ASSERT_EQ(daemon->Stop(), 0) << daemon->Log();

  // Damage is isolated at table-file granularity: a seek into a level-0 file
  // reads the data block at or after its target, so a damaged file also
  // fails scans of tenants whose keys sort inside or before its range.
  // "broken" sorts before the other tenants, whose reads then never touch
  // its data blocks (docs/ARCHITECTURE.md, Faults).
  //
  // The skeletons table file holding only "broken" (keys are stored
  // uncompressed; the properties block names the column family).
  std::vector<std::string> candidates;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    if (entry.path().extension() != ".sst") continue;
    const std::string bytes = ReadBytes(entry.path());
    if (bytes.find("skeletons") != std::string::npos &&
        bytes.find("broken") != std::string::npos &&
        bytes.find("healthy") == std::string::npos) {
      candidates.push_back(entry.path());
    }
  }
  ASSERT_EQ(candidates.size(), 1u) << "want one skeletons table of \"broken\"";
  {
    // Flip 16 bytes inside its data block (which starts the file).
    std::string bytes = ReadBytes(candidates[0]);
    const size_t at = bytes.find("broken") + bytes.size() / 8;
    ASSERT_LT(at + 16, bytes.size());
    for (size_t i = at; i < at + 16; ++i) bytes[i] = static_cast<char>(~bytes[i]);
    std::filesystem::permissions(candidates[0], std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
    std::ofstream(candidates[0], std::ios::binary | std::ios::trunc) << bytes;
    std::cout << "damaged " << candidates[0] << " (" << bytes.size()
              << " bytes) at offset " << at << std::endl;
  }

  ASSERT_TRUE(daemon->Restart().ok()) << daemon->Log();
  {
    auto c = Connect(*daemon);
    ASSERT_NE(c, nullptr);
    auto r = c->Append(MakeEvent("broken", "after-damage"));
    ASSERT_FALSE(r.ok()) << "appended to a damaged chain: seq " << r->seq();
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_NE(std::string(r.status().message()).find("broken"), std::string::npos)
        << r.status();
    auto head = c->GetHead("broken");
    EXPECT_EQ(head.status().code(), absl::StatusCode::kDataLoss) << head.status();
    // A batch touching it stores nothing, also for the healthy tenant.
    auto mixed = c->AppendBatch({MakeEvent("healthy", "mixed"),
                                 MakeEvent("broken", "mixed")});
    EXPECT_EQ(mixed.status().code(), absl::StatusCode::kDataLoss) << mixed.status();
    // Other tenants keep working.
    auto ok = c->Append(MakeEvent("healthy", "after-damage"));
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(ok->seq(), 21u);
    EXPECT_EQ(VerifyChain(c.get(), "healthy").size(), 21u);
    auto fresh = c->Append(MakeEvent("newcomer", "first"));
    ASSERT_TRUE(fresh.ok()) << fresh.status() << "\n" << daemon->Log() << ReadBytes(data + "/LOG");
    EXPECT_EQ(fresh->seq(), 1u);
  }
  // A compaction may have read the damaged file meanwhile (RocksDB compacts
  // bottommost files when snapshots are released): writes went on anyway.
  std::cout << "a compaction met the damaged file: "
            << (daemon->Log().find("event=storage_corruption") != std::string::npos
                    ? "yes" : "no")
            << std::endl;
  EXPECT_NE(daemon->Log().find("event=tenant_quarantined tenant=broken"),
            std::string::npos)
      << daemon->Log();
  ASSERT_EQ(daemon->Stop(), 0) << daemon->Log();

  auto check = testing::RunCommand(
      {testing::BinPath("indelible-verify"), "check", "--data-dir", data});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE((check.out + check.err).find("broken"), std::string::npos)
      << check.out << check.err;
  std::cout << "indelible-verify check: exit " << check.exit_code << "\n"
            << check.out << check.err << std::endl;
}

// Rows of skeletons joined by hand with RocksDB's own `ldb`, every hash
// still holding: the daemon reads a skeleton only from the rows keyed
// within 63 seqs below it (layout.h, SkeletonRunFloor), so the records
// beyond that reach are lost to it. The verifier names the first of them
// `malformed`, and the daemon answers DataLoss rather than serve them.
TEST(FaultE2E, SkeletonRowsJoinedWithLdbAreNamedAndNotServed) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto d = DaemonProcess::Start({.data_dir = data});
  ASSERT_TRUE(d.ok()) << d.status();
  std::unique_ptr<DaemonProcess> daemon = std::move(*d);
  {
    auto c = Connect(*daemon);
    ASSERT_NE(c, nullptr);
    std::vector<v1::Event> events;
    for (int i = 0; i < 100; ++i) events.push_back(MakeEvent("acme", "e" + std::to_string(i)));
    ASSERT_TRUE(c->AppendBatch(events).ok());
  }
  ASSERT_EQ(daemon->Stop(), 0) << daemon->Log();
  auto check = [&] {
    return testing::RunCommand(
        {testing::BinPath("indelible-verify"), "check", "--data-dir", data});
  };
  const testing::CommandResult clean = check();
  ASSERT_NE(clean.exit_code, 1) << clean.out << clean.err;

  // acme's rows of skeletons (runs of at most 64: 1..64 and 65..100).
  const std::string cf = std::string("--column_family=") + store::kSkeletonsCf;
  testing::CommandResult scan = testing::RunCommand(
      {"/usr/bin/ldb", "--db=" + data, cf, "--hex", "scan",
       "--from=0x" + chain::ToHex(store::TenantPrefix("acme"))});
  ASSERT_EQ(scan.exit_code, 0) << scan.out << scan.err;
  std::vector<std::pair<std::string, std::string>> rows;
  for (absl::string_view line : absl::StrSplit(scan.out, '\n', absl::SkipEmpty())) {
    const size_t arrow = line.find(" : 0x");
    ASSERT_TRUE(absl::StartsWith(line, "0x") && arrow != absl::string_view::npos) << line;
    rows.emplace_back(absl::HexStringToBytes(line.substr(2, arrow - 2)),
                      absl::HexStringToBytes(line.substr(arrow + 5)));
  }
  ASSERT_EQ(rows.size(), 2u) << scan.out;
  ASSERT_EQ(rows[0].first, store::SeqKey("acme", 1));
  ASSERT_EQ(rows[1].first, store::SeqKey("acme", 65));
  for (const std::vector<std::string>& edit :
       {std::vector<std::string>{"delete", "0x" + chain::ToHex(rows[1].first)},
        std::vector<std::string>{"put", "0x" + chain::ToHex(rows[0].first),
                                 "0x" + chain::ToHex(rows[0].second + rows[1].second)}}) {
    std::vector<std::string> argv = {"/usr/bin/ldb", "--db=" + data, cf, "--hex"};
    argv.insert(argv.end(), edit.begin(), edit.end());
    testing::CommandResult r = testing::RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  const testing::CommandResult joined = check();
  EXPECT_EQ(joined.exit_code, 1) << joined.out << joined.err;
  EXPECT_TRUE(absl::StrContains(joined.out + joined.err, "acme seq 65 malformed"))
      << joined.out << joined.err;

  ASSERT_TRUE(daemon->Restart().ok()) << daemon->Log();
  auto c = Connect(*daemon);
  ASSERT_NE(c, nullptr);
  uint64_t last = 0;
  absl::Status read = c->ReadRecords("acme", 60, 0, [&](const v1::Record& r) {
    last = r.seq();
    return true;
  });
  EXPECT_EQ(read.code(), absl::StatusCode::kDataLoss) << read;
  EXPECT_LT(last, 65u) << "served a record beyond its row's reach";
}

}  // namespace
}  // namespace indelible
