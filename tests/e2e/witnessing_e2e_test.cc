// The daemon as a witnessed log, end to end: real indelibled and
// indelible-witness processes on 127.0.0.1 port 0. Two daemons witness each
// other; and the attacks witnesses exist for fail: a rewritten tail, a split
// view, a rollback to an older backup. Every cosignature the daemons store is
// checked with the chain library against the witness's key.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/write/storage.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/witness/witness_process.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/store/tree_nodes.h"

namespace indelible {
namespace {

namespace fs = std::filesystem;
using grpc::health::v1::HealthCheckResponse;
using testing::BinPath;
using testing::DaemonProcess;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;
using witness::testing::WitnessProcess;

constexpr auto kWait = std::chrono::seconds(60);

// Polls `cond` every 20 ms until it holds or `limit` passes.
template <typename F>
bool WaitFor(F cond, std::chrono::seconds limit = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

// A fresh Ed25519 key (PKCS#8 PEM, mode 0600) at `path`; returns the
// cosigner verifier key `indelible-witness keygen` prints for `name`.
std::string KeyGen(const std::string& path, const std::string& name) {
  auto r = RunCommand({BinPath("indelible-witness"), "keygen", "--name", name, "--out", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.empty() ? "" : r.out.substr(0, r.out.size() - 1);
}

// A witness beside a daemon: its key, config and process.
struct Witness {
  std::string name, vkey;
  chain::CosignerKey key;
  std::unique_ptr<WitnessProcess> proc;

  bool https = false;
  std::string Url() const {
    return absl::StrCat(https ? "https" : "http", "://127.0.0.1:", proc->port());
  }
  // The witness's indelible_witness_origin_size of `origin` (0 if absent).
  uint64_t OriginSize(const std::string& origin) const {
    httplib::Client cli("127.0.0.1", proc->metrics_port());
    auto res = cli.Get("/metrics");
    if (!res) return UINT64_MAX;
    const std::string k = "indelible_witness_origin_size{origin=\"" + origin + "\"} ";
    const size_t at = res->body.find(k);
    return at == std::string::npos ? 0 : std::stoull(res->body.substr(at + k.size()));
  }
};

// Starts a witness named `name` in `dir` that cosigns for the logs whose
// origins start with `prefix`, signed by `log_vkey`.
std::unique_ptr<Witness> StartWitness(const std::string& dir, const std::string& name,
                                      const std::string& prefix, const std::string& log_vkey,
                                      const std::string& extra = "") {
  fs::create_directories(dir);
  auto w = std::make_unique<Witness>();
  w->name = name;
  w->vkey = KeyGen(dir + "/witness.pem", name);
  auto key = chain::ParseCosignerKey(w->vkey);
  EXPECT_TRUE(key.ok()) << key.status() << " " << w->vkey;
  if (key.ok()) w->key = *key;
  std::ofstream(dir + "/witness.yaml")
      << "name: " << name << "\nkey_file: " << dir << "/witness.pem\nstate_dir: " << dir
      << "/state\nlisten: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\n" << extra
      << "logs:\n  - origin_prefix: " << prefix << "\n    keys: [\"" << log_vkey << "\"]\n";
  w->proc = std::make_unique<WitnessProcess>(dir + "/witness.yaml", dir + "/port",
                                             dir + "/witness.log");
  EXPECT_TRUE(w->proc->Start());
  return w;
}

// The YAML of a daemon signing as `log_name` with `key_file`, sending its
// checkpoints to `witnesses`.
std::string DaemonYaml(const std::string& log_name, const std::string& key_file,
                       const std::vector<const Witness*>& witnesses,
                       const std::string& more = "", const std::string& witness_more = "") {
  std::string y = absl::StrCat("log_name: ", log_name, "\nsigning_key_file: ", key_file,
                               "\ncheckpoint_interval_ms: 50\nmetrics_listen: 127.0.0.1:0\n",
                               "witness_grace_seconds: 1\n", more, "witnesses:\n");
  for (const Witness* w : witnesses) {
    absl::StrAppend(&y, "  - name: ", w->name, "\n    url: \"", w->Url(), "\"\n    key: \"",
                    w->vkey, "\"\n", witness_more);
  }
  return y;
}

// One daemon and the clients the tests use.
class Daemon {
 public:
  Daemon(const std::string& dir, const std::string& yaml) : dir_(dir) {
    fs::create_directories(dir);
    std::ofstream(dir + "/config.yaml") << yaml;
    auto d = DaemonProcess::Start(
        {.data_dir = dir + "/data", .extra_args = {"--config", dir + "/config.yaml"}});
    EXPECT_TRUE(d.ok()) << d.status();
    if (d.ok()) proc_ = std::move(*d);
  }
  bool ok() const { return proc_ != nullptr; }
  DaemonProcess& proc() { return *proc_; }
  std::string data_dir() const { return dir_ + "/data"; }

  // Appends n events to `tenant` (actor `actor`); returns the last seq.
  uint64_t Append(const std::string& tenant, int n, const std::string& actor) {
    auto stub = v1::AuditLog::NewStub(
        grpc::CreateChannel(proc_->target(), grpc::InsecureChannelCredentials()));
    v1::AppendBatchRequest req;
    for (int i = 0; i < n; ++i) {
      auto* e = req.add_events();
      e->set_tenant(tenant);
      e->set_event_id(absl::StrCat(actor, "-", next_id_++));
      e->mutable_actor()->set_id(actor);
      e->set_action("customer.read");
      e->set_reason("witnessing");
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::AppendBatchResponse resp;
    grpc::Status s = stub->AppendBatch(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok() && resp.receipts_size() > 0 ? resp.receipts(resp.receipts_size() - 1).seq() : 0;
  }
  // The tenant's newest v2 checkpoint note as GetCheckpoint serves it.
  v1::Checkpoint Checkpoint(const std::string& tenant) {
    auto stub = v1::AuditLog::NewStub(
        grpc::CreateChannel(proc_->target(), grpc::InsecureChannelCredentials()));
    v1::GetCheckpointRequest req;
    req.set_tenant(tenant);
    req.set_version(2);
    req.set_reason("witnessing");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::Checkpoint cp;
    if (!stub->GetCheckpoint(&ctx, req, &cp).ok()) return {};
    return cp;
  }
  std::string Metrics() {
    const std::string port = ReadFile(dir_ + "/data.port.metrics");
    if (port.empty()) return "";
    httplib::Client cli("127.0.0.1", std::stoi(port));
    auto res = cli.Get("/metrics");
    return res ? res->body : "";
  }
  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(proc_->target(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    if (!health->Check(&ctx, req, &resp).ok()) return HealthCheckResponse::UNKNOWN;
    return resp.status();
  }

 private:
  std::string dir_;
  std::unique_ptr<DaemonProcess> proc_;
  int next_id_ = 0;
};

// Whether `cp` is of `size` and carries a valid cosignature by `w` (and is
// signed by the log key `log_vkey`).
bool CosignedBy(const v1::Checkpoint& cp, uint64_t size, const Witness& w,
                const std::string& log_vkey) {
  if (cp.seq() != size) return false;
  auto log_key = chain::ParseNoteVerifierKey(log_vkey);
  if (!log_key.ok()) return false;
  return chain::VerifyWitnessedCheckpointV2(cp.note(), {*log_key}, {{w.key}, 1}).ok();
}

bool HasCosignatureLine(const v1::Checkpoint& cp, const Witness& w) {
  return absl::StrContains(cp.note(), "\xe2\x80\x94 " + w.name + " ");
}

// The value of the sample `series` (name and labels) in metrics text; -1 if absent.
double Sample(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

constexpr char kWitnessing[] = "indelible.v1.Witnessing";

// Two regions witness each other: each runs a witness for the other's log
// beside its daemon, and lists the other region's witness.
TEST(WitnessingE2E, TwoDaemonsWitnessEachOther) {
  TempDir dir;
  const std::string key_a = dir.Sub("log-a.pem"), key_b = dir.Sub("log-b.pem");
  KeyGen(key_a, "unused-a");
  KeyGen(key_b, "unused-b");
  const std::string vkey_a = testing::VerifierKeyOf(key_a), vkey_b = testing::VerifierKeyOf(key_b);
  // Region A's witness cosigns region B's log, and the other way round.
  auto witness_a = StartWitness(dir.Sub("witness-a"), "region-a.test/witness",
                                "region-b.test/", vkey_b);
  auto witness_b = StartWitness(dir.Sub("witness-b"), "region-b.test/witness",
                                "region-a.test/", vkey_a);
  Daemon a(dir.Sub("a"), DaemonYaml("region-a.test", key_a, {witness_b.get()}));
  Daemon b(dir.Sub("b"), DaemonYaml("region-b.test", key_b, {witness_a.get()}));
  ASSERT_TRUE(a.ok() && b.ok());
  for (int round = 0; round < 3; ++round) {
    const uint64_t sa = a.Append("acme", 5, "alice");
    const uint64_t sb = b.Append("acme", 4, "bob");
    b.Append("beta", 2, "carol");
    ASSERT_GT(sa, 0u);
    ASSERT_GT(sb, 0u);
    EXPECT_TRUE(WaitFor([&] { return CosignedBy(a.Checkpoint("acme"), sa, *witness_b, vkey_a); }))
        << a.Checkpoint("acme").note() << a.proc().Log();
    EXPECT_TRUE(WaitFor([&] { return CosignedBy(b.Checkpoint("acme"), sb, *witness_a, vkey_b); }))
        << b.Checkpoint("acme").note() << b.proc().Log();
  }
  // Each witness holds the newest size of the other region's tenants.
  EXPECT_EQ(witness_b->OriginSize("region-a.test/acme"), a.Checkpoint("acme").seq());
  EXPECT_EQ(witness_a->OriginSize("region-b.test/acme"), b.Checkpoint("acme").seq());
  EXPECT_TRUE(WaitFor([&] { return witness_a->OriginSize("region-b.test/beta") == 6; }));
  // Both at quorum: metrics and health say so.
  for (Daemon* d : {&a, &b}) {
    EXPECT_TRUE(WaitFor([&] {
      return Sample(d->Metrics(), "indelible_witness_tenants_below_quorum") == 0 &&
             d->Health(kWitnessing) == HealthCheckResponse::SERVING;
    })) << d->Metrics();
    const std::string m = d->Metrics();
    EXPECT_EQ(Sample(m, "indelible_witness_below_quorum_seconds"), 0) << m;
    EXPECT_EQ(m.find("indelible_witness_failures_total{"), std::string::npos) << m;
    EXPECT_EQ(d->Health(""), HealthCheckResponse::SERVING);
  }
  const std::string m = a.Metrics();
  EXPECT_EQ(Sample(m, "indelible_witness_lag{witness=\"region-b.test/witness\",tenant=\"acme\"}"), 0)
      << m;
  EXPECT_EQ(
      Sample(m, "indelible_witness_cosigned_size{witness=\"region-b.test/witness\",tenant=\"acme\"}"),
      15)
      << m;
  // A cosigned note is still a valid checkpoint for verifiers without a
  // witness policy.
  auto log_key = chain::ParseNoteVerifierKey(vkey_a);
  ASSERT_TRUE(log_key.ok());
  EXPECT_TRUE(chain::VerifyCheckpointV2(a.Checkpoint("acme").note(), {*log_key}).ok());
}

// A witness that is down does not stop appends; the daemon reports the tenant
// below quorum until the witness is back, then catches up.
TEST(WitnessingE2E, AWitnessDownDoesNotStopAppends) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/1", "down.test/", vkey);
  Daemon d(dir.Sub("d"), DaemonYaml("down.test", key, {w.get()}));
  ASSERT_TRUE(d.ok());
  const uint64_t s1 = d.Append("acme", 3, "alice");
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("acme"), s1, *w, vkey); }));
  ASSERT_EQ(w->proc->Stop(), 0);
  const uint64_t s2 = d.Append("acme", 3, "alice");
  EXPECT_EQ(s2, s1 + 3);
  EXPECT_TRUE(WaitFor([&] {
    const std::string m = d.Metrics();
    return Sample(m, "indelible_witness_failures_total{witness=\"w.test/1\",reason=\"unreachable\"}") >= 1 &&
           Sample(m, "indelible_witness_below_quorum_seconds") > 1 &&
           d.Health(kWitnessing) == HealthCheckResponse::NOT_SERVING;
  })) << d.Metrics();
  EXPECT_EQ(d.Health(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Sample(d.Metrics(), "indelible_witness_lag{witness=\"w.test/1\",tenant=\"acme\"}"), 3);
  ASSERT_TRUE(w->proc->Start());
  // The restarted witness listens on another port; the daemon knows the old
  // one, so restart it with the new URL (the same witness: not a weakening).
  d.proc().Stop();
  std::ofstream(dir.Sub("d/config.yaml")) << DaemonYaml("down.test", key, {w.get()});
  ASSERT_TRUE(d.proc().Restart().ok());
  // The new URL is on record in the chain first (one more record).
  EXPECT_TRUE(WaitFor([&] {
    const v1::Checkpoint cp = d.Checkpoint("acme");
    return cp.seq() > s2 && CosignedBy(cp, cp.seq(), *w, vkey);
  })) << d.proc().Log();
  EXPECT_TRUE(WaitFor([&] { return d.Health(kWitnessing) == HealthCheckResponse::SERVING; }));
}

// A purge's final checkpoint (size: the events and the purge's record) is
// sent to the witnesses like any other, its cosignature is kept, and it
// still carries it after a restart.
TEST(WitnessingE2E, APurgedTenantsFinalCheckpointIsCosigned) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/1", "purge.test/", vkey);
  Daemon d(dir.Sub("d"), DaemonYaml("purge.test", key, {w.get()}));
  ASSERT_TRUE(d.ok());
  const uint64_t s1 = d.Append("gone", 3, "alice");
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("gone"), s1, *w, vkey); }));
  auto admin = v1::Admin::NewStub(
      grpc::CreateChannel(d.proc().target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::PurgeTenantRequest purge;
  purge.mutable_context()->set_actor("carol@ops");
  purge.mutable_context()->set_reason("account closed");
  purge.set_tenant("gone");
  v1::PurgeTenantResponse resp;
  grpc::Status st = admin->PurgeTenant(&ctx, purge, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.final_seq(), s1 + 1);
  EXPECT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("gone"), s1 + 1, *w, vkey); }))
      << d.Checkpoint("gone").note();
  d.proc().Stop();
  ASSERT_TRUE(d.proc().Restart().ok());
  EXPECT_TRUE(CosignedBy(d.Checkpoint("gone"), s1 + 1, *w, vkey));
  EXPECT_TRUE(WaitFor([&] { return d.Health(kWitnessing) == HealthCheckResponse::SERVING; }));
}

