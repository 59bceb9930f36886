// Backup and restore through the real daemon, the real `indelible` command
// and the real verifier (which restores): a backup taken under load restores into a fresh
// directory, verifies, and a daemon on the restored copy extends the chains
// from the backed-up heads. Retention is driven by the daemon's test clock.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

namespace fs = std::filesystem;
using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

constexpr uint64_t kDay = 86400ull * 1000000000ull;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class BackupE2E : public ::testing::Test {
 protected:
  void Start(const std::string& yaml, std::vector<std::string> extra = {}) {
    std::ofstream(dir_.Sub("config.yaml")) << yaml;
    extra.insert(extra.begin(), {"--config", dir_.Sub("config.yaml")});
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data"), .extra_args = extra});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
  }
  std::string BackupConfig(const std::string& more = "") {
    return "backup:\n  dir: " + dir_.Sub("backups") + "\n" + more;
  }
  testing::CommandResult Cli(const std::string& target, std::vector<std::string> args) {
    args.insert(args.begin(), {BinPath("indelible"), "--target", target});
    return RunCommand(args);
  }
  nlohmann::json Backup(const std::string& label = "") {
    std::vector<std::string> args = {"backup", "--json"};
    if (!label.empty()) args.insert(args.end(), {"--label", label});
    auto r = Cli(daemon_->target(), args);
    EXPECT_EQ(r.exit_code, 0) << r.err << daemon_->Log();
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }
  void Advance(uint64_t ns) {
    auto channel = grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials());
    auto admin = v1::Admin::NewStub(channel);
    grpc::ClientContext ctx;
    v1::AdvanceTestClockRequest req;
    req.set_nanos(ns);
    v1::AdvanceTestClockResponse resp;
    ASSERT_TRUE(admin->AdvanceTestClock(&ctx, req, &resp).ok());
  }
  // `indelible-verify check` of `dir` trusting `key`; the parsed report.
  nlohmann::json Check(const std::string& dir, const std::string& key) {
    auto r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir, "--key", key,
                         "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return nlohmann::json::parse(r.out);
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

// Appends to a few tenants from a background thread until stopped.
class Load {
 public:
  explicit Load(const std::string& target)
      : stub_(v1::AuditLog::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))),
        thread_([this] { Run(); }) {}
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t acked() const { return acked_.load(); }
  uint64_t failed() const { return failed_.load(); }
  // Waits (bounded) until `n` more appends than now were acknowledged.
  bool WaitForMore(uint64_t n) {
    const uint64_t want = acked() + n;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acked() < want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return acked() >= want;
  }

 private:
  void Run() {
    static const char* kTenants[] = {"acme", "beta", "gamma"};
    for (uint64_t i = 0; !stop_; ++i) {
      v1::AppendBatchRequest req;
      for (int j = 0; j < 5; ++j) {
        auto* e = req.add_events();
        e->set_tenant(kTenants[(i + j) % 3]);
        e->set_event_id("load-" + std::to_string(i) + "-" + std::to_string(j));
        e->mutable_actor()->set_id("loadgen");
        e->set_action("customer.read");
        e->set_reason("backup under load");
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::AppendBatchResponse resp;
      if (stub_->AppendBatch(&ctx, req, &resp).ok()) {
        acked_ += resp.receipts_size();
      } else {
        ++failed_;
      }
    }
  }

  std::unique_ptr<v1::AuditLog::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> failed_{0};
  std::thread thread_;
};

