// End-to-end tests of the real indelible-witness binary on 127.0.0.1 port 0
// with a temporary state directory: the tlog-witness protocol over HTTP,
// restarts, kill -9 at random moments, the command line, and mutual TLS.
// Every cosignature returned is checked by the chain library and by
// check_cosignature.py (written from the C2SP specs, openssl for Ed25519).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/witness/test_log.h"
#include "tests/witness/witness_process.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"


namespace indelible::witness {
namespace {

using indelible::testing::BinPath;
using indelible::testing::CommandResult;
using indelible::testing::RunCommand;
using indelible::testing::TempDir;
using testing::FormatV2;
using testing::TestLog;
using testing::TestLogSigner;
using testing::WitnessProcess;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct HttpReply {
  bool ok = false;  // false: no HTTP response (connection failed)
  int status = 0;
  std::string content_type, body;
};

HttpReply Post(httplib::Client* cli, const std::string& body) {
  HttpReply r;
  auto res = cli->Post("/add-checkpoint", body, "text/plain");
  if (!res) return r;
  r.ok = true;
  r.status = res->status;
  r.content_type = res->get_header_value("Content-Type");
  r.body = res->body;
  return r;
}

std::unique_ptr<httplib::Client> Client(int port) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_connection_timeout(5);
  cli->set_read_timeout(20);
  return cli;
}

// The indelible_witness_origin_size gauge of `origin` (0 if absent).
uint64_t MetricSize(int metrics_port, const std::string& origin) {
  httplib::Client cli("127.0.0.1", metrics_port);
  auto res = cli.Get("/metrics");
  EXPECT_TRUE(res && res->status == 200);
  if (!res) return UINT64_MAX;
  const std::string key = "indelible_witness_origin_size{origin=\"" + origin + "\"} ";
  const size_t at = res->body.find(key);
  if (at == std::string::npos) return 0;
  return std::stoull(res->body.substr(at + key.size()));
}

// The clock the witness reads (time() may lag it by a tick).
uint64_t NowSeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

class WitnessE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult gen = RunCommand({BinPath("indelible-witness"), "keygen", "--name",
                                    "witness.test/e2e", "--out", dir_.Sub("witness.pem")});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    ASSERT_FALSE(gen.out.empty());
    vkey_string_ = gen.out.substr(0, gen.out.size() - 1);
    auto key = chain::ParseCosignerKey(vkey_string_);
    ASSERT_TRUE(key.ok()) << key.status() << vkey_string_;
    vkey_ = *key;
    WriteConfig("");
    log_.Grow(3000);
  }
  void TearDown() override {
    proc_.reset();
    if (cases_.empty()) return;
    // Every cosignature returned, once more from the specs alone.
    const std::string path = dir_.Sub("cases.jsonl");
    {
      std::ofstream out(path);
      for (const auto& [note, response] : cases_) {
        out << nlohmann::json{{"note", note}, {"response", response}}.dump() << "\n";
      }
    }
    CommandResult r = RunCommand({"/usr/bin/env", "python3",
                                  std::string(INDELIBLE_SOURCE_DIR) +
                                      "/tests/witness/check_cosignature.py",
                                  vkey_string_, path},
                                 "", std::chrono::seconds(300));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(std::to_string(cases_.size()) + " passed, 0 failed"), std::string::npos)
        << r.out;
  }

  void WriteConfig(const std::string& extra) {
    std::ofstream(dir_.Sub("witness.yaml"))
        << "name: witness.test/e2e\n"
        << "key_file: " << dir_.Sub("witness.pem") << "\n"
        << "state_dir: " << dir_.Sub("state") << "\n"
        << "listen: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\n" << extra
        << "logs:\n  - origin_prefix: indelible.test/\n    keys: [\"" << FormatV2().log_verifier_key
        << "\"]\n";
  }

  ::testing::AssertionResult StartWitness() {
    proc_ = std::make_unique<WitnessProcess>(dir_.Sub("witness.yaml"), dir_.Sub("port"),
                                             dir_.Sub("witness.log"));
    auto started = proc_->Start();
    if (started) cli_ = Client(proc_->port());
    return started;
  }

  // Submits log_'s checkpoint of size n from old_size and expects a valid
  // cosignature (checked here with the chain library, later by Python).
  void ExpectCosign(const TestLog& log, uint64_t old_size, uint64_t n) {
    const HttpReply r = Post(cli_.get(), log.Request(old_size, n, TestLogSigner()));
    ASSERT_TRUE(r.ok) << proc_->Log();
    ASSERT_EQ(r.status, 200) << r.body;
    CheckCosignature(log.Note(n, TestLogSigner()), r.body);
  }
  void CheckCosignature(const std::string& note, const std::string& response) {
    auto found = chain::VerifyCosignatures(note + response, {{vkey_}, 1});
    ASSERT_TRUE(found.ok()) << found.status() << response;
    const uint64_t now = NowSeconds();
    EXPECT_GE((*found)[0].timestamp, start_time_);
    EXPECT_LE((*found)[0].timestamp, now);
    cases_.emplace_back(note, response);
  }

  TempDir dir_;
  TestLog log_{"indelible.test", "acme", "e2e"};
  std::string vkey_string_;
  chain::CosignerKey vkey_;
  std::unique_ptr<WitnessProcess> proc_;
  std::unique_ptr<httplib::Client> cli_;
  std::vector<std::pair<std::string, std::string>> cases_;
  const uint64_t start_time_ = NowSeconds();
};

