// Retention, legal hold and purge through the real daemon, with its clock
// under the test's control (--testing-manual-clock): no waiting for days.
#include <csignal>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/note.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/signing.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

constexpr uint64_t kDay = 86400ull * 1000000000ull;

class RetentionE2E : public ::testing::Test {
 protected:
  void SetUp() override { Start(""); }

  void Start(const std::string& yaml) {
    std::ofstream(dir_.Sub("config.yaml")) << yaml;
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data"),
                                   .extra_args = {"--config", dir_.Sub("config.yaml"),
                                                  "--testing-manual-clock"}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    channel_ = grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials());
    log_ = v1::AuditLog::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
  }
  void StopDaemon() {
    log_.reset();
    admin_.reset();
    channel_.reset();
    ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  }

  v1::Receipt Append(const std::string& tenant, const std::string& id,
                     const std::string& category, const std::string& reason = "r") {
    grpc::ClientContext ctx;
    v1::AppendRequest req;
    v1::AppendResponse resp;
    auto* e = req.mutable_event();
    e->set_tenant(tenant);
    e->set_event_id(id);
    e->mutable_actor()->set_id("alice");
    e->set_action("customer.read");
    e->set_category(category);
    e->set_reason(reason);
    grpc::Status s = log_->Append(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.receipt();
  }
  void Advance(uint64_t ns) {
    grpc::ClientContext ctx;
    v1::AdvanceTestClockRequest req;
    req.set_nanos(ns);
    v1::AdvanceTestClockResponse resp;
    ASSERT_TRUE(admin_->AdvanceTestClock(&ctx, req, &resp).ok());
  }
  void Compact() {
    grpc::ClientContext ctx;
    v1::CompactResponse resp;
    ASSERT_TRUE(admin_->Compact(&ctx, {}, &resp).ok());
  }
  std::vector<v1::Record> Read(const std::string& tenant) {
    grpc::ClientContext ctx;
    v1::ReadRecordsRequest req;
    req.set_tenant(tenant);
    auto reader = log_->ReadRecords(&ctx, req);
    std::vector<v1::Record> out;
    v1::Record r;
    while (reader->Read(&r)) out.push_back(r);
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }
  std::vector<bool> Pruned(const std::string& tenant) {
    std::vector<bool> out;
    for (const auto& r : Read(tenant)) out.push_back(r.pruned());
    return out;
  }
  static v1::AdminContext Who(const std::string& reason = "ticket OPS-1") {
    v1::AdminContext c;
    c.set_actor("carol@ops");
    c.set_reason(reason);
    return c;
  }
  grpc::Status SetRetention(const std::string& tenant, const std::string& category,
                            const std::string& retention, v1::SetRetentionResponse* resp) {
    grpc::ClientContext ctx;
    v1::SetRetentionRequest req;
    *req.mutable_context() = Who();
    req.set_tenant(tenant);
    req.set_category(category);
    req.set_retention(retention);
    return admin_->SetRetention(&ctx, req, resp);
  }
  grpc::Status Hold(const std::string& tenant, bool hold) {
    grpc::ClientContext ctx;
    v1::SetLegalHoldRequest req;
    *req.mutable_context() = Who("litigation L-7");
    req.set_tenant(tenant);
    req.set_hold(hold);
    v1::SetLegalHoldResponse resp;
    return admin_->SetLegalHold(&ctx, req, &resp);
  }
  nlohmann::json Check(int want_exit = 0) {
    auto r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", dir_.Sub("data"),
                         "--key", testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem")),
                         "--json"});
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    return nlohmann::json::parse(r.out);
  }
  // The (seq, kind) of every finding.
  static std::vector<std::pair<uint64_t, std::string>> Findings(const nlohmann::json& check) {
    std::vector<std::pair<uint64_t, std::string>> out;
    for (const auto& f : check["findings"]) out.emplace_back(f["seq"], f["kind"]);
    return out;
  }
  // The policy text of each retention policy record of `tenant`, in order.
  std::vector<std::pair<std::string, std::string>> Policies(const std::string& tenant) {
    std::vector<std::pair<std::string, std::string>> out;  // cause, policy
    for (const auto& r : Read(tenant)) {
      if (r.event().category() != "indelible.policy") continue;
      EXPECT_EQ(r.event().action(), "retention.policy");
      std::map<std::string, std::string> m;
      for (const auto& kv : r.event().metadata()) m[kv.key()] = kv.value();
      out.emplace_back(m["cause"], m["policy"]);
    }
    return out;
  }
  // Sends SIGHUP and waits (bounded) until the daemon logs the reload.
  void Hup() {
    auto count = [&] {
      const std::string log = daemon_->Log();
      size_t n = 0;
      for (size_t p = log.find("event=config_reloaded"); p != std::string::npos;
           p = log.find("event=config_reloaded", p + 1)) {
        ++n;
      }
      return n;
    };
    const size_t before = count();
    ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
    for (int i = 0; i < 400 && count() == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_GT(count(), before) << daemon_->Log();
  }
  // Deletes a stored body of the stopped daemon's store with RocksDB's own
  // `ldb`, as whoever holds the data directory could: scans the tenant's
  // rows of bodies, and writes the run that holds seq again without it (or
  // deletes the row if it held only seq).
  void LdbDeleteBody(const std::string& tenant, uint64_t seq) {
    const std::vector<std::string> ldb = {"/usr/bin/ldb", "--db=" + dir_.Sub("data"),
                                          std::string("--column_family=") + store::kBodiesCf,
                                          "--hex"};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin(), ldb.begin(), ldb.end());
      return RunCommand(args);
    };
    std::string end(tenant);
    end.push_back('\x01');
    auto scan = with({"scan", "--from=0x" + chain::ToHex(store::TenantPrefix(tenant)),
                      "--to=0x" + chain::ToHex(end)});
    ASSERT_EQ(scan.exit_code, 0) << scan.out << scan.err;
    std::istringstream lines(scan.out);
    for (std::string line; std::getline(lines, line);) {
      const size_t sep = line.find(" : ");
      std::string key, row;
      ASSERT_TRUE(sep != std::string::npos && line.rfind("0x", 0) == 0 &&
                  chain::FromHex(line.substr(2, sep - 2), &key) &&
                  chain::FromHex(line.substr(sep + 5), &row))
          << line;
      std::string_view t;
      uint64_t first;
      ASSERT_TRUE(store::ParseSeqKey(key, &t, &first)) << line;
      store::BodyRun run(first, row);
      std::string kept;
      bool found = false;
      uint64_t s;
      std::string_view body;
      while (run.Next(&s, &body)) {
        if (s == seq) {
          found = true;
        } else {
          store::AppendToBodyRun(&kept, s, body);
        }
      }
      ASSERT_FALSE(run.malformed()) << line;
      if (!found) continue;
      auto r = kept.empty() ? with({"delete", "0x" + chain::ToHex(key)})
                            : with({"put", "0x" + chain::ToHex(key), "0x" + chain::ToHex(kept)});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      return;
    }
    FAIL() << "no row of bodies holds " << tenant << " seq " << seq << ":\n" << scan.out;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuditLog::Stub> log_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(RetentionE2E, DefaultsPruneTracesAfter90DaysAccessAfter365) {
  Append("acme", "t1", "trace");
  Append("acme", "a1", "access");
  Advance(89 * kDay);
  Compact();  // first records acme's policy (seq 3), then prunes under it
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, false, false}));
  ASSERT_EQ(Policies("acme").size(), 1u);
  EXPECT_EQ(Policies("acme")[0].first, "retention.compaction");
  EXPECT_EQ(Policies("acme")[0].second,
            "indelible/v1/retention-policy\ntenant acme\ndefault 31536000\nmin 86400\n"
            "max 315360000\nlegal_hold false\ncategory access 31536000\n"
            "category trace 7776000\n");
  Advance(1 * kDay);
  Compact();
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false}));
  Advance(275 * kDay);
  Compact();
  // The policy record is the daemon's own: never pruned.
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, true, false}));
  // A pruned record keeps its skeleton: the chain verifies end to end.
  auto recs = Read("acme");
  EXPECT_TRUE(recs[0].salt().empty() && recs[0].canonical_event().empty());
  EXPECT_EQ(recs[0].entry_hash().size(), 32u);
  // The idempotency entry went with the body: the id may be used again.
  auto again = Append("acme", "t1", "trace");
  EXPECT_FALSE(again.duplicate());
  EXPECT_EQ(again.seq(), 4u);
  StopDaemon();
  // Retention's own work: the policy on record allowed every pruning.
  auto check = Check();
  EXPECT_EQ(check["totals"]["pruned"], 2);
  EXPECT_EQ(check["totals"]["findings"], 0);

  // An export of the range counts the pruned records instead of showing them.
  auto key = chain::Ed25519PrivateKey::Generate();
  const std::string key_path = dir_.Sub("report.pem");
  std::ofstream(key_path) << key->PrivateKeyPem();
  std::filesystem::permissions(key_path, std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);
  auto r = RunCommand({BinPath("indelible-verify"), "export", "--data-dir", dir_.Sub("data"),
                       "--tenant", "acme", "--out", dir_.Sub("acme.json"), "--format", "json",
                       "--sign-key", key_path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto manifest = nlohmann::json::parse(r.out);
  EXPECT_EQ(manifest["verified_range"]["pruned_records"], 2);
  EXPECT_EQ(manifest["verified_range"]["last_seq"], 4);
  EXPECT_EQ(manifest["row_count"], 2);
}

TEST_F(RetentionE2E, ScheduledCompactionBoundsHowLongExpiredBodiesLinger) {
  Append("acme", "t1", "trace");
  Advance(91 * kDay);  // past 90 days and past the 24 h compaction interval
  // No Compact call: the schedule must run by itself (bounded wait).
  bool pruned = false;
  for (int i = 0; i < 100 && !pruned; ++i) {
    pruned = Pruned("acme").at(0);
    if (!pruned) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(pruned);
}

TEST_F(RetentionE2E, PerTenantConfigAndRuntimeChangesAreRecordedAndApplied) {
  StopDaemon();
  Start("retention:\n  tenants:\n    acme:\n      trace: 2d\n");
  Append("acme", "t1", "trace");
  Append("beta", "t1", "trace");
  Append("acme", "a1", "access");
  Advance(2 * kDay);
  Compact();  // records each tenant's policy (acme seq 3, beta seq 2), prunes
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(Pruned("beta"), (std::vector<bool>{false, false}));

  // Shorten access for acme at runtime: applies to what is already stored.
  v1::SetRetentionResponse resp;
  grpc::Status s = SetRetention("acme", "access", "24h", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.previous_retention(), "365d");
  EXPECT_EQ(resp.receipt().seq(), 4u);
  auto recs = Read("acme");
  ASSERT_EQ(recs.size(), 5u);
  const auto& change = recs[3].event();
  EXPECT_EQ(change.category(), "indelible.admin");
  EXPECT_EQ(change.action(), "retention.set");
  EXPECT_EQ(change.actor().id(), "carol@ops");
  EXPECT_EQ(change.reason(), "ticket OPS-1");
  // Then acme's new policy, before it applies; beta's is unchanged.
  ASSERT_EQ(Policies("acme").size(), 2u);
  EXPECT_EQ(Policies("acme")[1].first, "retention.set");
  EXPECT_NE(Policies("acme")[1].second.find("category access 86400\n"), std::string::npos);
  EXPECT_EQ(Policies("beta").size(), 1u);
  Compact();
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, true, false, false, false}));

  // Bad requests name the field.
  s = SetRetention("acme", "access", "1h", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("retention"), std::string::npos);
  s = SetRetention("Bad Tenant", "access", "2d", &resp);
  EXPECT_NE(s.error_message().find("tenant"), std::string::npos);
  {  // (a live ClientContext keeps the channel open and delays shutdown)
    grpc::ClientContext ctx;
    v1::SetRetentionRequest no_actor;
    no_actor.set_tenant("acme");
    s = admin_->SetRetention(&ctx, no_actor, &resp);
    EXPECT_NE(s.error_message().find("context.actor"), std::string::npos);
  }

  // Overrides survive a restart.
  StopDaemon();
  Start("retention:\n  tenants:\n    acme:\n      trace: 2d\n");
  grpc::ClientContext gctx;
  v1::GetRetentionRequest get;
  get.set_tenant("acme");
  v1::GetRetentionResponse got;
  ASSERT_TRUE(admin_->GetRetention(&gctx, get, &got).ok());
  std::map<std::string, std::string> by_cat;
  for (const auto& e : got.entries()) by_cat[e.category()] = e.retention();
  EXPECT_EQ(by_cat["access"], "1d");
  EXPECT_EQ(by_cat["trace"], "2d");
}

