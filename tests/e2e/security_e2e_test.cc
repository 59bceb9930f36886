// Security through the real daemon over TLS 1.3 with client certificates
// from deploy/tls/make-dev-certs.sh: the TLS floor, authentication, every
// role against every RPC, tenant isolation, recorded reads, the two-person
// rule, bearer tokens, SIGHUP reload and the verifier on what was written.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::Caller;
using testing::CommandResult;
using testing::DaemonProcess;
using testing::ReadRecords;
using testing::RunCommand;
using testing::TempDir;

constexpr uint64_t kHour = 3600ull * 1000000000ull;
constexpr char kToken[] = "idl_test-token-for-globex-writer-0123456789";

class SecurityE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    CommandResult r = testing::MakeDevCerts(
        certs_->path(), {"writer", "reader", "auditor", "admin1", "admin2", "stranger"});
    // Checked in SetUp: a failure here would only mark the tests skipped.
    if (r.exit_code != 0) certs_error_ = new std::string(r.out + r.err);
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
    delete certs_error_;
    certs_error_ = nullptr;
  }

  std::string Cert(const std::string& name) const { return certs_->path() + "/" + name; }

  std::string Config(const std::string& extra_bindings = "") const {
    std::ostringstream c;
    c << "tls:\n"
      << "  cert_file: " << Cert("server.pem") << "\n"
      << "  key_file: " << Cert("server.key") << "\n"
      << "  client_ca_file: " << Cert("ca.pem") << "\n"
      << "auth:\n"
      << "  enabled: true\n"
      << "  approval_window: 24h\n"
      << "  tokens:\n"
      << "    - principal: svc-globex\n"
      << "      sha256: " << chain::ToHex(chain::Sha256(kToken)) << "\n"
      << "  bindings:\n"
      << "    - {principal: writer, roles: [writer], tenants: [acme]}\n"
      << "    - {principal: reader, roles: [reader], tenants: [acme]}\n"
      << "    - {principal: auditor, roles: [auditor], tenants: [acme]}\n"
      << "    - {principal: admin1, roles: [admin], tenants: [\"*\"]}\n"
      << "    - {principal: admin2, roles: [admin], tenants: [\"*\"]}\n"
      << "    - {principal: svc-globex, roles: [writer], tenants: [globex]}\n"
      << extra_bindings;
    return c.str();
  }

  void SetUp() override {
    ASSERT_EQ(certs_error_, nullptr) << "make-dev-certs.sh failed: " << *certs_error_;
    std::ofstream(dir_.Sub("config.yaml")) << Config();
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data"),
                                   .extra_args = {"--config", dir_.Sub("config.yaml"),
                                                  "--testing-manual-clock"}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
  }

  Caller As(const std::string& principal, const std::string& token = "") const {
    return testing::TlsCaller(daemon_->target(), certs_->path(), principal, token);
  }

  static v1::Event Event(const std::string& tenant, const std::string& id) {
    v1::Event e;
    e.set_tenant(tenant);
    e.set_event_id(id);
    e.mutable_actor()->set_id("alice");
    e.set_action("customer.read");
    return e;
  }

  static grpc::Status Append(const Caller& c, const std::string& tenant, const std::string& id,
                             v1::Receipt* receipt = nullptr) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::AppendRequest req;
    *req.mutable_event() = Event(tenant, id);
    v1::AppendResponse resp;
    grpc::Status s = c.log->Append(&ctx, req, &resp);
    if (receipt != nullptr) *receipt = resp.receipt();
    return s;
  }

  static v1::AdminContext Why(const std::string& reason) {
    v1::AdminContext w;
    w.set_reason(reason);
    return w;
  }

  // Every record of `tenant`, read by admin-free auditor with a reason.
  std::vector<v1::Record> AuditorRead(const std::string& tenant) {
    std::vector<v1::Record> out;
    grpc::Status s = ReadRecords(As("auditor"), tenant, "test inspection", &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  void Advance(uint64_t ns) {
    Caller a = As("admin1");
    grpc::ClientContext ctx;
    a.Prepare(&ctx);
    v1::AdvanceTestClockRequest req;
    req.set_nanos(ns);
    v1::AdvanceTestClockResponse resp;
    ASSERT_TRUE(a.admin->AdvanceTestClock(&ctx, req, &resp).ok());
  }

  // The chains of the live daemon have no finding. Whether it has signed a
  // checkpoint yet is a matter of timing (and a store emptied by a purge has
  // none), so the verdict is "verified" (0) or "no_trusted_key" (3).
  nlohmann::json VerifierCheck() {
    CommandResult r = RunCommand(
        {BinPath("indelible-verify"), "check", "--data-dir", dir_.Sub("data"), "--key",
         testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem")), "--json"});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_EQ(j["totals"]["findings"], 0) << r.out;
    EXPECT_EQ(j["verdict"], r.exit_code == 0 ? "verified" : "no_trusted_key") << r.out;
    return j;
  }

  static TempDir* certs_;
  static std::string* certs_error_;
  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TempDir* SecurityE2E::certs_ = nullptr;
std::string* SecurityE2E::certs_error_ = nullptr;

TEST_F(SecurityE2E, TlsBelow13IsRefusedAnd13Works) {
  auto s_client = [&](const std::string& version) {
    return RunCommand({"/usr/bin/openssl", "s_client", "-connect",
                       "127.0.0.1:" + std::to_string(daemon_->port()), version, "-CAfile",
                       Cert("ca.pem"), "-cert", Cert("writer.pem"), "-key", Cert("writer.key"),
                       "-alpn", "h2", "-servername", "localhost"},
                      "", std::chrono::seconds(20));
  };
  CommandResult old = s_client("-tls1_2");
  EXPECT_NE(old.exit_code, 0) << old.out;
  EXPECT_FALSE(absl::StrContains(old.out, "BEGIN CERTIFICATE")) << old.out;
  EXPECT_FALSE(absl::StrContains(old.out, "New, TLSv1.2")) << old.out;
  CommandResult ok = s_client("-tls1_3");
  EXPECT_TRUE(absl::StrContains(ok.out, "New, TLSv1.3")) << ok.out << ok.err;
  EXPECT_TRUE(absl::StrContains(ok.out, "Verify return code: 0 (ok)")) << ok.out;
}

TEST_F(SecurityE2E, PlaintextAndCertificatelessClientsCannotConnect) {
  auto plain = grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::AuditLog::NewStub(plain);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetPublicKeyResponse resp;
  EXPECT_EQ(stub->GetPublicKey(&ctx, {}, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);

  // TLS, but no client certificate: the handshake fails.
  Caller anonymous = As("");
  grpc::ClientContext ctx2;
  anonymous.Prepare(&ctx2);
  ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(anonymous.log->GetPublicKey(&ctx2, {}, &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityE2E, EveryRoleAgainstEveryRpc) {
  ASSERT_TRUE(Append(As("writer"), "acme", "seed-1").ok());
  // admin1 places a hold so that lifting it has something to lift.
  using Rpc = std::function<grpc::StatusCode(const Caller&, const std::string& tenant)>;
  std::map<std::string, Rpc> rpcs;
  int n = 0;
  rpcs["Append"] = [&](const Caller& c, const std::string& t) {
    return Append(c, t, "matrix-" + std::to_string(++n)).error_code();
  };
  rpcs["AppendBatch"] = [&](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::AppendBatchRequest req;
    *req.add_events() = Event(t, "matrix-" + std::to_string(++n));
    v1::AppendBatchResponse resp;
    return c.log->AppendBatch(&ctx, req, &resp).error_code();
  };
  rpcs["AppendStream"] = [&](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    auto stream = c.log->AppendStream(&ctx);
    v1::AppendBatchRequest req;
    *req.add_events() = Event(t, "matrix-" + std::to_string(++n));
    stream->Write(req);
    stream->WritesDone();
    v1::AppendBatchResponse resp;
    while (stream->Read(&resp)) {
    }
    return stream->Finish().error_code();
  };
  rpcs["GetHead"] = [](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetHeadRequest req;
    req.set_tenant(t);
    v1::GetHeadResponse resp;
    return c.log->GetHead(&ctx, req, &resp).error_code();
  };
  rpcs["ReadRecords"] = [](const Caller& c, const std::string& t) {
    return ReadRecords(c, t, "matrix check").error_code();
  };
  rpcs["GetCheckpoint"] = [](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetCheckpointRequest req;
    req.set_tenant(t);
    req.set_reason("matrix check");
    v1::Checkpoint resp;
    grpc::StatusCode code = c.log->GetCheckpoint(&ctx, req, &resp).error_code();
    // No checkpoint yet is NOT_FOUND: the call itself was allowed.
    return code == grpc::StatusCode::NOT_FOUND ? grpc::StatusCode::OK : code;
  };
  rpcs["GetRetention"] = [](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetRetentionRequest req;
    req.set_tenant(t);
    v1::GetRetentionResponse resp;
    return c.admin->GetRetention(&ctx, req, &resp).error_code();
  };
  rpcs["SetRetention"] = [](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::SetRetentionRequest req;
    *req.mutable_context() = Why("matrix");
    req.set_tenant(t);
    req.set_category("trace");
    req.set_retention("120d");  // longer: applies without approval
    v1::SetRetentionResponse resp;
    return c.admin->SetRetention(&ctx, req, &resp).error_code();
  };
  rpcs["SetLegalHold"] = [](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::SetLegalHoldRequest req;
    *req.mutable_context() = Why("matrix");
    req.set_tenant(t);
    req.set_hold(true);
    v1::SetLegalHoldResponse resp;
    return c.admin->SetLegalHold(&ctx, req, &resp).error_code();
  };
  rpcs["ListPendingApprovals"] = [](const Caller& c, const std::string& t) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::ListPendingApprovalsRequest req;
    req.set_tenant(t);
    v1::ListPendingApprovalsResponse resp;
    return c.admin->ListPendingApprovals(&ctx, req, &resp).error_code();
  };

  const auto OK = grpc::StatusCode::OK;
  const auto NO = grpc::StatusCode::PERMISSION_DENIED;
  // Expected outcome on tenant acme, per principal.
  const std::map<std::string, std::map<std::string, grpc::StatusCode>> expect = {
      {"writer",
       {{"Append", OK}, {"AppendBatch", OK}, {"AppendStream", OK}, {"GetHead", NO},
        {"ReadRecords", NO}, {"GetCheckpoint", NO}, {"GetRetention", NO},
        {"SetRetention", NO}, {"SetLegalHold", NO}, {"ListPendingApprovals", NO}}},
      {"reader",
       {{"Append", NO}, {"AppendBatch", NO}, {"AppendStream", NO}, {"GetHead", OK},
        {"ReadRecords", OK}, {"GetCheckpoint", OK}, {"GetRetention", NO},
        {"SetRetention", NO}, {"SetLegalHold", NO}, {"ListPendingApprovals", NO}}},
      {"auditor",
       {{"Append", NO}, {"AppendBatch", NO}, {"AppendStream", NO}, {"GetHead", OK},
        {"ReadRecords", OK}, {"GetCheckpoint", OK}, {"GetRetention", OK},
        {"SetRetention", NO}, {"SetLegalHold", NO}, {"ListPendingApprovals", OK}}},
      {"admin1",
       {{"Append", NO}, {"AppendBatch", NO}, {"AppendStream", NO}, {"GetHead", OK},
        {"ReadRecords", NO}, {"GetCheckpoint", NO}, {"GetRetention", OK},
        {"SetRetention", OK}, {"SetLegalHold", OK}, {"ListPendingApprovals", OK}}},
      {"stranger",  // a valid certificate with no binding
       {{"Append", NO}, {"AppendBatch", NO}, {"AppendStream", NO}, {"GetHead", NO},
        {"ReadRecords", NO}, {"GetCheckpoint", NO}, {"GetRetention", NO},
        {"SetRetention", NO}, {"SetLegalHold", NO}, {"ListPendingApprovals", NO}}},
  };
  for (const auto& [principal, rows] : expect) {
    Caller c = As(principal);
    for (const auto& [rpc, want] : rows) {
      EXPECT_EQ(rpcs.at(rpc)(c, "acme"), want) << principal << " " << rpc << " on acme";
      // Tenant isolation: nobody but the *-admins has any role on globex,
      // and the refusal is the same for a tenant that does not exist.
      if (principal != "admin1") {
        EXPECT_EQ(rpcs.at(rpc)(c, "globex"), NO) << principal << " " << rpc << " on globex";
        EXPECT_EQ(rpcs.at(rpc)(c, "nosuch"), NO) << principal << " " << rpc << " on nosuch";
      }
    }
  }
  // Global admin RPCs need an admin of "*".
  for (const std::string p : {"writer", "reader", "auditor", "stranger"}) {
    Caller c = As(p);
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::CompactResponse resp;
    EXPECT_EQ(c.admin->Compact(&ctx, {}, &resp).error_code(), NO) << p;
    grpc::ClientContext bctx;
    c.Prepare(&bctx);
    v1::BackupResponse backup;
    EXPECT_EQ(c.admin->Backup(&bctx, {}, &backup).error_code(), NO) << p;
  }
  // An admin of "*" passes the role check (backups are off in this config).
  {
    Caller c = As("admin1");
    grpc::ClientContext bctx;
    c.Prepare(&bctx);
    v1::BackupResponse backup;
    EXPECT_EQ(c.admin->Backup(&bctx, {}, &backup).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
}

// Merkle proofs: readers and auditors of the tenant, without a reason; they
// reveal only hashes and are not recorded in the chain (docs/SECURITY.md).
TEST_F(SecurityE2E, ProofsNeedReaderOrAuditorAndAreNotRecorded) {
  ASSERT_TRUE(Append(As("writer"), "acme", "p-1").ok());
  ASSERT_TRUE(Append(As("writer"), "acme", "p-2").ok());
  auto head = [&] {
    Caller c = As("reader");
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetHeadRequest req;
    req.set_tenant("acme");
    v1::GetHeadResponse resp;
    EXPECT_TRUE(c.log->GetHead(&ctx, req, &resp).ok());
    return resp.seq();
  };
  const uint64_t before = head();
  ASSERT_EQ(before, 2u);
  auto prove = [](const Caller& c, const std::string& tenant) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetInclusionProofRequest req;
    req.set_tenant(tenant);
    req.set_seq(1);
    req.set_tree_size(2);
    v1::GetInclusionProofResponse resp;
    return c.log->GetInclusionProof(&ctx, req, &resp).error_code();
  };
  auto consistent = [](const Caller& c, const std::string& tenant) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::GetConsistencyProofRequest req;
    req.set_tenant(tenant);
    req.set_old_size(1);
    req.set_new_size(2);
    v1::GetConsistencyProofResponse resp;
    return c.log->GetConsistencyProof(&ctx, req, &resp).error_code();
  };
  for (const std::string p : {"reader", "auditor"}) {
    EXPECT_EQ(prove(As(p), "acme"), grpc::StatusCode::OK) << p;
    EXPECT_EQ(consistent(As(p), "acme"), grpc::StatusCode::OK) << p;
    EXPECT_EQ(prove(As(p), "globex"), grpc::StatusCode::PERMISSION_DENIED) << p;
  }
  for (const std::string p : {"writer", "admin1", "stranger"}) {
    EXPECT_EQ(prove(As(p), "acme"), grpc::StatusCode::PERMISSION_DENIED) << p;
    EXPECT_EQ(consistent(As(p), "acme"), grpc::StatusCode::PERMISSION_DENIED) << p;
  }
  EXPECT_EQ(head(), before) << "a proof request was recorded in the chain";
}

TEST_F(SecurityE2E, DenialsNameThePrincipalAndRevealNothing) {
  ASSERT_TRUE(Append(As("writer"), "acme", "x1").ok());
  Caller w = As("writer");
  grpc::ClientContext a, b;
  w.Prepare(&a);
  w.Prepare(&b);
  v1::GetHeadRequest req;
  v1::GetHeadResponse resp;
  req.set_tenant("globex");
  grpc::Status existing = w.log->GetHead(&a, req, &resp);
  req.set_tenant("nosuch");
  grpc::Status missing = w.log->GetHead(&b, req, &resp);
  EXPECT_EQ(existing.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(existing.error_message(), "principal \"writer\""))
      << existing.error_message();
  // Same text but for the tenant name: existence does not leak.
  std::string e = existing.error_message(), m = missing.error_message();
  e.replace(e.find("globex"), 6, "T");
  m.replace(m.find("nosuch"), 6, "T");
  EXPECT_EQ(e, m);
}

TEST_F(SecurityE2E, BearerTokensAuthenticateAndWrongOnesDoNot) {
  // svc-globex's token rides on a TLS channel with a client certificate that
  // has no role: the token decides who the caller is.
  Caller t = As("stranger", kToken);
  EXPECT_TRUE(Append(t, "globex", "tok-1").ok());
  EXPECT_EQ(Append(t, "acme", "tok-2").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Caller wrong = As("stranger", "idl_not-a-valid-token");
  grpc::Status s = Append(wrong, "globex", "tok-3");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(absl::StrContains(s.error_message(), "idl_not")) << "token echoed";
  EXPECT_FALSE(absl::StrContains(daemon_->Log(), "idl_")) << "a token reached the log";
}

TEST_F(SecurityE2E, ReadsNeedAReasonAndAreRecordedInTheChain) {
  ASSERT_TRUE(Append(As("writer"), "acme", "r-1").ok());
  grpc::Status no_reason = ReadRecords(As("reader"), "acme", "");
  EXPECT_EQ(no_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(no_reason.error_message(), "reason:")) << no_reason.error_message();

  std::vector<v1::Record> seen;
  ASSERT_TRUE(ReadRecords(As("reader"), "acme", "ticket SUP-42", &seen).ok());
  // The reader's own read is on record before its records leave: it is the
  // last one it received.
  ASSERT_EQ(seen.size(), 2u);
  const v1::Event& access = seen.back().event();
  EXPECT_EQ(access.category(), "indelible.access");
  EXPECT_EQ(access.action(), "records.read");
  EXPECT_EQ(access.actor().id(), "reader");
  EXPECT_EQ(access.reason(), "ticket SUP-42");

  // Clients cannot forge the daemon's records.
  v1::Event forged = Event("acme", "forged-1");
  forged.set_category("indelible.access");
  Caller w = As("writer");
  grpc::ClientContext ctx;
  w.Prepare(&ctx);
  v1::AppendRequest req;
  *req.mutable_event() = forged;
  v1::AppendResponse resp;
  grpc::Status s = w.log->Append(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "event.category:")) << s.error_message();

  // Checkpoint fetches are recorded too.
  Caller r = As("reader");
  grpc::ClientContext cctx;
  r.Prepare(&cctx);
  v1::GetCheckpointRequest creq;
  creq.set_tenant("acme");
  creq.set_reason("audit sample");
  v1::Checkpoint cp;
  r.log->GetCheckpoint(&cctx, creq, &cp);
  auto all = AuditorRead("acme");
  int fetches = 0;
  for (const auto& rec : all) {
    if (rec.event().action() == "checkpoint.fetch" && rec.event().reason() == "audit sample") {
      ++fetches;
    }
  }
  EXPECT_EQ(fetches, 1);
}

TEST_F(SecurityE2E, TwoPersonRuleForPurge) {
  ASSERT_TRUE(Append(As("writer"), "acme", "p-1").ok());
  Caller a1 = As("admin1"), a2 = As("admin2");
  v1::PurgeTenantResponse asked;
  {
    grpc::ClientContext ctx;
    a1.Prepare(&ctx);
    v1::PurgeTenantRequest req;
    *req.mutable_context() = Why("contract ended, ticket LEG-9");
    req.set_tenant("acme");
    ASSERT_TRUE(a1.admin->PurgeTenant(&ctx, req, &asked).ok());
  }
  ASSERT_TRUE(asked.has_pending());
  EXPECT_TRUE(asked.certificate().empty());
  EXPECT_EQ(asked.pending().requested_by(), "admin1");
  // Nothing happened yet: the tenant is still there and can be written.
  EXPECT_TRUE(Append(As("writer"), "acme", "p-2").ok());

  auto approve = [&](const Caller& c, v1::ApproveResponse* resp) {
    grpc::ClientContext ctx;
    c.Prepare(&ctx);
    v1::ApproveRequest req;
    *req.mutable_context() = Why("checked with legal");
    req.set_request_id(asked.pending().request_id());
    return c.admin->Approve(&ctx, req, resp);
  };
  v1::ApproveResponse self;
  grpc::Status s = approve(a1, &self);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "different admin")) << s.error_message();
  v1::ApproveResponse done;
  s = approve(a2, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(done.has_purge_tenant());
  // The final head covers p-1, the request, p-2 and the approval.
  grpc::ClientContext kctx;
  a2.Prepare(&kctx);
  v1::GetPublicKeyResponse key;
  ASSERT_TRUE(a2.log->GetPublicKey(&kctx, {}, &key).ok());
  auto vk = chain::ParseNoteVerifierKey(key.verifier_key());
  ASSERT_TRUE(vk.ok()) << vk.status();
  auto cert = chain::VerifyDeletionCertificate(done.purge_tenant().certificate(), {*vk});
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->tenant, "acme");
  EXPECT_EQ(cert->final_seq, 4u);
  EXPECT_EQ(done.purge_tenant().final_seq(), 4u);
  // A second approval finds nothing.
  v1::ApproveResponse again;
  EXPECT_EQ(approve(a2, &again).error_code(), grpc::StatusCode::NOT_FOUND);
  VerifierCheck();
}

TEST_F(SecurityE2E, ShorterRetentionAndHoldLiftWaitLongerRetentionDoesNot) {
  ASSERT_TRUE(Append(As("writer"), "acme", "k-1").ok());
  Caller a1 = As("admin1"), a2 = As("admin2");
  auto set = [&](const std::string& retention, v1::SetRetentionResponse* resp) {
    grpc::ClientContext ctx;
    a1.Prepare(&ctx);
    v1::SetRetentionRequest req;
    *req.mutable_context() = Why("policy change");
    req.set_tenant("acme");
    req.set_category("access");
    req.set_retention(retention);
    return a1.admin->SetRetention(&ctx, req, resp);
  };
  v1::SetRetentionResponse longer, shorter;
  ASSERT_TRUE(set("400d", &longer).ok());
  EXPECT_FALSE(longer.has_pending());
  EXPECT_GT(longer.receipt().seq(), 0u);
  ASSERT_TRUE(set("30d", &shorter).ok());
  ASSERT_TRUE(shorter.has_pending());
  EXPECT_EQ(shorter.pending().action(), "retention.shorten");

  auto retention_now = [&] {
    grpc::ClientContext ctx;
    a2.Prepare(&ctx);
    v1::GetRetentionRequest req;
    req.set_tenant("acme");
    req.add_categories("access");
    v1::GetRetentionResponse resp;
    EXPECT_TRUE(a2.admin->GetRetention(&ctx, req, &resp).ok());
    return resp.entries(0).retention();
  };
  EXPECT_EQ(retention_now(), "400d");
  grpc::ClientContext ctx;
  a2.Prepare(&ctx);
  v1::ApproveRequest req;
  *req.mutable_context() = Why("agreed");
  req.set_request_id(shorter.pending().request_id());
  v1::ApproveResponse approved;
  ASSERT_TRUE(a2.admin->Approve(&ctx, req, &approved).ok());
  EXPECT_EQ(retention_now(), "30d");

  // Placing a hold is immediate; lifting it waits.
  grpc::ClientContext h1, h2;
  a1.Prepare(&h1);
  a1.Prepare(&h2);
  v1::SetLegalHoldRequest hold;
  *hold.mutable_context() = Why("litigation");
  hold.set_tenant("acme");
  hold.set_hold(true);
  v1::SetLegalHoldResponse placed, lift;
  ASSERT_TRUE(a1.admin->SetLegalHold(&h1, hold, &placed).ok());
  EXPECT_FALSE(placed.has_pending());
  hold.set_hold(false);
  ASSERT_TRUE(a1.admin->SetLegalHold(&h2, hold, &lift).ok());
  EXPECT_TRUE(lift.has_pending());

  // The chain tells the story, approvals included.
  std::vector<std::string> actions;
  for (const auto& r : AuditorRead("acme")) {
    if (r.event().category() == "indelible.admin") actions.push_back(r.event().action());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"retention.set", "approval.requested",
                                               "retention.set", "legal_hold.place",
                                               "approval.requested"}));
}

TEST_F(SecurityE2E, UnapprovedRequestsExpireAndTheExpiryIsRecorded) {
  ASSERT_TRUE(Append(As("writer"), "acme", "e-1").ok());
  Caller a1 = As("admin1");
  v1::PurgeTenantResponse asked;
  {
    grpc::ClientContext ctx;
    a1.Prepare(&ctx);
    v1::PurgeTenantRequest req;
    *req.mutable_context() = Why("cleanup");
    req.set_tenant("acme");
    ASSERT_TRUE(a1.admin->PurgeTenant(&ctx, req, &asked).ok());
    ASSERT_TRUE(asked.has_pending());
  }
  Advance(25 * kHour);
  grpc::ClientContext lctx;
  a1.Prepare(&lctx);
  v1::ListPendingApprovalsRequest lreq;
  v1::ListPendingApprovalsResponse pending;
  ASSERT_TRUE(a1.admin->ListPendingApprovals(&lctx, lreq, &pending).ok());
  EXPECT_EQ(pending.pending_size(), 0);
  Caller a2 = As("admin2");
  grpc::ClientContext actx;
  a2.Prepare(&actx);
  v1::ApproveRequest areq;
  *areq.mutable_context() = Why("late");
  areq.set_request_id(asked.pending().request_id());
  v1::ApproveResponse aresp;
  EXPECT_EQ(a2.admin->Approve(&actx, areq, &aresp).error_code(), grpc::StatusCode::NOT_FOUND);
  bool expired = false;
  for (const auto& r : AuditorRead("acme")) {
    expired = expired || (r.event().action() == "approval.expired" &&
                          r.event().resource().id() == asked.pending().request_id());
  }
  EXPECT_TRUE(expired);
  VerifierCheck();
}

TEST_F(SecurityE2E, CliSpeaksTlsAndTokensAndReportsPendingRequests) {
  const std::string token_file = dir_.Sub("token");
  {
    std::ofstream(token_file) << kToken << "\n";
  }
  chmod(token_file.c_str(), 0600);
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {BinPath("indelible"), "--target", daemon_->target(),
                                     "--tls-ca", Cert("ca.pem")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  CommandResult r = cli({"--tls-cert", Cert("stranger.pem"), "--tls-key", Cert("stranger.key"),
                         "--token-file", token_file, "append", "--tenant", "globex",
                         "--actor-id", "bob", "--action", "invoice.read"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(Append(As("writer"), "acme", "cli-1").ok());
  r = cli({"--tls-cert", Cert("reader.pem"), "--tls-key", Cert("reader.key"), "read",
           "--tenant", "acme"});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // no --reason
  EXPECT_TRUE(absl::StrContains(r.err, "reason")) << r.err;
  // A whole-chain read ends although every page it fetches is recorded:
  // it reads up to the head it saw first.
  for (int i = 0; i < 3; ++i) {
    r = cli({"--tls-cert", Cert("reader.pem"), "--tls-key", Cert("reader.key"), "read",
             "--tenant", "acme", "--reason", "SUP-1", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // cli-1, then the records of the earlier reads, not this one's.
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1 + i) << r.out;
  }
  r = cli({"--tls-cert", Cert("admin1.pem"), "--tls-key", Cert("admin1.key"), "admin", "purge",
           "--tenant", "globex", "--reason", "offboarding", "--out", dir_.Sub("cert.txt"),
           "--yes"});
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;  // waiting for a second admin
  EXPECT_TRUE(absl::StrContains(r.out, "request_id:")) << r.out;
  std::ifstream must_not_exist(dir_.Sub("cert.txt"));
  EXPECT_FALSE(must_not_exist.good());
  r = cli({"--tls-cert", Cert("admin2.pem"), "--tls-key", Cert("admin2.key"), "admin",
           "pending", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(j["tenant"], "globex");
  EXPECT_EQ(j["requested_by"], "admin1");
  r = cli({"--tls-cert", Cert("admin2.pem"), "--tls-key", Cert("admin2.key"), "admin",
           "approve", "--request-id", j["request_id"].get<std::string>(), "--reason",
           "confirmed", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto approved = nlohmann::json::parse(r.out);
  EXPECT_FALSE(approved["certificate"].get<std::string>().empty());
  // A loose token file is refused before anything is sent.
  chmod(token_file.c_str(), 0644);
  r = cli({"--token-file", token_file, "head", "--tenant", "globex"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, kToken));
}

TEST_F(SecurityE2E, SighupReloadsBindingsAndRecordsIt) {
  ASSERT_TRUE(Append(As("stranger", kToken), "globex", "h-1").ok());
  EXPECT_EQ(ReadRecords(As("reader"), "globex", "before").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A broken file changes nothing.
  std::ofstream(dir_.Sub("config.yaml")) << "auth: [\n";
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  for (int i = 0; i < 200 && !absl::StrContains(daemon_->Log(), "event=reload_failed"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(absl::StrContains(daemon_->Log(), "event=reload_failed")) << daemon_->Log();
  EXPECT_TRUE(Append(As("writer"), "acme", "still-serving").ok());

  std::ofstream(dir_.Sub("config.yaml"))
      << "log_level: debug\nretention:\n  categories:\n    trace: 120d\n"
      << Config("    - {principal: reader, roles: [reader], tenants: [globex]}\n");
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  // Poll (bounded) until the reload has taken effect.
  grpc::Status s;
  for (int i = 0; i < 200; ++i) {
    s = ReadRecords(As("reader"), "globex", "after reload");
    if (s.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(s.ok()) << s.error_message() << daemon_->Log();
  std::vector<v1::Record> recs;
  ASSERT_TRUE(ReadRecords(As("reader"), "globex", "inspect", &recs).ok());
  bool recorded = false;
  for (const auto& r : recs) {
    recorded = recorded || (r.event().action() == "config.reload" &&
                            r.event().actor().id() == "operator");
  }
  EXPECT_TRUE(recorded);
  EXPECT_TRUE(absl::StrContains(daemon_->Log(),
                                "event=config_reloaded changed=log_level,auth,retention"))
      << daemon_->Log();
  Caller admin = As("admin1");
  grpc::ClientContext ctx;
  admin.Prepare(&ctx);
  v1::GetRetentionRequest req;
  req.set_tenant("globex");
  req.add_categories("trace");
  v1::GetRetentionResponse resp;
  ASSERT_TRUE(admin.admin->GetRetention(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.entries(0).retention(), "120d");
  VerifierCheck();
}

TEST_F(SecurityE2E, LocalPlaintextListenerServesHealthButStillAuthenticates) {
  TempDir dir;
  std::ofstream(dir.Sub("config.yaml")) << Config();
  auto d = DaemonProcess::Start({.data_dir = dir.Sub("data"),
                                 .extra_args = {"--config", dir.Sub("config.yaml"),
                                                "--local-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(d.ok()) << d.status();
  const std::string local = "127.0.0.1:" + testing::ReadFile(dir.Sub("data") + ".port.local");
  const std::string local_target = local.substr(0, local.find('\n'));
  // What a Kubernetes exec probe runs.
  CommandResult h = RunCommand({BinPath("indelible"), "--target", local_target, "health"});
  EXPECT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(h.out, "SERVING\n");
  // Plaintext, but no identity: nothing else is allowed.
  CommandResult a = RunCommand({BinPath("indelible"), "--target", local_target, "append",
                                "--tenant", "acme", "--actor-id", "a", "--action", "x"});
  EXPECT_EQ(a.exit_code, 3) << a.err;
  EXPECT_TRUE(absl::StrContains(a.err, "UNAUTHENTICATED")) << a.err;
  // The TLS listener answers health too, to a client with a certificate.
  CommandResult t = RunCommand({BinPath("indelible"), "--target", (*d)->target(), "--tls-ca",
                                Cert("ca.pem"), "--tls-cert", Cert("reader.pem"), "--tls-key",
                                Cert("reader.key"), "health"});
  EXPECT_EQ(t.exit_code, 0) << t.err;
}

TEST(SecurityStartup, NonLoopbackNeedsTlsAndAuth) {
  TempDir dir;
  CommandResult r = RunCommand({BinPath("indelibled"), "--data-dir", dir.Sub("data"),
                                "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "not loopback")) << r.err;
  r = RunCommand({BinPath("indelibled"), "--data-dir", dir.Sub("data"), "--local-listen",
                  "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "local_listen")) << r.err;
}

TEST(SecurityStartup, LooseTlsKeyIsRefusedWithoutShowingIt) {
  TempDir dir;
  CommandResult gen = testing::MakeDevCerts(dir.Sub("certs"), {});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  chmod(dir.Sub("certs/server.key").c_str(), 0644);
  std::ofstream(dir.Sub("c.yaml")) << "tls:\n  cert_file: " << dir.Sub("certs/server.pem")
                                   << "\n  key_file: " << dir.Sub("certs/server.key") << "\n";
  CommandResult r = RunCommand({BinPath("indelibled"), "--config", dir.Sub("c.yaml"),
                                "--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0"},
                               "", std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "mode 0644")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "PRIVATE KEY")) << r.err;
}

}  // namespace
}  // namespace indelible