// Dropping a witness or lowering the quorum is a weakening: refused at
// start (exit code 2, naming it) unless --accept-weaker-config, which puts it
// on record in the tenant's chain.
TEST(WitnessingE2E, RemovingAWitnessIsRefusedAsWeaker) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w1 = StartWitness(dir.Sub("w1"), "w.test/1", "gov.test/", vkey);
  auto w2 = StartWitness(dir.Sub("w2"), "w.test/2", "gov.test/", vkey);
  Daemon d(dir.Sub("d"), DaemonYaml("gov.test", key, {w1.get(), w2.get()}));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.Append("acme", 2, "alice"), 2u);
  ASSERT_EQ(d.proc().Stop(), 0);
  std::ofstream(dir.Sub("d/config.yaml")) << DaemonYaml("gov.test", key, {w1.get()});
  auto restarted = d.proc().Restart();
  ASSERT_FALSE(restarted.ok());
  EXPECT_TRUE(absl::StrContains(restarted.message(), "witnesses[w.test/2]: removed"))
      << restarted.message();
  std::ofstream(dir.Sub("d/config.yaml"))
      << DaemonYaml("gov.test", key, {w1.get(), w2.get()},
                    "witness_quorum: 1\nwitness_allow_minority_quorum: true\n");
  restarted = d.proc().Restart();
  ASSERT_FALSE(restarted.ok());
  EXPECT_TRUE(absl::StrContains(restarted.message(), "witness_quorum: 2 -> 1"))
      << restarted.message();
  // Accepted: on record in the chain (one more record), then in force.
  auto accepted = DaemonProcess::Start({.data_dir = d.data_dir(),
                                        .extra_args = {"--config", dir.Sub("d/config.yaml"),
                                                       "--accept-weaker-config"}});
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(absl::StrContains((*accepted)->Log(), "event=config_weakened"));
  auto stub = v1::AuditLog::NewStub(
      grpc::CreateChannel((*accepted)->target(), grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    v1::ReadRecordsRequest req;
    req.set_tenant("acme");
    req.set_from_seq(3);
    req.set_reason("witnessing");
    auto reader = stub->ReadRecords(&ctx, req);
    v1::Record r;
    bool found = false;
    while (reader->Read(&r)) {
      found = found || absl::StrContains(r.DebugString(), "witness_quorum");
    }
    reader->Finish();
    return found;
  })) << (*accepted)->Log();
}