TEST_F(WitnessE2E, ProtocolOverHttp) {
  ASSERT_TRUE(StartWitness());
  // First checkpoint (old 0), then a consistent extension.
  ExpectCosign(log_, 0, 5);
  ExpectCosign(log_, 5, 13);

  // Stale old size: 409, text/x.tlog.size, the current size.
  for (uint64_t old_size : {0, 5, 12}) {
    const HttpReply r = Post(cli_.get(), log_.Request(old_size, 20, TestLogSigner()));
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.content_type, "text/x.tlog.size");
    EXPECT_EQ(r.body, "13\n");
  }
  // Old size above the checkpoint's: 400.
  EXPECT_EQ(Post(cli_.get(), log_.Request(13, 9, TestLogSigner())).status, 400);
  // An inconsistent tree (its tail rewritten): 422.
  TestLog rewritten = log_;
  rewritten.RewriteFrom(10, "rewrite");
  EXPECT_EQ(Post(cli_.get(), rewritten.Request(13, 20, TestLogSigner())).status, 422);
  // Unknown origin: 404.
  TestLog stranger("elsewhere.test", "acme", "s");
  stranger.Grow(4);
  EXPECT_EQ(Post(cli_.get(), stranger.Request(0, 4, TestLogSigner())).status, 404);
  // Signed by a second key: 403.
  const chain::NoteSigner second(FormatV2().log_key_name, *chain::Ed25519PrivateKey::Generate());
  EXPECT_EQ(Post(cli_.get(), log_.Request(13, 20, second)).status, 403);
  // Malformed: 400.
  EXPECT_EQ(Post(cli_.get(), "old 13\nnot base64\n\n" + log_.Note(20, TestLogSigner())).status,
            400);

  // Split view: two roots of the same size for another tenant; the first
  // one wins, the second is refused whichever old size it claims.
  TestLog a("indelible.test", "split", "a"), b("indelible.test", "split", "a");
  a.Grow(8);
  b.Grow(8);
  b.RewriteFrom(6, "b");
  ExpectCosign(a, 0, 8);
  const HttpReply b0 = Post(cli_.get(), b.Request(0, 8, TestLogSigner()));
  EXPECT_EQ(b0.status, 409);
  EXPECT_EQ(b0.body, "8\n");
  EXPECT_EQ(Post(cli_.get(), b.Request(8, 8, TestLogSigner())).status, 409);
  ExpectCosign(a, 8, 8);  // the first view, again

  // Nothing refused moved the state.
  ExpectCosign(log_, 13, 20);
  EXPECT_EQ(MetricSize(proc_->metrics_port(), log_.Origin()), 20u);
  EXPECT_EQ(MetricSize(proc_->metrics_port(), a.Origin()), 8u);
  httplib::Client m("127.0.0.1", proc_->metrics_port());
  auto metrics = m.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const char* line : {"indelible_witness_requests_total{result=\"cosigned\"} 5",
                           "indelible_witness_requests_total{result=\"conflict\"} 5",
                           "indelible_witness_requests_total{result=\"bad_proof\"} 1",
                           "indelible_witness_requests_total{result=\"unknown_log\"} 1",
                           "indelible_witness_requests_total{result=\"forbidden\"} 1",
                           "indelible_witness_requests_total{result=\"bad_request\"} 2",
                           "indelible_witness_state_ok 1"}) {
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line << "\n" << metrics->body;
  }
  auto get = cli_->Get("/add-checkpoint");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  auto health = m.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // The witness's private key never reaches its log.
  const std::string pem = ReadFile(dir_.Sub("witness.pem"));
  const std::string b64 = pem.substr(pem.find('\n') + 1, 40);
  EXPECT_EQ(proc_->Log().find(b64), std::string::npos);
  EXPECT_EQ(proc_->Stop(), 0);
}