TEST_F(RetentionE2E, LegalHoldBlocksPruningAndPurgeUntilLifted) {
  Append("acme", "t1", "trace");
  ASSERT_TRUE(Hold("acme", true).ok());  // seq 2, and the policy with the hold
  Advance(400 * kDay);
  Compact();
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, false, false}));
  grpc::ClientContext ctx;
  v1::PurgeTenantRequest purge;
  *purge.mutable_context() = Who();
  purge.set_tenant("acme");
  v1::PurgeTenantResponse presp;
  EXPECT_EQ(admin_->PurgeTenant(&ctx, purge, &presp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Hold("acme", false).ok());  // seq 4, and the policy without
  Compact();
  // The trace event is past its retention; the daemon's own records (the
  // hold, the lift, the policies) are never pruned.
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false, false, false}));
  auto recs = Read("acme");
  EXPECT_EQ(recs[3].event().action(), "legal_hold.lift");
  auto policies = Policies("acme");
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].first, "legal_hold.place");
  EXPECT_NE(policies[0].second.find("legal_hold true\n"), std::string::npos);
  EXPECT_EQ(policies[1].first, "legal_hold.lift");
  EXPECT_NE(policies[1].second.find("legal_hold false\n"), std::string::npos);
  // Pruned after the hold was lifted: lawful.
  StopDaemon();
  EXPECT_EQ(Check()["totals"]["findings"], 0);
}

