// Governance through the real daemon over TLS with client certificates:
// configuration changes are recorded (old -> new) in the chains they concern
// before they apply, and weakening ones are refused on SIGHUP and need
// --accept-weaker-config at start; a token and a certificate of one person
// cannot approve each other's requests; a backup is recorded in every
// tenant's chain before it is taken.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "tests/e2e/harness.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::Caller;
using testing::CommandResult;
using testing::DaemonProcess;
using testing::ReadRecords;
using testing::RunCommand;
using testing::TempDir;

// admin1's second principal: a token mapped to the person admin1.
constexpr char kAdminToken[] = "idl_test-token-of-admin1-for-ci-0123456789";
// A writer of globex.
constexpr char kGlobexToken[] = "idl_test-token-for-globex-writer-0123456789";

// The config's security settings; `auth_extra` goes under auth:, `more` at
// the top level.
struct Settings {
  std::string auth_extra;
  std::string bindings_extra;
  std::string more;
  std::string admin_ci_person = "admin1";
};

class GovernanceE2E : public ::testing::Test {
 protected:
  static inline testing::SuitePreparation suite_;
  static void PrepareSuite() {
    certs_ = new TempDir();
    CommandResult r = testing::MakeDevCerts(
        certs_->path(), {"writer", "reader", "auditor", "admin1", "admin2", "stranger"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  std::string Cert(const std::string& name) const { return certs_->path() + "/" + name; }

  std::string Config(const Settings& s = {}) const {
    std::ostringstream c;
    c << "tls:\n"
      << "  cert_file: " << Cert("server.pem") << "\n"
      << "  key_file: " << Cert("server.key") << "\n"
      << "  client_ca_file: " << Cert("ca.pem") << "\n"
      << "backup:\n"
      << "  dir: " << dir_.Sub("backups") << "\n"
      << s.more
      << "auth:\n"
      << "  enabled: true\n"
      << s.auth_extra
      << "  tokens:\n"
      << "    - principal: admin1-ci\n"
      << "      person: " << s.admin_ci_person << "\n"
      << "      sha256: " << chain::ToHex(chain::Sha256(kAdminToken)) << "\n"
      << "    - principal: svc-globex\n"
      << "      sha256: " << chain::ToHex(chain::Sha256(kGlobexToken)) << "\n"
      << "  bindings:\n"
      << "    - {principal: writer, roles: [writer], tenants: [acme]}\n"
      << "    - {principal: svc-globex, roles: [writer], tenants: [globex]}\n"
      << "    - {principal: reader, roles: [reader], tenants: [acme]}\n"
      << "    - {principal: auditor, roles: [auditor], tenants: [acme, globex]}\n"
      << "    - {principal: admin1, roles: [admin], tenants: [\"*\"]}\n"
      << "    - {principal: admin1-ci, roles: [admin], tenants: [\"*\"]}\n"
      << "    - {principal: admin2, roles: [admin], tenants: [\"*\"]}\n"
      << s.bindings_extra;
    return c.str();
  }

  void WriteConfig(const Settings& s = {}) { std::ofstream(dir_.Sub("config.yaml")) << Config(s); }

  void SetUp() override {
    suite_.Run(&PrepareSuite);
    ASSERT_TRUE(suite_.ok) << "the suite's set-up failed (see the first test)";
    WriteConfig();
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data"),
                                   .extra_args = {"--config", dir_.Sub("config.yaml"),
                                                  "--metrics-listen", "127.0.0.1:0"}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
  }

  Caller As(const std::string& principal, const std::string& token = "") const {
    return testing::TlsCaller(daemon_->target(), certs_->path(), principal, token);
  }

  static grpc::Status Append(const Caller& c, const std::string& tenant, const std::string& id) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::AppendRequest req;
    v1::Event* e = req.mutable_event();
    e->set_tenant(tenant);
    e->set_event_id(id);
    e->mutable_actor()->set_id("alice");
    e->set_action("customer.read");
    v1::AppendResponse resp;
    return c.log->Append(&ctx, req, &resp);
  }

  std::vector<v1::Record> AuditorRead(const std::string& tenant) {
    std::vector<v1::Record> out;
    grpc::Status s = ReadRecords(As("auditor"), tenant, "test inspection", &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  static std::map<std::string, std::string> Metadata(const v1::Event& e) {
    std::map<std::string, std::string> m;
    for (const auto& kv : e.metadata()) m[kv.key()] = kv.value();
    return m;
  }

  // The config records of `action` in `tenant`'s chain: setting -> old -> new.
  std::map<std::string, std::pair<std::string, std::string>> ConfigRecords(
      const std::string& tenant, const std::string& action) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& r : AuditorRead(tenant)) {
      const v1::Event& e = r.event();
      if (e.category() != "indelible.admin" || e.action() != action) continue;
      EXPECT_EQ(e.actor().id(), "operator");
      EXPECT_EQ(e.resource().type(), "config");
      auto m = Metadata(e);
      out[e.resource().id()] = {m["old"], m["new"]};
    }
    return out;
  }

  // Sends SIGHUP and waits (bounded) until the log has one more `marker`.
  void Hup(const std::string& marker) {
    auto count = [&] {
      const std::string log = daemon_->Log();
      size_t n = 0;
      for (size_t p = log.find(marker); p != std::string::npos; p = log.find(marker, p + 1)) ++n;
      return n;
    };
    const size_t before = count();
    ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
    for (int i = 0; i < 400 && count() == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_GT(count(), before) << daemon_->Log();
  }

  grpc::Status Purge(const Caller& c, const std::string& tenant, v1::PurgeTenantResponse* resp) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::PurgeTenantRequest req;
    req.mutable_context()->set_reason("offboarding");
    req.set_tenant(tenant);
    return c.admin->PurgeTenant(&ctx, req, resp);
  }

  grpc::Status Approve(const Caller& c, const std::string& id, v1::ApproveResponse* resp) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::ApproveRequest req;
    req.mutable_context()->set_reason("checked");
    req.set_request_id(id);
    return c.admin->Approve(&ctx, req, resp);
  }

  // The /metrics text of the daemon.
  std::string MetricsText() {
    int port = 0;
    std::ifstream(dir_.Sub("data") + ".port.metrics") >> port;
    httplib::Client http("127.0.0.1", port);
    auto res = http.Get("/metrics");
    return res ? res->body : "";
  }

  static TempDir* certs_;
  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TempDir* GovernanceE2E::certs_ = nullptr;

TEST_F(GovernanceE2E, SighupThatWeakensIsRefusedAndTheOldRulesStay) {
  ASSERT_TRUE(Append(As("writer"), "acme", "w-1").ok());
  const std::vector<std::pair<std::string, Settings>> weaker = {
      {"auth.record_reads", {.auth_extra = "  record_reads: false\n"}},
      {"auth.two_person_rule", {.auth_extra = "  two_person_rule: false\n"}},
      {"retention of tenant acme, category access: 365d -> 30d",
       {.more = "retention:\n  tenants:\n    acme:\n      access: 30d\n"}},
      {"principals \"admin1\" and \"admin1-ci\" were one person",
       {.admin_ci_person = "someone-else"}},
  };
  for (const auto& [what, settings] : weaker) {
    WriteConfig(settings);
    Hup("event=reload_refused");
    EXPECT_TRUE(absl::StrContains(daemon_->Log(), what)) << what << "\n" << daemon_->Log();
  }
  // Reads are still recorded.
  std::vector<v1::Record> seen;
  ASSERT_TRUE(ReadRecords(As("reader"), "acme", "after refused reloads", &seen).ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().event().action(), "records.read");
  EXPECT_EQ(seen.back().event().reason(), "after refused reloads");
  // A purge still waits for a second admin.
  v1::PurgeTenantResponse asked;
  ASSERT_TRUE(Purge(As("admin1"), "acme", &asked).ok());
  EXPECT_TRUE(asked.has_pending());
  // Nothing of the refused changes is on record, and they are counted.
  EXPECT_TRUE(ConfigRecords("acme", "config.reload").empty());
  const std::string metrics = MetricsText();
  EXPECT_TRUE(absl::StrContains(metrics, "indelible_config_reloads_total{outcome=\"refused\"} 4"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "indelible_config_reloads_total{outcome=\"applied\"} 0"))
      << metrics;
}

TEST_F(GovernanceE2E, SighupThatStrengthensIsRecordedBeforeItApplies) {
  ASSERT_TRUE(Append(As("writer"), "acme", "s-1").ok());
  ASSERT_TRUE(Append(As("stranger", kGlobexToken), "globex", "s-2").ok());
  EXPECT_EQ(ReadRecords(As("reader"), "globex", "before").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  WriteConfig({.bindings_extra = "    - {principal: reader, roles: [reader], tenants: [globex]}\n",
               .more = "retention:\n  categories:\n    trace: 120d\n"});
  Hup("event=config_reloaded");
  ASSERT_TRUE(ReadRecords(As("reader"), "globex", "after reload").ok()) << daemon_->Log();

  // The binding concerns globex only; the retention change every tenant.
  auto globex = ConfigRecords("globex", "config.reload");
  auto acme = ConfigRecords("acme", "config.reload");
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(globex["auth.bindings[reader][globex]"], P("(unset)", "reader"));
  EXPECT_EQ(globex["retention.categories[trace]"], P("90d", "120d"));
  EXPECT_EQ(acme["retention.categories[trace]"], P("90d", "120d"));
  EXPECT_EQ(acme.count("auth.bindings[reader][globex]"), 0u);
  EXPECT_EQ(globex.size(), 2u);
  EXPECT_EQ(acme.size(), 1u);
  // On record before the binding let the reader in: the reader's first
  // recorded read of globex comes after it.
  int64_t change_seq = -1, read_seq = -1;
  for (const auto& r : AuditorRead("globex")) {
    if (r.event().resource().id() == "auth.bindings[reader][globex]") change_seq = r.seq();
    if (read_seq < 0 && r.event().action() == "records.read" &&
        r.event().actor().id() == "reader") {
      read_seq = r.seq();
    }
  }
  ASSERT_GT(change_seq, 0);
  EXPECT_LT(change_seq, read_seq);
  // Stopped, the daemon has signed a checkpoint of every head.
  ASSERT_EQ(daemon_->Stop(), 0);
  CommandResult check = RunCommand({BinPath("indelible-verify"), "check", "--data-dir",
                                    dir_.Sub("data"), "--key",
                                    testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem"))});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(GovernanceE2E, RestartWithAnotherFileRecordsOldToNewAndWeakeningNeedsTheFlag) {
  ASSERT_TRUE(Append(As("writer"), "acme", "r-1").ok());
  ASSERT_EQ(daemon_->Stop(), 0);
  // Stronger: longer retention for acme's access records.
  WriteConfig({.more = "retention:\n  tenants:\n    acme:\n      access: 400d\n"});
  ASSERT_TRUE(daemon_->Restart().ok()) << daemon_->Log();
  auto acme = ConfigRecords("acme", "config.start");
  EXPECT_EQ(acme["retention.tenants[acme][access]"],
            std::make_pair(std::string("(unset)"), std::string("400d")));
  EXPECT_EQ(acme.size(), 1u);
  ASSERT_EQ(daemon_->Stop(), 0);

  // Weaker: refused at start (exit 2, nothing recorded) ...
  WriteConfig({.auth_extra = "  record_reads: false\n"});
  CommandResult r = RunCommand({BinPath("indelibled"), "--config", dir_.Sub("config.yaml"),
                                "--data-dir", dir_.Sub("data"), "--listen", "127.0.0.1:0"},
                               "", std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "auth.record_reads: in force -> off")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "--accept-weaker-config")) << r.err;
  // ... and applied, on record as accepted, with the flag.
  daemon_.reset();
  auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data"),
                                 .extra_args = {"--config", dir_.Sub("config.yaml"),
                                                "--accept-weaker-config"}});
  ASSERT_TRUE(d.ok()) << d.status();
  daemon_ = std::move(*d);
  bool accepted = false;
  for (const auto& rec : AuditorRead("acme")) {
    const v1::Event& e = rec.event();
    if (e.action() != "config.start" || e.resource().id() != "auth.record_reads") continue;
    auto m = Metadata(e);
    EXPECT_EQ(m["old"], "true");
    EXPECT_EQ(m["new"], "false");
    accepted = m["weakening"] == "accepted with --accept-weaker-config";
  }
  EXPECT_TRUE(accepted);
  // Now reads are not recorded: the auditor's read above left nothing.
  const size_t n = AuditorRead("acme").size();
  EXPECT_EQ(AuditorRead("acme").size(), n);
}

TEST_F(GovernanceE2E, OnePersonCannotApproveUnderAnotherPrincipal) {
  ASSERT_TRUE(Append(As("writer"), "acme", "p-1").ok());
  const Caller cert = As("admin1");
  const Caller token = As("stranger", kAdminToken);  // admin1-ci, person admin1
  v1::PurgeTenantResponse asked;
  ASSERT_TRUE(Purge(cert, "acme", &asked).ok());
  ASSERT_TRUE(asked.has_pending());
  EXPECT_EQ(asked.pending().requested_by_person(), "admin1");
  v1::ApproveResponse resp;
  grpc::Status s = Approve(token, asked.pending().request_id(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "is person \"admin1\"")) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "a different person must approve"))
      << s.error_message();

  // The other way round too: the token asks, the certificate may not approve.
  ASSERT_TRUE(Append(As("stranger", kGlobexToken), "globex", "p-2").ok());
  v1::PurgeTenantResponse asked2;
  ASSERT_TRUE(Purge(token, "globex", &asked2).ok());
  ASSERT_TRUE(asked2.has_pending());
  EXPECT_EQ(Approve(cert, asked2.pending().request_id(), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Another person may.
  v1::ApproveResponse done;
  s = Approve(As("admin2"), asked.pending().request_id(), &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(done.has_purge_tenant());
  // The certificate names who asked and who approved, in that order.
  auto certificate = chain::ParseDeletionCertificateText(
      done.purge_tenant().certificate().substr(
          0, done.purge_tenant().certificate().find("\n\n") + 1));
  ASSERT_TRUE(certificate.ok()) << certificate.status();
  EXPECT_EQ(certificate->version, 2);
  EXPECT_EQ(certificate->approvers, (std::vector<std::string>{"admin1", "admin2"}));
  EXPECT_EQ(done.purge_tenant().approvers_size(), 2);
  // An auditor still reads the purged tenant's records, as hashes only (the
  // read is not recorded: its chain takes no more records).
  const auto records = AuditorRead("acme");
  ASSERT_EQ(records.size(), done.purge_tenant().final_seq());
  for (const auto& r : records) {
    EXPECT_TRUE(r.pruned()) << r.seq();
    EXPECT_FALSE(r.has_canonical_event()) << r.seq();
  }
}

TEST_F(GovernanceE2E, BackupIsRecordedInEveryTenantsChainFirst) {
  ASSERT_TRUE(Append(As("writer"), "acme", "b-1").ok());
  ASSERT_TRUE(Append(As("stranger", kGlobexToken), "globex", "b-2").ok());
  const Caller admin = As("admin1");
  {
    grpc::ClientContext ctx;
    admin.Prepare(&ctx);
    v1::BackupResponse resp;
    grpc::Status s = admin.admin->Backup(&ctx, {}, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "reason: required")) << s.error_message();
  }
  grpc::ClientContext ctx;
  admin.Prepare(&ctx);
  v1::BackupRequest req;
  req.set_reason("offsite copy, ticket OPS-7");
  v1::BackupResponse resp;
  grpc::Status s = admin.admin->Backup(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::map<std::string, uint64_t> in_backup;
  for (const auto& h : resp.heads()) in_backup[h.tenant()] = h.seq();
  for (const std::string tenant : {"acme", "globex"}) {
    int found = 0;
    for (const auto& r : AuditorRead(tenant)) {
      const v1::Event& e = r.event();
      if (e.action() != "store.backup") continue;
      ++found;
      EXPECT_EQ(e.category(), "indelible.access");
      EXPECT_EQ(e.actor().id(), "admin1");
      EXPECT_EQ(e.reason(), "offsite copy, ticket OPS-7");
      EXPECT_EQ(e.resource().id(), resp.name());
      EXPECT_EQ(Metadata(e)["auth_method"], "certificate");
      // The backup holds its own record: it was written first.
      EXPECT_LE(r.seq(), in_backup[tenant]) << tenant;
    }
    EXPECT_EQ(found, 1) << tenant;
  }
}

TEST_F(GovernanceE2E, AChangeThatCannotBeRecordedIsNotApplied) {
  // Setting names longer than 40 bytes cannot be a record's resource id.
  const std::string limits = "limits:\n  max_resource_id_bytes: 40\n";
  ASSERT_EQ(daemon_->Stop(), 0);
  WriteConfig({.more = limits});
  ASSERT_TRUE(daemon_->Restart().ok()) << daemon_->Log();
  ASSERT_TRUE(Append(As("stranger", kGlobexToken), "globex", "n-1").ok());
  WriteConfig({.bindings_extra =
                   "    - {principal: reader, roles: [reader], tenants: [globex]}\n"
                   "    - {principal: a-principal-with-a-long-name, roles: [reader], "
                   "tenants: [globex]}\n",
               .more = limits});
  Hup("event=reload_failed");
  EXPECT_TRUE(absl::StrContains(daemon_->Log(), "resource.id")) << daemon_->Log();
  // Neither binding applies, and nothing is on record.
  EXPECT_EQ(ReadRecords(As("reader"), "globex", "after a failed reload").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(ConfigRecords("globex", "config.reload").empty());
  EXPECT_TRUE(absl::StrContains(MetricsText(),
                                "indelible_config_reloads_total{outcome=\"failed\"} 1"));
}

TEST_F(GovernanceE2E, CliBackupTakesAReason) {
  ASSERT_TRUE(Append(As("writer"), "acme", "c-1").ok());
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {BinPath("indelible"), "--target", daemon_->target(),
                                     "--tls-ca", Cert("ca.pem"), "--tls-cert",
                                     Cert("admin1.pem"), "--tls-key", Cert("admin1.key")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  CommandResult r = cli({"backup"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "reason: required")) << r.err;
  r = cli({"backup", "--reason", "before the upgrade"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int found = 0;
  for (const auto& rec : AuditorRead("acme")) {
    found += rec.event().action() == "store.backup" &&
             rec.event().reason() == "before the upgrade";
  }
  EXPECT_EQ(found, 1);
}

}  // namespace
}  // namespace indelible
