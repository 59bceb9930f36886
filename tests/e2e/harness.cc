#include "tests/e2e/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

extern char** environ;

namespace indelible::testing {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

// Spawns argv with stdin/stdout/stderr redirected to files ("" = /dev/null).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& in,
            const std::string& out, const std::string& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.empty() ? "/dev/null" : in.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.empty() ? "/dev/null" : out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.empty() ? "/dev/null" : err.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

}  // namespace

std::string BinPath(const std::string& name) {
  return std::string(INDELIBLE_BIN_DIR) + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult MakeDevCerts(const std::string& dir, const std::vector<std::string>& clients) {
  std::vector<std::string> argv = {
      "/bin/bash", std::string(INDELIBLE_SOURCE_DIR) + "/deploy/tls/make-dev-certs.sh", dir};
  argv.insert(argv.end(), clients.begin(), clients.end());
  return RunCommand(argv);
}

void Caller::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

Caller TlsCaller(const std::string& target, const std::string& certs_dir,
                 const std::string& principal, const std::string& token) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ReadFile(certs_dir + "/ca.pem");
  if (!principal.empty()) {
    o.pem_cert_chain = ReadFile(certs_dir + "/" + principal + ".pem");
    o.pem_private_key = ReadFile(certs_dir + "/" + principal + ".key");
  }
  Caller c;
  c.channel = grpc::CreateChannel(target, grpc::SslCredentials(o));
  c.log = v1::AuditLog::NewStub(c.channel);
  c.admin = v1::Admin::NewStub(c.channel);
  c.token = token;
  return c;
}

grpc::Status ReadRecords(const Caller& c, const std::string& tenant, const std::string& reason,
                         std::vector<v1::Record>* out) {
  grpc::ClientContext ctx;
  c.Prepare(&ctx);
  v1::ReadRecordsRequest req;
  req.set_tenant(tenant);
  req.set_reason(reason);
  auto reader = c.log->ReadRecords(&ctx, req);
  v1::Record r;
  while (reader->Read(&r)) {
    if (out != nullptr) out->push_back(r);
  }
  return reader->Finish();
}

std::string VerifierKeyOf(const std::string& key_file, const std::string& key_name) {
  auto key = chain::Ed25519PrivateKey::FromPem(ReadFile(key_file));
  if (!key.ok()) {
    std::cerr << "VerifierKeyOf(" << key_file << "): " << key.status() << "\n";
    std::abort();
  }
  return chain::NoteVerifierKeyString(chain::MakeNoteVerifierKey(key_name, key->PublicKey()));
}

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/indelible-test-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& stdin_text,
                         std::chrono::seconds timeout) {
  TempDir io;
  const std::string in = io.Sub("stdin"), out = io.Sub("stdout"),
                    err = io.Sub("stderr");
  std::ofstream(in) << stdin_text;
  CommandResult r;
  pid_t pid = Spawn(argv, in, out, err);
  if (pid < 0) {
    r.err = "cannot spawn " + argv[0];
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.exit_code = DecodeWaitStatus(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.exit_code = -1;
      r.err = "timed out\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.out = ReadFile(out);
  r.err += ReadFile(err);
  return r;
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(
    Options options) {
  if (options.log_file.empty()) options.log_file = options.data_dir + ".log";
  std::unique_ptr<DaemonProcess> d(new DaemonProcess(std::move(options)));
  if (auto s = d->Launch(); !s.ok()) return s;
  return d;
}

absl::Status DaemonProcess::Launch() {
  const std::string port_file = options_.data_dir + ".port";
  std::filesystem::remove(port_file);
  std::string binary = options_.binary;
  if (binary.empty()) {
    const auto& a = options_.extra_args;
    binary = std::find(a.begin(), a.end(), "--testing-manual-clock") != a.end()
                 ? "indelibled-testing"
                 : "indelibled";
  }
  std::vector<std::string> argv = {BinPath(binary), "--data-dir",
                                   options_.data_dir, "--listen", "127.0.0.1:0",
                                   "--port-file", port_file};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_ = Spawn(argv, "", "", options_.log_file);
  if (pid_ < 0) return absl::InternalError("cannot spawn " + binary);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError("indelibled exited during startup: " + Log());
    }
    std::string text = ReadFile(port_file);
    if (!text.empty() && text.back() == '\n') {
      port_ = std::stoi(text);
      target_ = "127.0.0.1:" + std::to_string(port_);
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return absl::DeadlineExceededError("indelibled did not start: " + Log());
}

int DaemonProcess::Wait() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return DecodeWaitStatus(status);
}

int DaemonProcess::Stop() {
  if (pid_ < 0) return -1;
  kill(pid_, SIGTERM);
  return Wait();
}

void DaemonProcess::Kill() {
  if (pid_ < 0) return;
  kill(pid_, SIGKILL);
  Wait();
}

absl::Status DaemonProcess::Restart() {
  if (pid_ >= 0) Stop();
  return Launch();
}

std::string DaemonProcess::Log() const { return ReadFile(options_.log_file); }

DaemonProcess::~DaemonProcess() { Kill(); }

}  // namespace indelible::testing
