// indelible-signer with the real indelibled on a Unix socket in a temporary
// directory (docs/SECURITY.md, "Key custody"): the daemon holds no key, its
// checkpoints are signed by the signer and verify with the signer's key; the
// signer never signs a smaller, forked or inconsistent tree, also after a
// kill -9; and neither the data directory nor a backup holds a private key.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "indelible/v1/indelible.grpc.pb.h"
#include "signer/wire.h"
#include "tests/e2e/harness.h"
#include "tests/witness/witness_process.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"
#include "witness/extension.h"

namespace indelible {
namespace {

namespace fs = std::filesystem;
using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

constexpr char kLogName[] = "audit.example.com";

// One indelible-signer process; its log goes to <dir>/signer.log.
class SignerProcess {
 public:
  SignerProcess(std::string config, std::string socket, std::string log)
      : config_(std::move(config)), socket_(std::move(socket)), log_(std::move(log)) {}
  ~SignerProcess() { Kill(); }

  // Starts it and waits (at most 30 s) until it answers on its socket.
  absl::Status Start() {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      const std::string bin = BinPath("indelible-signer");
      execl(bin.c_str(), bin.c_str(), "--config", config_.c_str(), nullptr);
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::InternalError("indelible-signer exited during startup: " + Log());
      }
      auto key = signer::Call(socket_, signer::kMethodKey, "", std::chrono::seconds(5));
      if (key.ok() && key->status == 200) {
        verifier_key_ = std::string(absl::StripTrailingAsciiWhitespace(key->body));
        return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return absl::DeadlineExceededError("indelible-signer did not start: " + Log());
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  const std::string& verifier_key() const { return verifier_key_; }

 private:
  const std::string config_, socket_, log_;
  pid_t pid_ = -1;
  std::string verifier_key_;
};

// Every regular file under `dir` that holds a PEM private key.
std::vector<std::string> PrivateKeysUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (absl::StrContains(ss.str(), "PRIVATE KEY")) out.push_back(e.path().string());
  }
  return out;
}

class SignerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.Sub("signer.sock");
    ASSERT_LT(socket_.size(), 100u);
    auto keygen = RunCommand({BinPath("indelible-signer"), "keygen", "--out",
                              dir_.Sub("signer-key.pem")});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
    std::ofstream(dir_.Sub("signer.yaml"))
        << "socket: " << socket_ << "\nstate_dir: " << dir_.Sub("signer-state")
        << "\nsigning_key_file: " << dir_.Sub("signer-key.pem") << "\nlog_name: " << kLogName
        << "\n";
    signer_ = std::make_unique<SignerProcess>(dir_.Sub("signer.yaml"), socket_,
                                              dir_.Sub("signer.log"));
    ASSERT_TRUE(signer_->Start().ok()) << signer_->Log();
    EXPECT_EQ(signer_->verifier_key(), absl::StripTrailingAsciiWhitespace(keygen.out));
    // Only the owner and the group may connect.
    EXPECT_EQ(fs::status(socket_).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                  fs::perms::group_write);
    std::ofstream(dir_.Sub("daemon.yaml"))
        << "signer_socket: " << socket_ << "\nlog_name: " << kLogName
        << "\ncheckpoint_interval_ms: 20\nmetrics_listen: 127.0.0.1:0\nbackup:\n  dir: "
        << dir_.Sub("backups") << "\n";
    auto d = DaemonProcess::Start(
        {.data_dir = dir_.Sub("data"), .extra_args = {"--config", dir_.Sub("daemon.yaml")}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = *std::move(d);
  }

  testing::CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {BinPath("indelible"), "--target", daemon_->target()});
    return RunCommand(args);
  }
  void Append(const std::string& tenant, int n) {
    for (int i = 0; i < n; ++i) {
      auto r = Cli({"append", "--tenant", tenant, "--actor-id", "alice", "--action",
                    "customer.read"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  // A request straight to the signer's socket, as a compromised daemon
  // (or anyone in the daemon's group) could send it.
  signer::WireAnswer Ask(uint64_t old_size, const std::vector<chain::Digest>& proof,
                         const chain::CheckpointV2& cp) {
    witness::AddCheckpointRequest r{old_size, proof, chain::CheckpointV2Text(cp)};
    auto a = signer::Call(socket_, signer::kMethodSignCheckpoint,
                          witness::AddCheckpointRequestText(r), std::chrono::seconds(5));
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : signer::WireAnswer{};
  }
  // The size the signer holds for `tenant`: a request from an old size no
  // log reaches, which it can only answer with its own size (409). (A probe
  // from size 0 would be signed as the first tree of a tenant it does not
  // hold yet, and would race the daemon's first checkpoint.)
  uint64_t SignerSize(const std::string& tenant) {
    constexpr uint64_t kUnreachable = uint64_t{1} << 62;
    chain::CheckpointV2 cp;
    cp.log_name = kLogName;
    cp.tenant = tenant;
    cp.size = kUnreachable;
    cp.root = chain::Sha256("probe");
    signer::WireAnswer a = Ask(kUnreachable, {}, cp);
    uint64_t size = 0;
    if (a.status != 409 || !absl::SimpleAtoi(absl::StripTrailingAsciiWhitespace(a.body), &size)) {
      ADD_FAILURE() << a.status << " " << a.body;
    }
    return size;
  }
  // Polls (at most 30 s) until the signer has signed `tenant` up to `size`.
  void WaitSigned(const std::string& tenant, uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (SignerSize(tenant) < size) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon_->Log();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  nlohmann::json Check(const std::string& data_dir, const std::string& key) {
    auto r = RunCommand({BinPath("indelible-verify"), "check", "--data-dir", data_dir, "--key",
                         key, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return nlohmann::json::parse(r.out);
  }

  TempDir dir_;
  std::string socket_;
  std::unique_ptr<SignerProcess> signer_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(SignerE2E, CheckpointsAreSignedByTheSignerAndNoKeyIsInDataOrBackups) {
  Append("acme", 3);
  Append("globex", 2);
  WaitSigned("acme", 3);
  WaitSigned("globex", 2);
  auto backup = Cli({"backup", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  const std::string backup_path = nlohmann::json::parse(backup.out)["path"];
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  EXPECT_TRUE(absl::StrContains(daemon_->Log(), "event=signer_connected")) << daemon_->Log();

  // Every checkpoint in the store verifies with the signer's public key.
  nlohmann::json check = Check(dir_.Sub("data"), signer_->verifier_key());
  EXPECT_EQ(check["totals"]["findings"], 0) << check.dump(2);
  EXPECT_TRUE(check["signatures_checked"]);
  for (const auto& t : check["tenants"]) {
    EXPECT_GT(t["checkpoints"]["signatures_verified"].get<uint64_t>(), 0u) << t.dump();
  }
  // No private key: not in the data directory, not beside it, not in the backup.
  EXPECT_EQ(PrivateKeysUnder(dir_.Sub("data")), std::vector<std::string>{});
  EXPECT_EQ(PrivateKeysUnder(backup_path), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(dir_.Sub("data.signing-key.pem")));
}

TEST_F(SignerE2E, AfterKillNineTheSignerNeverSignsASmallerOrForkedTree) {
  Append("acme", 4);
  WaitSigned("acme", 4);
  signer_->Kill();
  // Appends never wait for the signer.
  Append("acme", 3);
  ASSERT_TRUE(signer_->Start().ok()) << signer_->Log();
  // Its state survived the kill, and the daemon resumes from it.
  EXPECT_GE(SignerSize("acme"), 4u);
  WaitSigned("acme", 7);

  // A compromised daemon asks for less and for other trees of acme.
  const uint64_t size = SignerSize("acme");
  chain::CheckpointV2 cp;
  cp.log_name = kLogName;
  cp.tenant = "acme";
  cp.chain_head = chain::Sha256("forged head");
  cp.timestamp_ns = 1;
  // A smaller tree, claiming the signer is at 2: told its real size.
  cp.size = 2;
  cp.root = chain::Sha256("rewritten 2");
  signer::WireAnswer smaller = Ask(2, {}, cp);
  EXPECT_EQ(smaller.status, 409);
  EXPECT_EQ(smaller.body, absl::StrCat(size, "\n"));
  // The same size with another root (a fork, a split view).
  cp.size = size;
  cp.root = chain::Sha256("forked");
  signer::WireAnswer fork = Ask(size, {}, cp);
  EXPECT_EQ(fork.status, 409) << fork.body;
  EXPECT_TRUE(absl::StrContains(fork.body, "refused")) << fork.body;
  // A larger tree with a proof that does not prove it (a rewrite).
  cp.size = size + 5;
  cp.root = chain::Sha256("rewritten");
  signer::WireAnswer rewrite = Ask(size, {chain::Sha256("a"), chain::Sha256("b")}, cp);
  EXPECT_EQ(rewrite.status, 422) << rewrite.body;
  // Nothing of that moved the signer's state.
  EXPECT_EQ(SignerSize("acme"), size);
  EXPECT_TRUE(absl::StrContains(signer_->Log(), "event=fork_refused")) << signer_->Log();

  // And the daemon's own checkpoints all verify with the signer's key.
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  nlohmann::json check = Check(dir_.Sub("data"), signer_->verifier_key());
  EXPECT_EQ(check["totals"]["findings"], 0) << check.dump(2);
}

TEST_F(SignerE2E, ARefusedCheckpointIsLoggedCountedAndNotStored) {
  Append("acme", 2);
  WaitSigned("acme", 2);
  ASSERT_EQ(daemon_->Stop(), 0);
  const uint64_t stored =
      Check(dir_.Sub("data"), signer_->verifier_key())["tenants"][0]["checkpoints"]["stored"];
  // The signer is moved onto a tree the daemon never had (as if another
  // writer had it signed): the daemon's next tree is no extension of it.
  signer_->Kill();
  fs::remove_all(dir_.Sub("signer-state"));
  ASSERT_TRUE(signer_->Start().ok()) << signer_->Log();
  chain::CheckpointV2 other;
  other.log_name = kLogName;
  other.tenant = "acme";
  other.size = 3;
  other.root = chain::Sha256("another tree");
  other.chain_head = chain::Sha256("another head");
  ASSERT_EQ(Ask(0, {}, other).status, 200);
  ASSERT_TRUE(daemon_->Restart().ok());
  Append("acme", 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!absl::StrContains(daemon_->Log(), "event=checkpoint_refused tenant=acme size=3")) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << daemon_->Log();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Counted in the metrics.
  std::ifstream port_in(dir_.Sub("data.port.metrics"));
  int metrics_port = 0;
  port_in >> metrics_port;
  httplib::Client metrics("127.0.0.1", metrics_port);
  auto res = metrics.Get("/metrics");
  ASSERT_TRUE(res) << "no metrics";
  const std::string marker = "indelible_checkpoint_sign_failures_total{reason=\"refused\"} ";
  const size_t at = res->body.find(marker);
  ASSERT_NE(at, std::string::npos) << res->body;
  EXPECT_NE(res->body.substr(at + marker.size(), 1), "0") << res->body;
  ASSERT_EQ(daemon_->Stop(), 0);
  // No checkpoint of the refused tree was stored.
  nlohmann::json check = Check(dir_.Sub("data"), signer_->verifier_key());
  EXPECT_EQ(check["tenants"][0]["checkpoints"]["stored"], stored) << check.dump(2);
  EXPECT_EQ(check["tenants"][0]["head_seq"], 3);
}

// A purge's deletion certificate is signed by the signer, for the final
// head it signed as a consistent extension; afterwards it signs no smaller
// tree of that tenant either.
TEST_F(SignerE2E, DeletionCertificatesAreSignedByTheSigner) {
  Append("gone", 3);
  WaitSigned("gone", 3);
  auto admin = v1::Admin::NewStub(
      grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::PurgeTenantRequest purge;
  purge.mutable_context()->set_actor("carol@ops");
  purge.mutable_context()->set_reason("account closed");
  purge.set_tenant("gone");
  v1::PurgeTenantResponse resp;
  grpc::Status s = admin->PurgeTenant(&ctx, purge, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message() << daemon_->Log();
  auto key = chain::ParseNoteVerifierKey(signer_->verifier_key());
  ASSERT_TRUE(key.ok());
  auto cert = chain::VerifyDeletionCertificate(resp.certificate(), {*key});
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->tenant, "gone");
  EXPECT_EQ(cert->version, 2);
  EXPECT_EQ(cert->origin(), "audit.example.com/gone");
  EXPECT_EQ(cert->final_seq, resp.final_seq());
  EXPECT_EQ(cert->final_seq, 4u) << "3 events and the purge's record";
  EXPECT_EQ(cert->approvers, std::vector<std::string>{"carol@ops"});
  EXPECT_EQ(SignerSize("gone"), cert->final_seq);
  // The final checkpoint is the signer's, stored, with the certificate's root.
  auto final_cp = chain::VerifyCheckpointV2(resp.final_checkpoint(), {*key});
  ASSERT_TRUE(final_cp.ok()) << final_cp.status();
  EXPECT_EQ(final_cp->size, cert->final_seq);
  EXPECT_EQ(final_cp->root, cert->root);
  EXPECT_EQ(final_cp->chain_head, cert->final_head);
  EXPECT_TRUE(absl::StrContains(signer_->Log(), "event=deletion_signed origin=audit.example.com/gone"))
      << signer_->Log();
}

// A witness for the rotation test: its verifier key and process, cosigning
// origins under kLogName signed by any of `log_keys`.
struct RotationWitness {
  std::string vkey;
  std::unique_ptr<witness::testing::WitnessProcess> proc;

  // Its entry in a daemon's witnesses list.
  std::string Entry(const std::string& name) const {
    return absl::StrCat("  - {name: ", name, ", url: \"http://127.0.0.1:", proc->port(),
                        "\", key: \"", vkey, "\"}\n");
  }
  // Its indelible_witness_origin_size of `origin` (0 if absent).
  uint64_t Size(const std::string& origin) const {
    httplib::Client cli("127.0.0.1", proc->metrics_port());
    auto res = cli.Get("/metrics");
    const std::string k = "indelible_witness_origin_size{origin=\"" + origin + "\"} ";
    const size_t at = res ? res->body.find(k) : std::string::npos;
    return at == std::string::npos ? 0 : std::stoull(res->body.substr(at + k.size()));
  }
};

std::unique_ptr<RotationWitness> StartRotationWitness(const std::string& dir,
                                                      const std::string& name,
                                                      const std::vector<std::string>& log_keys) {
  fs::create_directories(dir);
  auto w = std::make_unique<RotationWitness>();
  auto gen = RunCommand(
      {BinPath("indelible-witness"), "keygen", "--name", name, "--out", dir + "/key.pem"});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  w->vkey = std::string(absl::StripTrailingAsciiWhitespace(gen.out));
  std::ofstream y(dir + "/witness.yaml");
  y << "name: " << name << "\nkey_file: " << dir << "/key.pem\nstate_dir: " << dir
    << "/state\nlisten: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\nlogs:\n  - origin_prefix: "
    << kLogName << "/\n    keys: [";
  for (size_t i = 0; i < log_keys.size(); ++i) y << (i ? ", " : "") << '"' << log_keys[i] << '"';
  y << "]\n";
  y.close();
  w->proc = std::make_unique<witness::testing::WitnessProcess>(
      dir + "/witness.yaml", dir + "/port", dir + "/witness.log");
  EXPECT_TRUE(w->proc->Start());
  return w;
}

// docs/OPERATIONS.md, "Rotate the signing key", with the signer: the new
// key is made and the statement signed on the signer's side, the signer
// restarted on the new key with its state, the daemon given the statement.
// A witness given the new key beforehand cosigns what the new key signs; one
// that lists only the old key answers 403 and the log stays below quorum.
TEST_F(SignerE2E, RotationThroughTheSignerAndTheWitnesses) {
  Append("acme", 3);
  WaitSigned("acme", 3);
  const std::string old_vkey = signer_->verifier_key();
  auto gen = RunCommand({BinPath("indelible-signer"), "keygen", "--out", dir_.Sub("key-2.pem")});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string new_vkey(absl::StripTrailingAsciiWhitespace(gen.out));
  auto statement =
      RunCommand({BinPath("indelible"), "rotation-statement", "--old-key",
                  dir_.Sub("signer-key.pem"), "--new-key", dir_.Sub("key-2.pem"), "--log-name",
                  kLogName, "--old-key-name", "indelible", "--new-key-name", "indelible"});
  ASSERT_EQ(statement.exit_code, 0) << statement.err;
  std::ofstream(dir_.Sub("rotation-2.txt")) << statement.out;
  auto told = StartRotationWitness(dir_.Sub("w1"), "w.test/told", {old_vkey, new_vkey});
  auto untold = StartRotationWitness(dir_.Sub("w2"), "w.test/untold", {old_vkey});

  // Stop the daemon, then the signer; the signer comes back on the new key.
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  signer_->Kill();
  std::ofstream(dir_.Sub("signer.yaml"))
      << "socket: " << socket_ << "\nstate_dir: " << dir_.Sub("signer-state")
      << "\nsigning_key_file: " << dir_.Sub("key-2.pem") << "\nlog_name: " << kLogName << "\n";
  ASSERT_TRUE(signer_->Start().ok()) << signer_->Log();
  EXPECT_EQ(signer_->verifier_key(), new_vkey);
  std::ofstream(dir_.Sub("daemon-2.yaml"))
      << "signer_socket: " << socket_ << "\nlog_name: " << kLogName
      << "\ncheckpoint_interval_ms: 20\nmetrics_listen: 127.0.0.1:0\nkey_rotation_statement_file: "
      << dir_.Sub("rotation-2.txt") << "\nwitnesses:\n"
      << told->Entry("w.test/told") << untold->Entry("w.test/untold");
  auto d = DaemonProcess::Start(
      {.data_dir = dir_.Sub("data"), .extra_args = {"--config", dir_.Sub("daemon-2.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  daemon_ = *std::move(d);
  EXPECT_TRUE(absl::StrContains(daemon_->Log(), "event=key_rotated")) << daemon_->Log();
  Append("acme", 2);  // after the rotation record (seq 4) and the new settings'
  auto head = Cli({"head", "--tenant", "acme", "--json"});
  ASSERT_EQ(head.exit_code, 0) << head.err;
  const uint64_t size = nlohmann::json::parse(head.out)["seq"].get<uint64_t>();
  ASSERT_GE(size, 6u);
  WaitSigned("acme", size);

  const std::string origin = std::string(kLogName) + "/acme";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto refused_untold = [&] {
    const std::string log = daemon_->Log();
    return absl::StrContains(log, "event=witness_failed tenant=acme witness=w.test/untold") &&
           absl::StrContains(log, "reason=http_403");
  };
  // The served (stored) note of the head carries the told witness's line.
  auto told_cosigned = [&] {
    auto cp = Cli({"checkpoint", "--v2", "--tenant", "acme"});
    return cp.exit_code == 0 && absl::StrContains(cp.out, absl::StrCat("\n", size, "\n")) &&
           absl::StrContains(cp.out, "\xe2\x80\x94 w.test/told ");
  };
  while (told->Size(origin) < size || !told_cosigned() || !refused_untold()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << told->proc->Log() << untold->proc->Log() << daemon_->Log();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The untold witness cosigned at most what the old key signed (size 3).
  EXPECT_LE(untold->Size(origin), 3u) << untold->proc->Log();
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // An auditor who trusts only the old key follows the statement in the
  // chain; the witness told of the new key vouches for the new checkpoints,
  // the other cosigned none of them.
  auto check = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "check", "--data-dir",
                                     dir_.Sub("data"), "--key", old_vkey};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  };
  auto with_told = check({"--witness", told->vkey});
  EXPECT_EQ(with_told.exit_code, 0) << with_told.out << with_told.err;
  auto with_both = check({"--witness", told->vkey, "--witness", untold->vkey});
  EXPECT_EQ(with_both.exit_code, 3) << with_both.out << with_both.err;
  EXPECT_TRUE(absl::StrContains(with_both.out, "missing: w.test/untold")) << with_both.out;
}

}  // namespace
}  // namespace indelible