// Over mutual TLS: the daemon checks the witness's certificate against
// tls.ca_file and presents its own.
TEST(WitnessingE2E, MutualTls) {
  TempDir dir;
  const std::string certs = dir.Sub("certs");
  auto made = testing::MakeDevCerts(certs, {"indelibled"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/tls", "tls.test/", vkey,
                        "tls:\n  cert_file: " + certs + "/server.pem\n  key_file: " + certs +
                            "/server.key\n  client_ca_file: " + certs + "/ca.pem\n");
  w->https = true;
  Daemon d(dir.Sub("d"), DaemonYaml("tls.test", key, {w.get()}, "",
                                    "    tls: {ca_file: " + certs + "/ca.pem, cert_file: " +
                                        certs + "/indelibled.pem, key_file: " + certs +
                                        "/indelibled.key}\n"));
  ASSERT_TRUE(d.ok());
  const uint64_t s1 = d.Append("acme", 4, "alice");
  EXPECT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("acme"), s1, *w, vkey); }))
      << d.proc().Log();
  // Without the client certificate the witness does not answer.
  Daemon anonymous(dir.Sub("anonymous"),
                   DaemonYaml("tls.test", key, {w.get()}, "",
                              "    tls: {ca_file: " + certs + "/ca.pem}\n"));
  ASSERT_TRUE(anonymous.ok());
  anonymous.Append("beta", 1, "alice");
  EXPECT_TRUE(WaitFor([&] {
    return Sample(anonymous.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/tls\",reason=\"unreachable\"}") >= 1;
  })) << anonymous.Metrics();
  EXPECT_FALSE(HasCosignatureLine(anonymous.Checkpoint("beta"), *w));
}