// `indelible-verify check --remote` of a tenant whose records retention
// pruned: their leaves are recomputed from the served leaf_category.
TEST_F(RetentionE2E, RemoteCheckVerifiesThroughPrunedRecords) {
  Append("acme", "t1", "trace");
  Append("acme", "t2", "trace");
  Append("acme", "a1", "access");
  Advance(91 * kDay);
  Compact();  // acme's policy is seq 4
  Append("acme", "a2", "access");
  ASSERT_EQ(Pruned("acme"), (std::vector<bool>{true, true, false, false, false}));
  const std::string key = testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem"));
  auto remote_check = [&] {
    // Once the checkpointer has signed the tree of all five records.
    for (int i = 0; i < 200; ++i) {
      grpc::ClientContext ctx;
      v1::GetCheckpointRequest req;
      req.set_tenant("acme");
      req.set_version(2);
      req.set_min_seq(5);
      v1::Checkpoint cp;
      if (log_->GetCheckpoint(&ctx, req, &cp).ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return RunCommand({BinPath("indelible-verify"), "check", "--remote", daemon_->target(),
                       "--tenant", "acme", "--key", key, "--json"});
  };
  auto r = remote_check();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["records_to"], 5);
  EXPECT_EQ(j["records_pruned"], 2);

  // Whoever holds the data directory changes the category a pruned
  // record's skeleton keeps for its leaf (to make it look like another category's, pruned
  // under another policy): the daemon then serves it, and the remote check
  // names the record.
  StopDaemon();
  {
    testing::RawStore raw(dir_.Sub("data"));
    store::Skeleton sk;
    ASSERT_TRUE(store::DecodeSkeleton(*raw.GetSkeleton("acme", 2), &sk));
    ASSERT_EQ(sk.category, "trace");
    sk.category = "debug";
    raw.PutSkeleton("acme", 2, store::EncodeSkeleton(sk));
  }
  Start("");
  r = remote_check();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], false);
  // The root, and the pruned records whose proofs rest on the damaged leaf:
  // the served proofs of the block's leaves are hashed from its skeletons.
  ASSERT_EQ(j["findings"].size(), 3u) << r.out;
  EXPECT_EQ(j["findings"][2],
            "seq 2 (pruned): the served leaf_category \"debug\" gives a leaf that is not in "
            "the served checkpoint's tree");
  // The check of the data directory names it too.
  StopDaemon();
  auto offline = RunCommand({BinPath("indelible-verify"), "check", "--data-dir",
                             dir_.Sub("data"), "--key", key, "--json"});
  EXPECT_EQ(offline.exit_code, 1) << offline.out;
  // Fewer than 16 leaves: no stored node covers them, the first signed
  // root over seq 2 disagrees, and names the pruned records it rests on.
  auto o = nlohmann::json::parse(offline.out);
  EXPECT_GE(o["findings"][0]["seq"], 2) << offline.out;
  EXPECT_EQ(o["findings"][0]["kind"], "checkpoint_root_mismatch") << offline.out;
  EXPECT_NE(o["findings"][0]["detail"].get<std::string>().find("seq 1, 2"), std::string::npos)
      << offline.out;
}