// A state write that fails (the origin's state file replaced by a
// directory, which no rename can replace) cosigns nothing: 500, /health 503
// and indelible_witness_state_ok 0, until a write succeeds again.
TEST_F(WitnessE2E, FailedStateWriteIs500AndUnhealthy) {
  ASSERT_TRUE(StartWitness());
  ExpectCosign(log_, 0, 5);
  httplib::Client metrics("127.0.0.1", proc_->metrics_port());
  auto health = [&] {
    auto res = metrics.Get("/health");
    return res ? res->status : -1;
  };
  auto state_ok = [&] {
    auto res = metrics.Get("/metrics");
    const std::string key = "\nindelible_witness_state_ok ";
    const size_t at = res ? res->body.find(key) : std::string::npos;
    return at == std::string::npos ? -1 : std::stoi(res->body.substr(at + key.size()));
  };
  ASSERT_EQ(health(), 200);
  ASSERT_EQ(state_ok(), 1);
  const std::string file =
      dir_.Sub("state/origins/" + chain::ToHex(chain::Sha256(log_.Origin())));
  ASSERT_TRUE(std::filesystem::is_regular_file(file)) << file;
  std::filesystem::remove(file);
  std::filesystem::create_directories(file + "/in-the-way");

  const HttpReply r = Post(cli_.get(), log_.Request(5, 13, TestLogSigner()));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(r.body.find("\u2014"), std::string::npos);
  EXPECT_EQ(health(), 503);
  EXPECT_EQ(state_ok(), 0);
  EXPECT_EQ(MetricSize(proc_->metrics_port(), log_.Origin()), 5u);  // nothing cosigned
  EXPECT_NE(proc_->Log().find("cannot rename"), std::string::npos) << proc_->Log();

  // The way cleared, the next write succeeds and health is back.
  std::filesystem::remove_all(file);
  ExpectCosign(log_, 5, 13);
  EXPECT_EQ(health(), 200);
  EXPECT_EQ(state_ok(), 1);
}

TEST_F(WitnessE2E, StateSurvivesRestart) {
  ASSERT_TRUE(StartWitness());
  ExpectCosign(log_, 0, 7);
  ExpectCosign(log_, 7, 11);
  EXPECT_EQ(proc_->Stop(), 0);
  ASSERT_TRUE(StartWitness());
  EXPECT_EQ(MetricSize(proc_->metrics_port(), log_.Origin()), 11u);
  const HttpReply r = Post(cli_.get(), log_.Request(0, 15, TestLogSigner()));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, "11\n");
  EXPECT_EQ(Post(cli_.get(), log_.Request(11, 9, TestLogSigner())).status, 400);
  ExpectCosign(log_, 11, 15);
}

// Concurrent requests from the same old size: exactly one advances the
// state, the others learn the new size from a 409.
TEST_F(WitnessE2E, ConcurrentSubmissionsAdvanceOnce) {
  ASSERT_TRUE(StartWitness());
  ExpectCosign(log_, 0, 10);
  constexpr int kClients = 12;
  std::vector<HttpReply> replies(kClients);
  std::vector<std::string> bodies;
  for (int i = 0; i < kClients; ++i) bodies.push_back(log_.Request(10, 11 + i, TestLogSigner()));
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { replies[i] = Post(Client(proc_->port()).get(), bodies[i]); });
  }
  for (auto& t : threads) t.join();
  int winner = -1;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(replies[i].ok);
    if (replies[i].status == 200) {
      EXPECT_EQ(winner, -1) << "two requests advanced from the same old size";
      winner = i;
    } else {
      EXPECT_EQ(replies[i].status, 409);
    }
  }
  ASSERT_NE(winner, -1);
  CheckCosignature(log_.Note(11 + winner, TestLogSigner()), replies[winner].body);
  for (int i = 0; i < kClients; ++i) {
    if (i != winner) EXPECT_EQ(replies[i].body, std::to_string(11 + winner) + "\n");
  }
  EXPECT_EQ(MetricSize(proc_->metrics_port(), log_.Origin()), 11u + winner);
}