// A witness whose answer does not verify against the configured key (here:
// the daemon was given another key of the same name) is not stored.
TEST(WitnessingE2E, CosignatureByAnotherKeyIsNotStored) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/1", "badsig.test/", vkey);
  const std::string other_vkey = KeyGen(dir.Sub("other.pem"), w->name);
  Daemon d(dir.Sub("d"),
           absl::StrCat("log_name: badsig.test\nsigning_key_file: ", key,
                        "\ncheckpoint_interval_ms: 50\nmetrics_listen: 127.0.0.1:0\n",
                        "witnesses:\n  - name: ", w->name, "\n    url: \"", w->Url(),
                        "\"\n    key: \"", other_vkey, "\"\n"));
  ASSERT_TRUE(d.ok());
  d.Append("acme", 2, "alice");
  EXPECT_TRUE(WaitFor([&] {
    return Sample(d.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/1\",reason=\"bad_cosignature\"}") >= 1;
  })) << d.Metrics() << d.proc().Log();
  EXPECT_FALSE(HasCosignatureLine(d.Checkpoint("acme"), *w)) << d.Checkpoint("acme").note();
}

// Attack 1: whoever holds the data directory (and the signing key) rewrites
// the tail of a tenant's chain, consistently: new event contents, entry
// hashes, tree nodes and head, the checkpoints after the rewrite point
// dropped. The offline verifier finds nothing; the witness refuses.
void RewriteTail(const std::string& data_dir, const std::string& tenant, uint64_t from) {
  auto storage = Storage::Open(data_dir, StorageOptions{});
  ASSERT_TRUE(storage.ok()) << storage.status();
  Storage& st = **storage;
  auto records = st.ReadRecords(tenant, 1, 100000);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_GE(records->size(), from);
  rocksdb::ColumnFamilyHandle *skeletons = nullptr, *bodies = nullptr, *cps = nullptr,
                              *cps2 = nullptr;
  for (auto* cf : st.column_families()) {
    if (cf->GetName() == store::kSkeletonsCf) skeletons = cf;
    if (cf->GetName() == store::kBodiesCf) bodies = cf;
    if (cf->GetName() == store::kCheckpointsCf) cps = cf;
    if (cf->GetName() == store::kCheckpointsV2Cf) cps2 = cf;
  }
  ASSERT_TRUE(skeletons && bodies && cps && cps2);
  rocksdb::WriteBatch batch;
  // Every body and skeleton of the tenant is written again, each as a run
  // of one (layout.h): the old runs may hold records on both sides of
  // `from`.
  std::string end(tenant);
  end.push_back('\x01');
  batch.DeleteRange(bodies, store::TenantPrefix(tenant), end);
  batch.DeleteRange(skeletons, store::TenantPrefix(tenant), end);
  chain::Digest prev = chain::Genesis(tenant);
  chain::CompactRange tree;
  for (StoredRecord& r : *records) {
    ASSERT_FALSE(r.pruned);
    if (r.seq >= from) {
      // "alice" did it? Now "malle" did.
      const size_t at = r.ce.find("alice");
      ASSERT_NE(at, std::string::npos);
      r.ce.replace(at, 5, "malle");
      r.skeleton.body_digest = chain::BodyDigest(r.salt, r.ce);
      r.skeleton.entry_hash = chain::EntryHash(tenant, r.seq, r.skeleton.received_at_ns, prev,
                                               r.skeleton.body_digest);
      batch.Delete(cps, store::SeqKey(tenant, r.seq));
      batch.Delete(cps2, store::SeqKey(tenant, r.seq));
    }
    std::string skeleton_run;
    store::AppendToSkeletonRun(&skeleton_run, r.seq, store::EncodeSkeleton(r.skeleton));
    batch.Put(skeletons, store::SeqKey(tenant, r.seq), skeleton_run);
    std::string body, run;
    chain::PutU64(&body, r.skeleton.received_at_ns);
    body += r.salt;
    body += r.ce;
    store::AppendToBodyRun(&run, r.seq, body);
    batch.Put(bodies, store::SeqKey(tenant, r.seq), run);
    prev = r.skeleton.entry_hash;
    auto category = chain::CanonicalEventCategory(r.ce);
    ASSERT_TRUE(category.ok());
    tree.Append(chain::LeafHash(r.skeleton.entry_hash, *category),
                [&](chain::NodeId node, const chain::Digest& hash) {
                  if (store::IsStoredNode(node)) st.PutTreeNode(&batch, tenant, node, hash);
                });
  }
  const StoredRecord& last = records->back();
  st.PutHead(&batch, tenant, {last.seq, last.skeleton.received_at_ns, last.skeleton.entry_hash});
  ASSERT_TRUE(st.WriteSynced(&batch).ok());
}