// The record at `seq` of `tenant`, as the daemon at `target` serves it.
v1::Record ReadOne(const std::string& target, const std::string& tenant, uint64_t seq) {
  auto stub = v1::AuditLog::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::ReadRecordsRequest req;
  req.set_tenant(tenant);
  req.set_from_seq(seq);
  req.set_limit(1);
  auto reader = stub->ReadRecords(&ctx, req);
  v1::Record r, rest;
  EXPECT_TRUE(reader->Read(&r));
  while (reader->Read(&rest)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  return r;
}

TEST_F(BackupE2E, BackupUnderLoadRestoresVerifiesAndContinues) {
  Start(BackupConfig());
  Load load(daemon_->target());
  ASSERT_TRUE(load.WaitForMore(100));
  const nlohmann::json b = Backup("under-load");
  ASSERT_FALSE(b.is_null());
  // Appends went on after (and while) the backup was taken.
  ASSERT_TRUE(load.WaitForMore(100));
  load.Stop();
  EXPECT_EQ(load.failed(), 0u);

  const std::string path = b["path"];
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(dir_.Sub("backups")));
  EXPECT_NE(path.find("-under-load"), std::string::npos);
  ASSERT_EQ(b["tenants"].size(), 3u);
  // Each captured head is a record of the live chain: the backup is a
  // consistent prefix of what the daemon went on to write.
  std::map<std::string, std::pair<uint64_t, std::string>> heads;
  for (const auto& t : b["tenants"]) {
    const std::string tenant = t["tenant"];
    const uint64_t seq = t["seq"];
    ASSERT_GT(seq, 0u);
    EXPECT_LE(t["checkpoint_seq"].get<uint64_t>(), seq);
    EXPECT_EQ(chain::ToHex(ReadOne(daemon_->target(), tenant, seq).entry_hash()),
              t["head_hash"]);
    heads[tenant] = {seq, t["head_hash"]};
  }
  const std::string key_file = ReadText(fs::path(path) / "verifier-key.txt");
  const std::string verifier_key = key_file.substr(0, key_file.find('\n'));
  {
    auto r = Cli(daemon_->target(), {"public-key"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, verifier_key + "\n");
  }

  // The verifier checks the backup directly, and finds exactly its heads.
  nlohmann::json check = Check(path, verifier_key);
  EXPECT_EQ(check["totals"]["findings"], 0);
  EXPECT_TRUE(check["signatures_checked"]);
  for (const auto& t : check["tenants"]) {
    EXPECT_GT(t["checkpoints"]["signatures_verified"].get<uint64_t>(), 0u);
    EXPECT_EQ(t["head_seq"], heads[t["tenant"]].first);
    EXPECT_EQ(t["head_hash"], heads[t["tenant"]].second);
  }

  // The live daemon is stopped: the restore does not need it.
  EXPECT_EQ(daemon_->Stop(), 0);
  const std::string restored = dir_.Sub("restored");
  auto r = RunCommand({BinPath("indelible-verify"), "restore", "--from", path, "--data-dir",
                       restored, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto restore = nlohmann::json::parse(r.out);
  EXPECT_EQ(restore["tenants"], 3);
  // No private key travels with a backup: the restored daemon is given the
  // key it signed with, as restore's output says.
  EXPECT_FALSE(restore.contains("signing_key_restored"));
  EXPECT_FALSE(fs::exists(fs::path(path) / "signing-key.pem"));
  EXPECT_FALSE(fs::exists(fs::path(restored) / "signing-key.pem"));
  fs::copy_file(dir_.Sub("data.signing-key.pem"), restored + ".signing-key.pem");
  EXPECT_FALSE(fs::exists(fs::path(restored) / "indelible-backup.json"));
  check = Check(restored, verifier_key);
  EXPECT_EQ(check["totals"]["findings"], 0);

  // A daemon on the restored copy, with the same configuration (a different
  // one would be recorded first), extends each chain from the backed-up head.
  auto d = DaemonProcess::Start(
      {.data_dir = restored, .extra_args = {"--config", dir_.Sub("config.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  for (const auto& [tenant, head] : heads) {
    r = Cli((*d)->target(), {"append", "--tenant", tenant, "--actor-id", "alice", "--action",
                             "customer.read", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["seq"], head.first + 1);
    // Its predecessor is the backed-up head.
    EXPECT_EQ(chain::ToHex(ReadOne((*d)->target(), tenant, head.first).entry_hash()),
              head.second);
  }
  r = Cli((*d)->target(), {"public-key"});
  EXPECT_EQ(r.out, verifier_key + "\n");
  EXPECT_EQ((*d)->Stop(), 0);
  check = Check(restored, verifier_key);
  EXPECT_EQ(check["totals"]["findings"], 0);
  for (const auto& t : check["tenants"]) {
    EXPECT_EQ(t["head_seq"], heads[t["tenant"]].first + 1);
  }
}

TEST_F(BackupE2E, RetentionRemovesOldBackupsAsTheClockAdvances) {
  Start(BackupConfig("  keep_days: 14\n"),
        {"--testing-manual-clock", "--metrics-listen", "127.0.0.1:0"});
  ASSERT_EQ(Cli(daemon_->target(), {"append", "--tenant", "acme", "--actor-id", "a",
                                    "--action", "x"})
                .exit_code,
            0);
  const std::string first = Backup()["name"];
  Advance(10 * kDay);
  const std::string second = Backup()["name"];
  Advance(5 * kDay);  // the first is now 15 days old
  const nlohmann::json third = Backup();
  EXPECT_EQ(third["pruned"], nlohmann::json::array({first}));
  EXPECT_EQ(Entries(dir_.Sub("backups")),
            (std::vector<std::string>{second, third["name"].get<std::string>()}));
  // Long after, the newest survives its own retention.
  Advance(100 * kDay);
  const nlohmann::json fourth = Backup();
  EXPECT_EQ(fourth["pruned"].size(), 2u);
  EXPECT_EQ(Entries(dir_.Sub("backups")),
            (std::vector<std::string>{fourth["name"].get<std::string>()}));

  // What monitoring sees.
  const int metrics_port = std::stoi(ReadText(dir_.Sub("data") + ".port.metrics"));
  httplib::Client http("127.0.0.1", metrics_port);
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("indelible_backups_total{outcome=\"ok\"} 4\n"), std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("indelible_backups_total{outcome=\"failed\"} 0\n"),
            std::string::npos);
  const uint64_t created_s =
      std::stoull(fourth["created_at_ns"].get<std::string>()) / 1000000000;
  EXPECT_NE(res->body.find("indelible_backup_last_success_timestamp_seconds " +
                           std::to_string(created_s) + "\n"),
            std::string::npos)
      << res->body;
}

TEST_F(BackupE2E, ScheduledBackupsFollowTheDaemonClock) {
  Start(BackupConfig("  interval: 24h\n  keep_count: 2\n"), {"--testing-manual-clock"});
  // Finished backups only (an unfinished one is named .tmp-...).
  auto finished = [&] {
    std::vector<std::string> out;
    if (!fs::exists(dir_.Sub("backups"))) return out;
    for (const auto& n : Entries(dir_.Sub("backups"))) {
      if (n.rfind(".tmp-", 0) != 0) out.push_back(n);
    }
    return out;
  };
  // The schedule looks at the clock every 100 ms of real time under the test
  // clock: poll for the outcome, bounded.
  auto wait_until = [&](auto done) {
    for (int i = 0; i < 300 && !done(finished()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done(finished());
  };
  EXPECT_TRUE(finished().empty());
  Advance(kDay);
  ASSERT_TRUE(wait_until([](const auto& f) { return f.size() == 1; }));
  Advance(kDay);
  ASSERT_TRUE(wait_until([](const auto& f) { return f.size() == 2; }));
  const std::string oldest = finished().front();
  Advance(kDay);
  // keep_count 2: the third replaces the oldest.
  ASSERT_TRUE(wait_until(
      [&](const auto& f) { return f.size() == 2 && f.front() != oldest; }));
}

// Files under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && ReadText(e.path()).find(needle) != std::string::npos) {
      hits.push_back(e.path().string());
    }
  }
  return hits;
}

// Back up, purge, restore the older backup: the purge register beside the
// backups wins, the tenant stays purged and its content is neither served
// nor in the restored files.
TEST_F(BackupE2E, RestoringAnOlderBackupNeverBringsBackAPurgedTenant) {
  Start(BackupConfig());
  auto stub = v1::AuditLog::NewStub(
      grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials()));
  auto append = [&](const std::string& tenant, const std::string& id) {
    grpc::ClientContext ctx;
    v1::AppendRequest req;
    auto* e = req.mutable_event();
    e->set_tenant(tenant);
    e->set_event_id(id);
    e->mutable_actor()->set_id("alice");
    e->set_action("customer.read");
    e->set_reason(tenant == "gone" ? "secret-of-gone-7f3a9c" : "nothing secret");
    v1::AppendResponse resp;
    return stub->Append(&ctx, req, &resp);
  };
  // The event ids carry a marker too: the idempotency index is keyed id
  // first, and restore's purge register finds a tenant's rows by a scan.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(append("gone", "g" + std::to_string(i) + "-zq83kw71vx").ok());
  }
  ASSERT_TRUE(append("kept", "k1").ok());
  const std::string older = Backup("before-purge")["path"];
  ASSERT_FALSE(older.empty());
  ASSERT_FALSE(FilesContaining(older, "secret-of-gone-7f3a9c").empty()) << "the test must see it";
  ASSERT_FALSE(FilesContaining(older, "zq83kw71vx").empty());

  auto r = Cli(daemon_->target(), {"admin", "purge", "--tenant", "gone", "--actor", "carol@ops",
                                   "--reason", "account closed", "--out",
                                   dir_.Sub("gone.cert"), "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\napprovers:   carol@ops\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfinal_root:  "), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_.Sub("backups/purged/gone.cert")));
  EXPECT_EQ(ReadText(dir_.Sub("backups/purged/gone.cert")), ReadText(dir_.Sub("gone.cert")));
  // A backup after the purge works, and restoring it has nothing to apply.
  const std::string newer = Backup("after-purge")["path"];
  ASSERT_FALSE(newer.empty());
  ASSERT_EQ(daemon_->Stop(), 0);
  r = RunCommand({BinPath("indelible-verify"), "restore", "--from", newer, "--data-dir",
                  dir_.Sub("restored-newer"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["purged_from_register"], nlohmann::json::array());

  const std::string restored = dir_.Sub("restored");
  r = RunCommand({BinPath("indelible-verify"), "restore", "--from", older, "--data-dir",
                  restored, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["purged_from_register"],
            nlohmann::json::array({"gone"}));
  EXPECT_EQ(FilesContaining(restored, "secret-of-gone-7f3a9c"), std::vector<std::string>{});
  // Table files' first and last keys stay in the MANIFEST until the next
  // open (docs/RETENTION.md).
  for (const auto& f : FilesContaining(restored, "zq83kw71vx")) {
    EXPECT_NE(f.find("/MANIFEST-"), std::string::npos) << f;
  }

  fs::copy_file(dir_.Sub("data.signing-key.pem"), restored + ".signing-key.pem");
  auto d = DaemonProcess::Start(
      {.data_dir = restored, .extra_args = {"--config", dir_.Sub("config.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  auto restored_stub = v1::AuditLog::NewStub(
      grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext ctx;
    v1::AppendRequest req;
    auto* e = req.mutable_event();
    e->set_tenant("gone");
    e->set_event_id("g99");
    e->mutable_actor()->set_id("mallory");
    e->set_action("x");
    v1::AppendResponse resp;
    EXPECT_EQ(restored_stub->Append(&ctx, req, &resp).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext ctx;
    v1::GetHeadRequest req;
    req.set_tenant("gone");
    v1::GetHeadResponse resp;
    EXPECT_EQ(restored_stub->GetHead(&ctx, req, &resp).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  // Its records are served as hashes only.
  const v1::Record first = ReadOne((*d)->target(), "gone", 1);
  EXPECT_TRUE(first.pruned());
  EXPECT_FALSE(first.has_canonical_event());
  EXPECT_FALSE(ReadOne((*d)->target(), "kept", 1).pruned());
  ASSERT_EQ((*d)->Stop(), 0);
  EXPECT_EQ(FilesContaining(restored, "secret-of-gone-7f3a9c"), std::vector<std::string>{});
  EXPECT_EQ(FilesContaining(restored, "zq83kw71vx"), std::vector<std::string>{});

  // A register entry not signed by the log's key is refused: the restore
  // is refused (2) and leaves nothing behind; it never purges on a forged word.
  chain::NoteSigner mallory("indelible", *chain::Ed25519PrivateKey::FromSeed(std::string(32, 'm')));
  std::ofstream(dir_.Sub("backups/purged/kept.cert"))
      << mallory.Sign(chain::DeletionCertificateText({"kept", 1, chain::Digest{}, 1}));
  r = RunCommand({BinPath("indelible-verify"), "restore", "--from", older, "--data-dir",
                  dir_.Sub("restored-forged")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("purge register"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dir_.Sub("restored-forged")));
}

TEST_F(BackupE2E, RestoreRefusesAnythingButANewOrEmptyDirectory) {
  Start(BackupConfig());
  auto bad = Cli(daemon_->target(), {"backup", "--label", "../escape"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("label"), std::string::npos) << bad.err;
  const std::string path = Backup()["path"];
  // A directory with something in it.
  fs::create_directories(dir_.Sub("busy"));
  std::ofstream(dir_.Sub("busy/keep.txt")) << "mine\n";
  auto r = RunCommand(
      {BinPath("indelible-verify"), "restore", "--from", path, "--data-dir", dir_.Sub("busy")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is not empty"), std::string::npos) << r.err;
  EXPECT_EQ(Entries(dir_.Sub("busy")), std::vector<std::string>{"keep.txt"});
  // The running daemon's own data directory.
  r = RunCommand(
      {BinPath("indelible-verify"), "restore", "--from", path, "--data-dir", dir_.Sub("data")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("running daemon"), std::string::npos) << r.err;
  // Something that is not a finished backup.
  r = RunCommand({BinPath("indelible-verify"), "restore", "--from", dir_.Sub("data"), "--data-dir",
                  dir_.Sub("fresh")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not a finished backup"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_.Sub("fresh")));
  // An empty directory is fine.
  fs::create_directories(dir_.Sub("empty"));
  r = RunCommand(
      {BinPath("indelible-verify"), "restore", "--from", path, "--data-dir", dir_.Sub("empty")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("start indelibled with --data-dir"), std::string::npos) << r.out;
}

TEST_F(BackupE2E, RestoreOfADamagedBackupIsAFindingAndLeavesNothing) {
  Start(BackupConfig());
  {
    Load load(daemon_->target());
    ASSERT_TRUE(load.WaitForMore(3));
  }
  const std::string path = Backup()["path"];
  EXPECT_EQ(daemon_->Stop(), 0);
  // The manifest promises a head the copied store does not have.
  const fs::path manifest = fs::path(path) / "indelible-backup.json";
  std::ifstream in(manifest);
  auto m = nlohmann::json::parse(in);
  in.close();
  ASSERT_FALSE(m["tenants"].empty());
  m["tenants"][0]["seq"] = m["tenants"][0]["seq"].get<uint64_t>() + 1;
  std::ofstream(manifest, std::ios::trunc) << m.dump(2) << "\n";
  fs::create_directories(dir_.Sub("into"));
  auto r = RunCommand({BinPath("indelible-verify"), "restore", "--from", path, "--data-dir",
                       dir_.Sub("into")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("DATA_LOSS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the backup is damaged"), std::string::npos) << r.err;
  EXPECT_TRUE(Entries(dir_.Sub("into")).empty());
}

TEST_F(BackupE2E, IndelibleRestorePointsAtIndelibleVerifyRestore) {
  // `indelible` opens no store: restore is indelible-verify's, and the old
  // command says so, with the paths given, and writes nothing.
  auto r = RunCommand({BinPath("indelible"), "restore", "--from", dir_.Sub("b"), "--data-dir",
                       dir_.Sub("new"), "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("indelible-verify restore --from " + dir_.Sub("b") + " --data-dir " +
                       dir_.Sub("new")),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_.Sub("new")));
  r = RunCommand({BinPath("indelible"), "restore"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("indelible-verify restore --from BACKUP --data-dir NEW_DIR"),
            std::string::npos)
      << r.err;
}

TEST_F(BackupE2E, BackupIsRefusedWithoutABackupDirectory) {
  Start("");
  auto r = Cli(daemon_->target(), {"backup"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("FAILED_PRECONDITION"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("backup.dir"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace indelible