// kill -9 at random moments during a bounded loop of submissions. After
// each restart the state is the last size cosigned (or the one in flight,
// if the kill fell between its durable write and its answer), and the
// witness cosigns nothing smaller, inconsistent or forked.
TEST_F(WitnessE2E, KillNineAtRandomMomentsNeverGoesBack) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  uint64_t acked = 0;     // newest size answered with a cosignature
  uint64_t in_flight = 0; // size of the request the kill interrupted, if any
  int interrupted = 0;
  constexpr int kRounds = 8;
  constexpr int kMaxRequestsPerRound = 40;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(StartWitness());
    const uint64_t state = MetricSize(proc_->metrics_port(), log_.Origin());
    if (in_flight != 0 && state == in_flight) acked = in_flight;
    ASSERT_EQ(state, acked) << "round " << round << " in flight " << in_flight;
    in_flight = 0;
    if (acked > 0) {
      // The state's root is the tree's: re-cosigning the same tree works.
      ExpectCosign(log_, acked, acked);
      // Nothing smaller.
      EXPECT_EQ(Post(cli_.get(), log_.Request(acked, acked - 1, TestLogSigner())).status, 400);
      if (acked > 1) {
        const HttpReply r = Post(cli_.get(), log_.Request(acked - 1, acked + 1, TestLogSigner()));
        EXPECT_EQ(r.status, 409);
        EXPECT_EQ(r.body, std::to_string(acked) + "\n");
      }
      // Nothing inconsistent or forked.
      TestLog fork = log_;
      fork.RewriteFrom(acked - 1, "fork" + std::to_string(round));
      EXPECT_EQ(Post(cli_.get(), fork.Request(acked, acked + 3, TestLogSigner())).status, 422);
      EXPECT_EQ(Post(cli_.get(), fork.Request(acked, acked, TestLogSigner())).status, 409);
    }
    // A kill at a random moment within the next few milliseconds.
    const auto delay = std::chrono::microseconds(rng() % 30000);
    const pid_t pid = proc_->pid();
    std::thread killer([pid, delay] {
      std::this_thread::sleep_for(delay);
      kill(pid, SIGKILL);
    });
    for (int i = 0; i < kMaxRequestsPerRound; ++i) {
      const uint64_t next = acked + 1 + rng() % 4;
      ASSERT_LE(next, log_.size());
      in_flight = next;
      const HttpReply r = Post(cli_.get(), log_.Request(acked, next, TestLogSigner()));
      if (!r.ok) {
        ++interrupted;
        break;
      }
      ASSERT_EQ(r.status, 200) << r.body;
      CheckCosignature(log_.Note(next, TestLogSigner()), r.body);
      acked = next;
      in_flight = 0;
    }
    killer.join();
    proc_->Wait();
  }
  ASSERT_TRUE(StartWitness());
  const uint64_t state = MetricSize(proc_->metrics_port(), log_.Origin());
  if (in_flight != 0 && state == in_flight) acked = in_flight;
  EXPECT_EQ(state, acked);
  EXPECT_GT(acked, 0u);
  std::printf("kill -9 interrupted %d of %d rounds in a request; newest size %llu\n",
              interrupted, kRounds, static_cast<unsigned long long>(acked));
}