// Deletes `tenant`'s v1 and v2 checkpoint rows of sizes above `keep`.
void DropCheckpointsAbove(const std::string& data_dir, const std::string& tenant,
                          uint64_t keep, uint64_t upto) {
  auto storage = Storage::Open(data_dir, StorageOptions{});
  ASSERT_TRUE(storage.ok()) << storage.status();
  rocksdb::WriteBatch batch;
  for (auto* cf : (*storage)->column_families()) {
    if (cf->GetName() != store::kCheckpointsCf && cf->GetName() != store::kCheckpointsV2Cf) {
      continue;
    }
    for (uint64_t size = keep + 1; size <= upto; ++size) {
      batch.Delete(cf, store::SeqKey(tenant, size));
    }
  }
  ASSERT_TRUE((*storage)->WriteSynced(&batch).ok());
}

TEST(WitnessingE2E, RewrittenTailIsRefusedAndReported) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/1", "rewrite.test/", vkey);
  Daemon d(dir.Sub("d"), DaemonYaml("rewrite.test", key, {w.get()}));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.Append("acme", 7, "alice"), 7u);
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("acme"), 7, *w, vkey); }));
  ASSERT_EQ(d.Append("acme", 3, "alice"), 10u);
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("acme"), 10, *w, vkey); }));
  const v1::Checkpoint genuine = d.Checkpoint("acme");
  ASSERT_EQ(d.proc().Stop(), 0);

  RewriteTail(d.data_dir(), "acme", 8);
  // The offline verifier, trusting the log's key and no witness, passes:
  // the checkpoint of size 7 (still stored) is a prefix of the new tree.
  auto check = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", d.data_dir(),
                           "--key", vkey, "--json"});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(nlohmann::json::parse(check.out)["totals"]["findings"], 0) << check.out;
  EXPECT_EQ(nlohmann::json::parse(check.out)["verified"], true) << check.out;

  ASSERT_TRUE(d.proc().Restart().ok());
  ASSERT_EQ(d.Append("acme", 3, "alice"), 13u);
  // The witness refuses; the daemon says so in metrics, health and its log.
  EXPECT_TRUE(WaitFor([&] {
    return Sample(d.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/1\",reason=\"inconsistent\"}") >= 1;
  })) << d.Metrics() << d.proc().Log();
  EXPECT_TRUE(WaitFor([&] { return d.Health(kWitnessing) == HealthCheckResponse::NOT_SERVING; }));
  EXPECT_EQ(d.Health(""), HealthCheckResponse::SERVING);  // appends go on
  EXPECT_TRUE(WaitFor([&] {
    return absl::StrContains(d.proc().Log(),
                             "event=witness_refused_inconsistent tenant=acme witness=w.test/1");
  })) << d.proc().Log();
  EXPECT_TRUE(WaitFor([&] { return Sample(d.Metrics(), "indelible_witness_below_quorum_seconds") > 1; }));
  // Never at quorum: no cosignature on the rewritten history.
  const v1::Checkpoint now = d.Checkpoint("acme");
  EXPECT_EQ(now.seq(), 13u);
  EXPECT_FALSE(HasCosignatureLine(now, *w)) << now.note();
  EXPECT_FALSE(CosignedBy(now, 13, *w, vkey));
  // The witness still holds the genuine tree of size 10.
  EXPECT_EQ(w->OriginSize("rewrite.test/acme"), 10u);
  EXPECT_TRUE(absl::StrContains(w->proc->Log(), "event=inconsistent_checkpoint") ||
              absl::StrContains(w->proc->Log(), "event=split_view"))
      << w->proc->Log();
  EXPECT_TRUE(CosignedBy(genuine, 10, *w, vkey));
  // An auditor who demands the witness's cosignature is not fooled: over
  // the wire and on the data directory, the rewritten tenant is named as
  // below quorum (exit 3, not verified).
  auto remote = RunCommand({BinPath("indelible-verify"), "check", "--remote", d.proc().target(),
                            "--tenant", "acme", "--key", vkey, "--witness", w->vkey});
  EXPECT_EQ(remote.exit_code, 3) << remote.out << remote.err;
  EXPECT_TRUE(absl::StrContains(remote.out + remote.err, "missing: w.test/1"))
      << remote.out << remote.err;
  ASSERT_EQ(d.proc().Stop(), 0);
  check = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", d.data_dir(), "--key",
                      vkey, "--witness", w->vkey, "--json"});
  EXPECT_EQ(check.exit_code, 3) << check.out << check.err;
  EXPECT_EQ(nlohmann::json::parse(check.out)["below_quorum_tenants"], nlohmann::json{"acme"})
      << check.out;
  // The attacker then deletes every checkpoint the witness refused, so the
  // newest one left (size 7) is cosigned: records 8..13 are still covered by
  // no cosignature, and the auditor says so.
  DropCheckpointsAbove(d.data_dir(), "acme", 7, 13);
  check = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", d.data_dir(), "--key",
                      vkey, "--witness", w->vkey});
  EXPECT_EQ(check.exit_code, 3) << check.out << check.err;
  EXPECT_TRUE(absl::StrContains(check.out, "acme: records 8..13 come after the newest v2 "
                                           "checkpoint (size 7)"))
      << check.out;
}

