// End-to-end harness: runs the real binaries (indelibled, indelible,
// indelible-verify) from the build tree, the daemon on 127.0.0.1 port 0 with
// a temporary data directory. Waits on state (the port file, process exit),
// never on fixed sleeps.
#ifndef INDELIBLE_TESTS_E2E_HARNESS_H_
#define INDELIBLE_TESTS_E2E_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "indelible/v1/indelible.grpc.pb.h"

namespace indelible::testing {

// Path of a binary built by this project ("indelibled", "indelible", ...).
std::string BinPath(const std::string& name);

// The verifier-key string ("name+id+key") of the Ed25519 private key in
// `key_file` under `key_name`: what `indelible public-key` prints for a
// daemon that signs with that file (its development key is
// <data_dir>.signing-key.pem beside the data directory, its default key
// name "indelible"), for
// `indelible-verify --key`. Aborts the test if the file is not such a key.
std::string VerifierKeyOf(const std::string& key_file,
                          const std::string& key_name = "indelible");

// The whole contents of the file at `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with the given stdin text, waits at most `timeout`
// (then kills it and reports exit_code -1).
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& stdin_text = "",
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// Runs deploy/tls/make-dev-certs.sh: ca.pem, server.pem/.key and a client
// certificate <name>.pem/.key for each of `clients`, written to `dir`.
CommandResult MakeDevCerts(const std::string& dir, const std::vector<std::string>& clients);

// One authenticated caller: a TLS channel with its client certificate (or
// none) and optionally a bearer token.
struct Caller {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AuditLog::Stub> log;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::string token;

  // A deadline of 20 s and the token, if any.
  void Prepare(grpc::ClientContext* ctx) const;
};

// A Caller to `target` that trusts <certs_dir>/ca.pem and presents
// <certs_dir>/<principal>.pem and .key (nothing when `principal` is empty).
Caller TlsCaller(const std::string& target, const std::string& certs_dir,
                 const std::string& principal, const std::string& token = "");

// ReadRecords of `tenant` with `reason` as `c`; the records into `out` when
// given.
grpc::Status ReadRecords(const Caller& c, const std::string& tenant, const std::string& reason,
                         std::vector<v1::Record>* out = nullptr);

// One indelibled process.
class DaemonProcess {
 public:
  struct Options {
    std::string data_dir;                 // required
    std::vector<std::string> extra_args;  // e.g. {"--config", path}
    std::string log_file;                 // default: <data_dir>.log
    // The daemon binary. Default: "indelibled", or "indelibled-testing" (the
    // test build with a manual clock) when extra_args has
    // --testing-manual-clock, which indelibled does not accept.
    std::string binary = {};
  };
  // Starts the daemon and waits (at most 30 s) until it has written its port.
  static absl::StatusOr<std::unique_ptr<DaemonProcess>> Start(Options options);
  ~DaemonProcess();  // SIGKILL if still running

  const std::string& target() const { return target_; }  // "127.0.0.1:PORT"
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const Options& options() const { return options_; }

  // SIGTERM and wait; returns the exit code (-1 if killed by a signal).
  int Stop();
  // SIGKILL and wait.
  void Kill();
  // Starts a new process with the same options (after Stop/Kill).
  absl::Status Restart();
  std::string Log() const;

 private:
  explicit DaemonProcess(Options options) : options_(std::move(options)) {}
  absl::Status Launch();
  int Wait();

  Options options_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string target_;
};

// A test suite's shared set-up, run once from the first test's SetUp:
// its failures fail that test, and every later test of the suite fails on
// `ok` (gtest reports a failed SetUpTestSuite as skipped tests, which ctest
// does not count as failures).
struct SuitePreparation {
  bool attempted = false;
  bool ok = false;
  void Run(const std::function<void()>& prepare) {
    if (attempted) return;
    attempted = true;
    prepare();
    ok = !::testing::Test::HasFatalFailure();
  }
};

}  // namespace indelible::testing

#endif  // INDELIBLE_TESTS_E2E_HARNESS_H_