// Every file under `dir` that contains `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) hits.push_back(e.path().string());
  }
  return hits;
}

TEST_F(RetentionE2E, PurgeLeavesNoTraceAndYieldsAVerifiableCertificate) {
  chain::Salt rnd;
  ASSERT_TRUE(chain::RandomSalt(&rnd).ok());
  const std::string marker = "MARKER-" + chain::ToHex(chain::AsBytes(rnd));
  // The event ids carry a marker of their own: the idempotency index is
  // keyed id first, and the purge finds the tenant's rows by a scan.
  // Its letters (g..v) share nothing with `marker`'s hex digits, so LZ4
  // never stores part of one as a reference to the other.
  chain::Salt id_rnd;
  ASSERT_TRUE(chain::RandomSalt(&id_rnd).ok());
  std::string id_marker = "IDTAG.";
  for (char c : chain::ToHex(chain::AsBytes(id_rnd))) {
    id_marker.push_back(static_cast<char>('g' + (c <= '9' ? c - '0' : c - 'a' + 10)));
  }
  for (int i = 0; i < 20; ++i) {
    Append("gone", "g" + std::to_string(i) + "-" + id_marker, "access",
           "customer said " + marker);
  }
  Append("kept", "k1", "access");
  v1::GetPublicKeyResponse key;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(log_->GetPublicKey(&ctx, {}, &key).ok());
  }
  v1::GetHeadResponse head;
  {
    grpc::ClientContext ctx;
    v1::GetHeadRequest req;
    req.set_tenant("gone");
    ASSERT_TRUE(log_->GetHead(&ctx, req, &head).ok());
  }
  ASSERT_FALSE(FilesContaining(dir_.Sub("data"), marker).empty()) << "the test must see it first";
  ASSERT_FALSE(FilesContaining(dir_.Sub("data"), id_marker).empty());

  v1::PurgeTenantResponse resp;
  {
    grpc::ClientContext ctx;
    v1::PurgeTenantRequest purge;
    *purge.mutable_context() = Who("account closed, contract C-9");
    purge.set_tenant("gone");
    grpc::Status s = admin_->PurgeTenant(&ctx, purge, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The purge is on record before the final checkpoint: seq 21.
  EXPECT_EQ(resp.final_seq(), 21u);
  EXPECT_EQ(resp.approvers().size(), 1);
  EXPECT_EQ(resp.approvers(0), "carol@ops");

  EXPECT_EQ(FilesContaining(dir_.Sub("data"), marker), std::vector<std::string>{});
  // RocksDB's MANIFEST records each table file's first and last keys, and
  // keeps the records of deleted files until it is rewritten, at the next
  // open (checked after the restart below).
  for (const auto& f : FilesContaining(dir_.Sub("data"), id_marker)) {
    EXPECT_NE(f.find("/MANIFEST-"), std::string::npos) << f;
  }

  // The certificate verifies with the daemon's key, and only with it.
  std::ofstream(dir_.Sub("gone.cert")) << resp.certificate();
  auto r = RunCommand({BinPath("indelible-verify"), "verify-certificate", "--cert",
                       dir_.Sub("gone.cert"), "--key", key.verifier_key(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tenant"], "gone");
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["final_seq"], 21);
  EXPECT_EQ(j["approvers"], nlohmann::json::array({"carol@ops"}));
  std::string tampered = resp.certificate();
  tampered.replace(tampered.find("\nsize 21\n"), 9, "\nsize 20\n");
  std::ofstream(dir_.Sub("forged.cert")) << tampered;
  r = RunCommand({BinPath("indelible-verify"), "verify-certificate", "--cert",
                  dir_.Sub("forged.cert"), "--key", key.verifier_key()});
  EXPECT_EQ(r.exit_code, 1) << r.out;

  // The id cannot be reused to forge a continuation, even after a restart.
  {
    grpc::ClientContext actx;
    v1::AppendRequest req;
    auto* e = req.mutable_event();
    e->set_tenant("gone");
    e->set_event_id("g99");
    e->mutable_actor()->set_id("mallory");
    e->set_action("x");
    v1::AppendResponse aresp;
    EXPECT_EQ(log_->Append(&actx, req, &aresp).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  StopDaemon();
  Start("");
  {
    grpc::ClientContext hctx;
    v1::GetHeadRequest req;
    req.set_tenant("gone");
    EXPECT_EQ(log_->GetHead(&hctx, req, &head).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  EXPECT_EQ(Read("kept").size(), 1u);
  EXPECT_EQ(FilesContaining(dir_.Sub("data"), id_marker), std::vector<std::string>{});
  EXPECT_EQ(FilesContaining(dir_.Sub("data"), marker), std::vector<std::string>{});
  StopDaemon();
  // The purged tenant's skeletons and tree are checked; its bodies are
  // erased by the purge, not pruned, and no finding.
  auto check = Check();
  EXPECT_EQ(check["totals"]["tenants"], 2);
  EXPECT_EQ(check["totals"]["findings"], 0);
  EXPECT_EQ(check["totals"]["pruned"], 0);
  const auto& gone = check["tenants"][0];
  EXPECT_EQ(gone["tenant"], "gone");
  EXPECT_EQ(gone["records"], 21);
  EXPECT_EQ(gone["erased"]["by"], "purge");
  EXPECT_EQ(gone["erased"]["through_seq"], 21);
  EXPECT_EQ(gone["erased"]["records"], 21);
  EXPECT_EQ(gone["erased"]["certificate_verified"], true);
}

// The v2 checkpoint of `tenant` of at least `size`, once the checkpointer
// signed it (polled, bounded).
std::string KeptCheckpoint(v1::AuditLog::Stub* log, const std::string& tenant, uint64_t size) {
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    req.set_tenant(tenant);
    req.set_version(2);
    req.set_min_seq(size);
    v1::Checkpoint cp;
    if (log->GetCheckpoint(&ctx, req, &cp).ok() && cp.seq() >= size) return cp.note();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no v2 checkpoint of size " << size;
  return "";
}

TEST_F(RetentionE2E, PurgeCertificateProvesThePurgedLogExtendsAKeptCheckpoint) {
  for (int i = 0; i < 6; ++i) Append("gone", "g" + std::to_string(i), "access");
  // The auditor keeps a checkpoint of the tenant, then more is appended.
  const std::string kept = KeptCheckpoint(log_.get(), "gone", 6);
  ASSERT_FALSE(kept.empty());
  std::ofstream(dir_.Sub("kept.note")) << kept;
  auto kept_cp = chain::ParseCheckpointV2Text(kept.substr(0, kept.find("\n\n") + 1));
  ASSERT_TRUE(kept_cp.ok()) << kept_cp.status();
  for (int i = 6; i < 10; ++i) Append("gone", "g" + std::to_string(i), "trace");

  {
    // An approver's name the certificate cannot carry is refused first.
    grpc::ClientContext ctx;
    v1::PurgeTenantRequest purge;
    *purge.mutable_context() = Who("account closed");
    purge.mutable_context()->set_actor("carol\nops");
    purge.set_tenant("gone");
    v1::PurgeTenantResponse refused;
    grpc::Status s = admin_->PurgeTenant(&ctx, purge, &refused);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find("context.actor"), std::string::npos) << s.error_message();
  }
  v1::PurgeTenantResponse resp;
  {
    grpc::ClientContext ctx;
    v1::PurgeTenantRequest purge;
    *purge.mutable_context() = Who("account closed");
    purge.set_tenant("gone");
    grpc::Status s = admin_->PurgeTenant(&ctx, purge, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string vkey = testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem"));
  auto vk = chain::ParseNoteVerifierKey(vkey);
  ASSERT_TRUE(vk.ok());
  ASSERT_EQ(resp.final_seq(), 11u);  // 10 events and the purge's record
  // The final checkpoint is signed and stored like any other.
  auto final_cp = chain::VerifyCheckpointV2(resp.final_checkpoint(), {*vk});
  ASSERT_TRUE(final_cp.ok()) << final_cp.status();
  EXPECT_EQ(final_cp->size, 11u);
  EXPECT_EQ(std::string(chain::AsBytes(final_cp->root)), resp.final_root_hash());
  EXPECT_EQ(KeptCheckpoint(log_.get(), "gone", 11), resp.final_checkpoint());
  std::ofstream(dir_.Sub("gone.cert")) << resp.certificate();

  // The skeletons are served without content; the proof from the kept size
  // comes from the kept tree.
  const auto records = Read("gone");
  ASSERT_EQ(records.size(), 11u);
  for (const auto& r : records) {
    EXPECT_TRUE(r.pruned()) << r.seq();
    EXPECT_FALSE(r.has_canonical_event());
    EXPECT_EQ(r.leaf_category(), r.seq() <= 6 ? "access" : r.seq() <= 10 ? "trace" : "indelible.admin");
  }
  auto proof = RunCommand({BinPath("indelible"), "--target", daemon_->target(), "prove",
                           "--tenant", "gone", "--old-size", std::to_string(kept_cp->size)});
  ASSERT_EQ(proof.exit_code, 0) << proof.out << proof.err;
  std::ofstream(dir_.Sub("proof.txt")) << proof.out;

  auto Verify = [&](const std::string& cert) {
    return RunCommand({BinPath("indelible-verify"), "verify-certificate", "--cert", cert, "--key",
                       vkey, "--checkpoint", dir_.Sub("kept.note"), "--proof",
                       dir_.Sub("proof.txt"), "--json"});
  };
  auto r = Verify(dir_.Sub("gone.cert"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kept_checkpoint"]["size"], kept_cp->size);
  EXPECT_EQ(j["kept_checkpoint"]["extended"], true);
  EXPECT_EQ(j["final_root_hash"], chain::ToHex(final_cp->root));

  auto cert = chain::VerifyDeletionCertificate(resp.certificate(), {*vk});
  ASSERT_TRUE(cert.ok()) << cert.status();
  // Attack 1: the same statement signed by a second key under the daemon's
  // key name (made with `indelible keygen`) is refused.
  auto keygen = RunCommand({BinPath("indelible"), "keygen", "--out", dir_.Sub("other.pem")});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.out << keygen.err;
  bool created = false;
  auto other = chain::LoadSigningKey(dir_.Sub("other.pem"), false, &created);
  ASSERT_TRUE(other.ok()) << other.status();
  std::ofstream(dir_.Sub("forged.cert"))
      << chain::NoteSigner(vk->name, *other).Sign(chain::DeletionCertificateText(*cert));
  r = Verify(dir_.Sub("forged.cert"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["valid"], false);

  // Attack 2: a certificate under the daemon's own key for a tree that does
  // not extend the auditor's checkpoint (history rewritten before the
  // purge) is refused.
  auto daemon_key = chain::LoadSigningKey(dir_.Sub("data.signing-key.pem"), false, &created);
  ASSERT_TRUE(daemon_key.ok()) << daemon_key.status();
  chain::DeletionCertificate rewritten = *cert;
  rewritten.root[0] ^= 0x01;
  std::ofstream(dir_.Sub("rewritten.cert"))
      << chain::NoteSigner(vk->name, *daemon_key).Sign(chain::DeletionCertificateText(rewritten));
  r = Verify(dir_.Sub("rewritten.cert"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["kept_checkpoint"]["extended"], false);
  // Without the proof a smaller kept checkpoint cannot be held: usage, 2.
  r = RunCommand({BinPath("indelible-verify"), "verify-certificate", "--cert",
                  dir_.Sub("gone.cert"), "--key", vkey, "--checkpoint", dir_.Sub("kept.note")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;

  // Over the wire too: the skeletons and tree verify against the final
  // checkpoint, which extends the kept one.
  r = RunCommand({BinPath("indelible-verify"), "check", "--remote", daemon_->target(),
                  "--tenant", "gone", "--key", vkey, "--checkpoint", dir_.Sub("kept.note"),
                  "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  StopDaemon();
  auto check = Check();
  EXPECT_EQ(check["totals"]["findings"], 0);
  EXPECT_EQ(check["tenants"][0]["erased"]["through_seq"], 11);
}

// A normal retention run leaves nothing to report; a young body deleted
// with `ldb` is an early_prune at its seq, and so is a daemon record's body
// (never pruned), whose loss also takes the policy it held away.
TEST_F(RetentionE2E, BodyDeletedByHandBeforeItsRetentionIsEarlyPrune) {
  Append("acme", "t1", "trace");
  Advance(91 * kDay);
  Compact();  // acme's policy (seq 2), then t1 pruned under it
  Append("acme", "a1", "access");
  Append("acme", "t2", "trace");
  ASSERT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false, false}));
  StopDaemon();
  auto clean = Check();
  EXPECT_EQ(clean["totals"]["pruned"], 1);
  EXPECT_EQ(clean["totals"]["findings"], 0) << clean.dump();

  LdbDeleteBody("acme", 4);  // t2: a day-old trace, kept 90 days
  auto early = Check(1);
  EXPECT_EQ(Findings(early), (std::vector<std::pair<uint64_t, std::string>>{
                                 {4, "early_prune"}}))
      << early.dump();
  EXPECT_NE(early["findings"][0]["detail"].get<std::string>().find("category \"trace\""),
            std::string::npos);
  // check --remote judges it the same, from the served leaf_category.
  Start("");
  for (int i = 0; i < 200; ++i) {  // once the checkpointer signed all four
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    req.set_tenant("acme");
    req.set_version(2);
    req.set_min_seq(4);
    v1::Checkpoint cp;
    if (log_->GetCheckpoint(&ctx, req, &cp).ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto remote = RunCommand({BinPath("indelible-verify"), "check", "--remote", daemon_->target(),
                            "--tenant", "acme", "--key",
                            testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem")), "--json"});
  EXPECT_EQ(remote.exit_code, 1) << remote.out << remote.err;
  auto rj = nlohmann::json::parse(remote.out);
  ASSERT_EQ(rj["findings"].size(), 1u) << remote.out;
  EXPECT_EQ(rj["findings"][0].get<std::string>().rfind("seq 4: early_prune: ", 0), 0u)
      << remote.out;
  StopDaemon();

  LdbDeleteBody("acme", 2);  // the policy record itself
  auto gone = Check(1);
  EXPECT_EQ(Findings(gone), (std::vector<std::pair<uint64_t, std::string>>{
                                {1, "early_prune"}, {2, "early_prune"}, {4, "early_prune"}}))
      << gone.dump();
  EXPECT_NE(gone["findings"][1]["detail"].get<std::string>().find("never pruned"),
            std::string::npos);
}

// A policy changed by a reload, and by a restart with another file, is
// recorded in every tenant's chain before it applies; pruning follows it
// and the check finds it lawful.
TEST_F(RetentionE2E, ReloadedPolicyIsRecordedInEachChainBeforeItPrunes) {
  StopDaemon();
  Start("retention:\n  categories:\n    trace: 30d\n");
  Append("acme", "t1", "trace");
  Append("beta", "t1", "trace");
  Compact();  // each tenant's policy on record: 30 days
  for (const std::string tenant : {"acme", "beta"}) {
    ASSERT_EQ(Policies(tenant).size(), 1u) << tenant;
    EXPECT_NE(Policies(tenant)[0].second.find("category trace 2592000\n"), std::string::npos);
  }
  std::ofstream(dir_.Sub("config.yaml")) << "retention:\n  categories:\n    trace: 60d\n";
  Hup();
  for (const std::string tenant : {"acme", "beta"}) {
    auto p = Policies(tenant);
    ASSERT_EQ(p.size(), 2u) << tenant;
    EXPECT_EQ(p[1].first, "config.reload");
    EXPECT_NE(p[1].second.find("category trace 5184000\n"), std::string::npos) << p[1].second;
    EXPECT_EQ(Read(tenant).back().event().category(), "indelible.policy") << tenant;
  }
  Advance(31 * kDay);
  Compact();
  // t1, the first policy, the reload's record of the change, the new policy.
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{false, false, false, false})) << "60 days apply";
  Advance(30 * kDay);
  // The daemon's clock is now 61 days ahead of the verifier's: records
  // received from here on carry the chain's time (docs/VERIFY.md).
  Append("acme", "a1", "access");
  Append("beta", "a1", "access");
  Compact();
  EXPECT_EQ(Pruned("acme"), (std::vector<bool>{true, false, false, false, false}));
  EXPECT_EQ(Pruned("beta"), (std::vector<bool>{true, false, false, false, false}));
  // A restart with another file: on record in each chain too.
  StopDaemon();
  Start("retention:\n  categories:\n    trace: 90d\n");
  for (const std::string tenant : {"acme", "beta"}) {
    auto p = Policies(tenant);
    ASSERT_EQ(p.size(), 3u) << tenant;
    EXPECT_EQ(p[2].first, "config.start");
    EXPECT_NE(p[2].second.find("category trace 7776000\n"), std::string::npos);
  }
  StopDaemon();
  auto check = Check();
  EXPECT_EQ(check["totals"]["pruned"], 2);
  EXPECT_EQ(check["totals"]["findings"], 0) << check.dump();
}

}  // namespace
}  // namespace indelible