// Attack 2: a split view. A second daemon with the same key and log name
// over other events shows a checkpoint of the same size; the witness
// cosigns only the first.
TEST(WitnessingE2E, SplitViewGetsAtMostOneCosignature) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/1", "split.test/", vkey);
  Daemon a(dir.Sub("a"), DaemonYaml("split.test", key, {w.get()}));
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a.Append("acme", 5, "alice"), 5u);
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(a.Checkpoint("acme"), 5, *w, vkey); }));
  Daemon b(dir.Sub("b"), DaemonYaml("split.test", key, {w.get()}));
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b.Append("acme", 5, "bob"), 5u);
  EXPECT_TRUE(WaitFor([&] {
    return Sample(b.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/1\",reason=\"inconsistent\"}") >= 1;
  })) << b.Metrics() << b.proc().Log();
  const v1::Checkpoint cp_a = a.Checkpoint("acme"), cp_b = b.Checkpoint("acme");
  ASSERT_EQ(cp_a.seq(), cp_b.seq());
  EXPECT_NE(cp_a.root_hash(), cp_b.root_hash());
  EXPECT_TRUE(CosignedBy(cp_a, 5, *w, vkey));
  EXPECT_FALSE(HasCosignatureLine(cp_b, *w)) << cp_b.note();
  EXPECT_TRUE(absl::StrContains(w->proc->Log(), "event=split_view")) << w->proc->Log();
  // Submitted by hand, from the size the witness holds: still refused.
  auto split = chain::SplitNote(cp_b.note());
  ASSERT_TRUE(split.ok());
  httplib::Client cli("127.0.0.1", w->proc->port());
  auto res = cli.Post("/add-checkpoint", "old 5\n\n" + cp_b.note(), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_TRUE(WaitFor([&] { return b.Health(kWitnessing) == HealthCheckResponse::NOT_SERVING; }));
  EXPECT_EQ(a.Health(kWitnessing), HealthCheckResponse::SERVING);
  // Two auditors with the same witness policy: the one shown a's view
  // verifies it, the one shown b's is refused (below quorum, exit 3).
  auto check_a = RunCommand({BinPath("indelible-verify"), "check", "--remote", a.proc().target(),
                             "--tenant", "acme", "--key", vkey, "--witness", w->vkey});
  EXPECT_EQ(check_a.exit_code, 0) << check_a.out << check_a.err;
  auto check_b = RunCommand({BinPath("indelible-verify"), "check", "--remote", b.proc().target(),
                             "--tenant", "acme", "--key", vkey, "--witness", w->vkey});
  EXPECT_EQ(check_b.exit_code, 3) << check_b.out << check_b.err;
}