TEST_F(WitnessE2E, CommandLineAndConfigErrors) {
  const std::string bin = BinPath("indelible-witness");
  CommandResult v = RunCommand({bin, "--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "indelible-witness 0.1.0\n");
  // keygen never overwrites a key.
  CommandResult again = RunCommand({bin, "keygen", "--name", "w", "--out", dir_.Sub("witness.pem")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos);
  struct stat st;
  ASSERT_EQ(stat(dir_.Sub("witness.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Bad config: exit 2 naming the field.
  for (const auto& [yaml, field] : std::vector<std::pair<std::string, std::string>>{
           {"name: w\nkey_file: k\nlogs:\n  - origin: a/b\n    keys: [bad]\n", "logs[0].keys[0]"},
           {"nmae: w\n", "unknown key nmae"},
           {"name: w\nkey_file: k\nlisten: 0.0.0.0:1\nlogs:\n  - origin: a/b\n    keys: [\"" +
                FormatV2().log_verifier_key + "\"]\n",
            "listen"},
       }) {
    std::ofstream(dir_.Sub("bad.yaml"), std::ios::trunc) << yaml;
    CommandResult r = RunCommand({bin, "--config", dir_.Sub("bad.yaml")});
    EXPECT_EQ(r.exit_code, 2) << yaml;
    EXPECT_NE(r.err.find(field), std::string::npos) << r.err;
  }
  // A key file others can read: exit 1, the file named, its content not.
  chmod(dir_.Sub("witness.pem").c_str(), 0644);
  CommandResult loose = RunCommand({bin, "--config", dir_.Sub("witness.yaml")});
  EXPECT_EQ(loose.exit_code, 1);
  EXPECT_NE(loose.err.find(dir_.Sub("witness.pem")), std::string::npos) << loose.err;
  EXPECT_EQ(loose.err.find("PRIVATE KEY"), std::string::npos);
  chmod(dir_.Sub("witness.pem").c_str(), 0600);
  // A second witness on the same state directory: exit 1.
  ASSERT_TRUE(StartWitness());
  CommandResult second = RunCommand({bin, "--config", dir_.Sub("witness.yaml")});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("locked"), std::string::npos) << second.err;
}

TEST_F(WitnessE2E, MutualTls) {
  // A refused handshake closes the socket under the client's writes.
  signal(SIGPIPE, SIG_IGN);
  CommandResult certs = RunCommand({"/bin/bash",
                                    std::string(INDELIBLE_SOURCE_DIR) + "/deploy/tls/make-dev-certs.sh",
                                    dir_.Sub("certs"), "logclient"});
  ASSERT_EQ(certs.exit_code, 0) << certs.out << certs.err;
  const std::string c = dir_.Sub("certs") + "/";
  WriteConfig("tls:\n  cert_file: " + c + "server.pem\n  key_file: " + c +
              "server.key\n  client_ca_file: " + c + "ca.pem\n");
  proc_ = std::make_unique<WitnessProcess>(dir_.Sub("witness.yaml"), dir_.Sub("port"),
                                           dir_.Sub("witness.log"));
  ASSERT_TRUE(proc_->Start());
  {
    httplib::SSLClient tls("127.0.0.1", proc_->port(), c + "logclient.pem", c + "logclient.key");
    tls.set_ca_cert_path((c + "ca.pem").c_str());
    tls.enable_server_certificate_verification(true);
    auto res = tls.Post("/add-checkpoint", log_.Request(0, 3, TestLogSigner()), "text/plain");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    CheckCosignature(log_.Note(3, TestLogSigner()), res->body);
  }
  {
    // No client certificate: the handshake fails.
    httplib::SSLClient tls("127.0.0.1", proc_->port());
    tls.set_ca_cert_path((c + "ca.pem").c_str());
    tls.enable_server_certificate_verification(true);
    EXPECT_FALSE(tls.Post("/add-checkpoint", log_.Request(3, 4, TestLogSigner()), "text/plain"));
  }
  // TLS 1.3 only: a TLS 1.2 handshake is refused, a TLS 1.3 one works.
  const std::string target = "127.0.0.1:" + std::to_string(proc_->port());
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    CommandResult hs = RunCommand({"/usr/bin/openssl", "s_client", "-connect", target, version,
                                   "-CAfile", c + "ca.pem", "-cert", c + "logclient.pem",
                                   "-key", c + "logclient.key", "-verify_return_error"});
    if (std::string(version) == "-tls1_2") {
      EXPECT_NE(hs.exit_code, 0) << hs.out;
    } else {
      EXPECT_EQ(hs.exit_code, 0) << hs.out << hs.err;
      EXPECT_NE(hs.out.find("TLSv1.3"), std::string::npos) << hs.out;
    }
  }
  // Plain HTTP to the TLS listener gets no answer.
  EXPECT_FALSE(Post(Client(proc_->port()).get(), log_.Request(3, 4, TestLogSigner())).ok);
  EXPECT_EQ(MetricSize(proc_->metrics_port(), log_.Origin()), 3u);
}

}  // namespace
}  // namespace indelible::witness