// A split view against several witnesses: the attacker shows each view to
// its own witnesses. With 3 witnesses and quorum 2 (a majority) the two
// views share a witness, which cosigns only the first: the second stays
// below quorum. A quorum of 1 of the 2 witnesses that do not overlap would
// let both views reach it, so verifiers refuse such a policy (exit 2) unless
// told --allow-minority-quorum.
TEST(WitnessingE2E, SplitViewCannotReachAMajorityQuorumTwice) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w1 = StartWitness(dir.Sub("w1"), "w.test/1", "split.test/", vkey);
  auto w2 = StartWitness(dir.Sub("w2"), "w.test/2", "split.test/", vkey);
  auto w3 = StartWitness(dir.Sub("w3"), "w.test/3", "split.test/", vkey);
  Daemon a(dir.Sub("a"), DaemonYaml("split.test", key, {w1.get(), w2.get()}));
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a.Append("acme", 5, "alice"), 5u);
  ASSERT_TRUE(WaitFor([&] {
    const v1::Checkpoint cp = a.Checkpoint("acme");
    return CosignedBy(cp, 5, *w1, vkey) && CosignedBy(cp, 5, *w2, vkey);
  })) << a.Checkpoint("acme").note();
  Daemon b(dir.Sub("b"), DaemonYaml("split.test", key, {w2.get(), w3.get()}));
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b.Append("acme", 5, "bob"), 5u);
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(b.Checkpoint("acme"), 5, *w3, vkey); }))
      << b.Checkpoint("acme").note() << b.proc().Log();
  EXPECT_TRUE(WaitFor([&] {
    return Sample(b.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/2\",reason=\"inconsistent\"}") >= 1;
  })) << b.Metrics();
  const v1::Checkpoint cp_a = a.Checkpoint("acme"), cp_b = b.Checkpoint("acme");
  ASSERT_EQ(cp_a.seq(), cp_b.seq());
  ASSERT_NE(cp_a.root_hash(), cp_b.root_hash());
  EXPECT_FALSE(HasCosignatureLine(cp_b, *w2)) << cp_b.note();
  EXPECT_FALSE(HasCosignatureLine(cp_a, *w3)) << cp_a.note();

  auto check = [&](Daemon& d, std::vector<std::string> policy) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "check", "--remote",
                                     d.proc().target(), "--tenant", "acme", "--key", vkey};
    argv.insert(argv.end(), policy.begin(), policy.end());
    return RunCommand(argv);
  };
  // Two of three: a's view reaches it, b's does not.
  const std::vector<std::string> majority = {"--witness", w1->vkey, "--witness", w2->vkey,
                                             "--witness", w3->vkey, "--quorum", "2"};
  auto ra = check(a, majority), rb = check(b, majority);
  EXPECT_EQ(ra.exit_code, 0) << ra.out << ra.err;
  EXPECT_EQ(rb.exit_code, 3) << rb.out << rb.err;
  EXPECT_TRUE(absl::StrContains(rb.out + rb.err, "missing: w.test/1, w.test/2")) << rb.out << rb.err;
  // One of {w1, w3}: both views would reach it. Refused as a policy ...
  const std::vector<std::string> minority = {"--witness", w1->vkey, "--witness", w3->vkey,
                                             "--quorum", "1"};
  for (Daemon* d : {&a, &b}) {
    auto r = check(*d, minority);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "quorum 1 of 2 witnesses is not a majority")) << r.err;
  }
  // ... and, explicitly allowed, it shows why: both views pass.
  std::vector<std::string> allowed = minority;
  allowed.push_back("--allow-minority-quorum");
  EXPECT_EQ(check(a, allowed).exit_code, 0);
  EXPECT_EQ(check(b, allowed).exit_code, 0);
}

// Attack 3: the data directory rolled back to an older backup. Its newest
// checkpoint was cosigned once, but nothing it signs from now on is.
TEST(WitnessingE2E, RollbackToAnOlderBackupIsRefused) {
  TempDir dir;
  const std::string key = dir.Sub("log.pem");
  KeyGen(key, "unused");
  const std::string vkey = testing::VerifierKeyOf(key);
  auto w = StartWitness(dir.Sub("w"), "w.test/1", "rollback.test/", vkey);
  const std::string yaml =
      DaemonYaml("rollback.test", key, {w.get()}, "backup:\n  dir: " + dir.Sub("backups") + "\n");
  Daemon d(dir.Sub("d"), yaml);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.Append("acme", 5, "alice"), 5u);
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("acme"), 5, *w, vkey); }));
  auto backup = RunCommand({BinPath("indelible"), "--target", d.proc().target(), "backup", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  const std::string backup_path = nlohmann::json::parse(backup.out)["path"];
  ASSERT_EQ(d.Append("acme", 5, "alice"), 10u);
  ASSERT_TRUE(WaitFor([&] { return CosignedBy(d.Checkpoint("acme"), 10, *w, vkey); }));
  ASSERT_EQ(d.proc().Stop(), 0);

  // Restored where a second daemon with the same configuration runs.
  fs::create_directories(dir.Sub("back"));
  auto r = RunCommand({BinPath("indelible-verify"), "restore", "--from", backup_path,
                       "--data-dir", dir.Sub("back/data"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Daemon back(dir.Sub("back"), yaml);
  ASSERT_TRUE(back.ok());
  // The restored newest checkpoint is the one cosigned before the backup.
  EXPECT_TRUE(CosignedBy(back.Checkpoint("acme"), 5, *w, vkey));
  ASSERT_EQ(back.Append("acme", 2, "mallory"), 7u);
  EXPECT_TRUE(WaitFor([&] {
    return Sample(back.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/1\",reason=\"inconsistent\"}") >= 1;
  })) << back.Metrics() << back.proc().Log();
  EXPECT_TRUE(absl::StrContains(back.proc().Log(), "witness_size=10")) << back.proc().Log();
  EXPECT_TRUE(WaitFor([&] { return back.Health(kWitnessing) == HealthCheckResponse::NOT_SERVING; }));
  // Past the size the witness holds, the proof from it fails (422).
  ASSERT_EQ(back.Append("acme", 6, "mallory"), 13u);
  EXPECT_TRUE(WaitFor([&] {
    return Sample(back.Metrics(),
                  "indelible_witness_failures_total{witness=\"w.test/1\",reason=\"inconsistent\"}") >= 2;
  })) << back.Metrics();
  EXPECT_FALSE(HasCosignatureLine(back.Checkpoint("acme"), *w));
  EXPECT_EQ(w->OriginSize("rollback.test/acme"), 10u);
}

}  // namespace
}  // namespace indelible
