// Runs the `indelible` command in-process against the fake server.
#include "client/cli/cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "client/cli/exit_codes.h"
#include "client/cli/time_text.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/text.h"

namespace indelible::cli {
namespace {

using nlohmann::json;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Cli(std::vector<std::string> args, const std::string& input = "") {
  std::vector<const char*> argv = {"indelible"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(json::parse(line));
  }
  return out;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory, removed with its contents at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cli-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  std::set<std::string> Names() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

 private:
  std::string path_;
};

class CliTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(),
                {"--target", server_.target(), "--timeout", "5s"});
    return Cli(args, input);
  }
  Result AppendOne(const std::string& id) {
    return Run({"append", "--tenant", "acme", "--event-id", id, "--actor-id",
                "alice", "--action", "customer.read"});
  }
  // An admin command with the default --timeout (5 minutes for admin).
  Result Admin(std::vector<std::string> args) {
    args.insert(args.begin(), {"--target", server_.target(), "admin"});
    return Cli(args);
  }
  testing::FakeAuditLog& fake() { return server_.service(); }
  testing::FakeAdmin& admin() { return server_.admin(); }
  // What the server answers GetCheckpoint, through the client library.
  v1::Checkpoint Served(const std::string& tenant, uint64_t min_seq) {
    client::ClientOptions options;
    options.target = server_.target();
    auto c = client::Client::Connect(options);
    EXPECT_TRUE(c.ok()) << c.status();
    auto cp = (*c)->GetCheckpoint(tenant, min_seq);
    EXPECT_TRUE(cp.ok()) << cp.status();
    return cp.ok() ? *cp : v1::Checkpoint();
  }
  std::string TestKey() {
    return chain::NoteVerifierKeyString(
        testing::FakeAuditLog::TestSigner().verifier_key());
  }

  testing::FakeServer server_;
};

TEST(Cli, HelpExitsZero) {
  Result r = Cli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Contains(r.out, "append")) << r.out;
  r = Cli({"append", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Contains(r.out, "--actor-id")) << r.out;
  r = Cli({"read", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Contains(r.out, "--limit")) << r.out;
  r = Cli({"--help"});
  for (const char* cmd : {"checkpoint", "public-key", "keygen"}) {
    EXPECT_TRUE(Contains(r.out, cmd)) << r.out;
  }
  r = Cli({"checkpoint", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Contains(r.out, "--min-seq")) << r.out;
}

TEST(Cli, UsageErrorsExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"head"},
           {"head", "--tenant", "acme", "--bogus"},
           {"--timeout", "soon", "head", "--tenant", "acme"},
           {"read", "--tenant", "acme", "--limit", "many"},
           {"append", "--tenant", "acme", "--actor-id", "a"},
           {"append", "--tenant", "a", "--actor-id", "a", "--action", "x",
            "--meta", "novalue"},
           {"append", "--tenant", "a", "--actor-id", "a", "--action", "x",
            "--occurred-at", "yesterday"},
           {"append", "--stdin", "--action", "x"},
           {"append", "file.json"},
           {"checkpoint"},
           {"checkpoint", "--tenant", "acme", "--min-seq", "soon"},
           {"checkpoint", "--tenant", "acme", "--key", "not-a-key"},
           {"public-key", "--pem", "--json"},
           {"keygen"},
       }) {
    Result r = Cli(args);
    EXPECT_EQ(r.code, kExitUsage) << ::testing::PrintToString(args);
    EXPECT_EQ(r.err.rfind("indelible: error: ", 0), 0u) << r.err;
  }
}

TEST_F(CliTest, AppendPrintsReceiptAndSendsEveryFlag) {
  Result r = Run({"append",
                  "--tenant",
                  "acme",
                  "--event-id",
                  "e1",
                  "--actor-id",
                  "alice",
                  "--actor-type",
                  "user",
                  "--actor-ip",
                  "10.0.0.1",
                  "--action",
                  "customer.read",
                  "--resource-type",
                  "customer",
                  "--resource-id",
                  "42",
                  "--reason",
                  "ticket",
                  "--outcome",
                  "allowed",
                  "--source",
                  "crm",
                  "--category",
                  "access",
                  "--occurred-at",
                  "2023-11-14T22:13:20Z",
                  "--meta",
                  "a=1",
                  "--meta",
                  "b=x=y"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Contains(r.out, "seq:         1\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "duplicate:   false\n")) << r.out;
  auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), 1u);
  const auto& e = stored[0];
  EXPECT_EQ(e.event_id(), "e1");
  EXPECT_EQ(e.actor().type(), "user");
  EXPECT_EQ(e.actor().ip(), "10.0.0.1");
  EXPECT_EQ(e.resource().id(), "42");
  EXPECT_EQ(e.category(), "access");
  EXPECT_EQ(e.occurred_at_ns(), 1700000000000000000u);
  ASSERT_EQ(e.metadata_size(), 2);
  EXPECT_EQ(e.metadata(1).value(), "x=y");

  r = AppendOne("e1");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Contains(r.out, "duplicate:   true\n")) << r.out;
}

TEST_F(CliTest, AppendJsonAndGeneratedEventId) {
  Result r = Run({"append", "--json", "--tenant", "acme", "--actor-id", "a",
                  "--action", "login"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["event_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(j["entry_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["duplicate"], false);
  EXPECT_EQ(fake().stored_events("acme")[0].event_id(), j["event_id"]);
}

TEST_F(CliTest, AppendStdinSendsBatchesInOrder) {
  std::string input;
  for (int i = 1; i <= 5; ++i) {
    input += R"({"event_id":"e)" + std::to_string(i) +
             R"(","actor_id":"alice","action":"read"})" + "\n";
    if (i == 2) input += "   \n";  // blank lines are skipped
  }
  Result r = Run({"append", "--stdin", "--tenant", "acme", "--batch-size", "2"},
                 input);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(lines[i]["seq"], i + 1);
    EXPECT_EQ(lines[i]["event_id"], "e" + std::to_string(i + 1));
  }
  EXPECT_EQ(fake().batch_sizes(), (std::vector<size_t>{2, 2, 1}));

  // "-" is the same as --stdin; replays are answered as duplicates.
  r = Run({"append", "-", "--tenant", "acme"}, input);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4]["duplicate"], true);
  EXPECT_EQ(fake().stored_events("acme").size(), 5u);
}

// ~60 KB events at the default --batch-size (500): a batch is cut when the
// next event would take the request over the daemon's 16 MiB.
TEST_F(CliTest, AppendStdinSplitsBatchesByBytes) {
  constexpr int kEvents = 600;
  std::string input;
  for (int i = 0; i < kEvents; ++i) {
    input += R"({"tenant":"acme","event_id":"e)" + std::to_string(1000 + i) +
             R"(","actor_id":"alice","action":"read","reason":")" + std::string(60000, 'r') +
             "\"}\n";
  }
  Result r = Run({"append", "--stdin"}, input);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(JsonLines(r.out).size(), static_cast<size_t>(kEvents));
  const auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), static_cast<size_t>(kEvents));
  const size_t bytes = client::EventRequestBytes(stored[0]);  // all the same size
  const size_t per_batch = client::kMaxRequestBytes / bytes;
  ASSERT_LT(per_batch, 500u);
  std::vector<size_t> want;
  for (size_t left = kEvents; left > 0; left -= std::min(left, per_batch)) {
    want.push_back(std::min(left, per_batch));
  }
  EXPECT_EQ(fake().batch_sizes(), want);
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(stored[i].event_id(), "e" + std::to_string(1000 + i));
  }
}

TEST_F(CliTest, AppendStdinEventTooLargeToSendIsNamed) {
  const std::string input =
      R"({"tenant":"acme","event_id":"e1","actor_id":"a","action":"x"})"
      "\n"
      R"({"tenant":"acme","event_id":"huge","actor_id":"a","action":"x","reason":")" +
      std::string(client::kMaxRequestBytes, 'r') + "\"}\n" +
      R"({"tenant":"acme","event_id":"e3","actor_id":"a","action":"x"})"
      "\n";
  Result r = Run({"append", "--stdin"}, input);
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_EQ(r.err.rfind("indelible: error: line 2: INVALID_ARGUMENT: event \"huge\" is ", 0),
            0u)
      << r.err.substr(0, 200);
  EXPECT_EQ(JsonLines(r.out).size(), 1u);
  const auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].event_id(), "e1");
}

TEST_F(CliTest, AppendStdinStopsAtMalformedLine) {
  const std::string input =
      R"({"tenant":"acme","event_id":"e1","actor_id":"a","action":"x"})"
      "\n"
      R"({"tenant":"acme","event_id":"e2","actor_id":"a","action":"x"})"
      "\n"
      R"({"tenant":"acme","event_id":"e3","actor_id":"a","action":)"
      "\n"
      R"({"tenant":"acme","event_id":"e4","actor_id":"a","action":"x"})"
      "\n";
  Result r = Run({"append", "--stdin"}, input);
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_EQ(r.err.rfind("indelible: error: line 3: ", 0), 0u) << r.err;
  EXPECT_EQ(JsonLines(r.out).size(), 2u);
  auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].event_id(), "e2");
}

TEST_F(CliTest, AppendStdinLineWithoutTenant) {
  Result r = Run({"append", "--stdin"}, R"({"actor_id":"a","action":"x"})");
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err, "line 1: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--tenant")) << r.err;
  EXPECT_EQ(fake().append_calls(), 0);
}

TEST_F(CliTest, ServerRejectionExitsThree) {
  Result r = Run({"append", "--stdin", "--tenant", "acme"},
                 "\n"
                 R"({"actor_id":"a","action":"x"})"
                 "\n"
                 R"({"actor_id":"a"})"
                 "\n");
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err,
                       "lines 2-3: INVALID_ARGUMENT: "
                       "events[1].action: required"))
      << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(CliTest, TransportAndOtherErrorsExitFourAndFive) {
  const std::vector<std::string> no_retries = {
      "append", "--retries", "0", "--tenant", "acme", "--event-id", "e1",
      "--actor-id", "alice", "--action", "customer.read"};
  fake().FailNext(1, grpc::StatusCode::UNAVAILABLE);
  Result r = Run(no_retries);
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.err, "indelible: error: append: UNAVAILABLE: injected failure\n");

  fake().FailNext(1, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(AppendOne("e1").code, kExitError);
  fake().FailNext(1, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(AppendOne("e1").code, kExitError);
  EXPECT_EQ(fake().append_calls(), 3);  // none of them resent

  std::string gone_target;
  {
    testing::FakeServer gone;
    gone_target = gone.target();
  }
  r = Cli({"--target", gone_target, "head", "--tenant", "acme"});
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
}

constexpr const char* kBusy =
    "busy: the daemon holds max_queued_events (4096) events not yet "
    "committed; nothing was stored; retry after 3 ms (grpc-retry-pushback-ms)";

int CountOf(const std::string& s, const std::string& part) {
  int n = 0;
  for (size_t at = s.find(part); at != std::string::npos;
       at = s.find(part, at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(CliTest, AppendResendsWhenBusyOrUnavailable) {
  fake().FailNext(1, grpc::StatusCode::RESOURCE_EXHAUSTED, kBusy);
  Result r = AppendOne("e1");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Contains(r.out, "seq:         1\n")) << r.out;
  EXPECT_TRUE(Contains(r.err, "indelible: append: RESOURCE_EXHAUSTED: busy: "))
      << r.err;
  EXPECT_TRUE(Contains(r.err, "(1 of 5)\n")) << r.err;
  EXPECT_EQ(fake().append_calls(), 2);

  // The answer to the first call is lost after the events were stored: the
  // resend is answered with the same receipts, nothing is stored twice.
  std::string input;
  for (int i = 2; i <= 4; ++i) {
    input += R"({"event_id":"e)" + std::to_string(i) +
             R"(","actor_id":"alice","action":"read"})" + "\n";
  }
  fake().LoseResponses(1, grpc::StatusCode::UNAVAILABLE);
  r = Run({"append", "--stdin", "--tenant", "acme"}, input);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Contains(r.err, "indelible: lines 1-3: UNAVAILABLE: ")) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["seq"], i + 2);
    EXPECT_EQ(lines[i]["event_id"], "e" + std::to_string(i + 2));
  }
  EXPECT_EQ(fake().stored_events("acme").size(), 4u);
  EXPECT_EQ(fake().append_calls(), 4);
}

TEST_F(CliTest, AppendGivesUpAfterItsRetries) {
  fake().FailNext(3, grpc::StatusCode::RESOURCE_EXHAUSTED, kBusy);
  Result r = Run({"append", "--retries", "2", "--tenant", "acme", "--actor-id",
                  "alice", "--action", "customer.read"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(CountOf(r.err, "; resending in "), 2) << r.err;
  EXPECT_TRUE(Contains(r.err, "(2 of 2)\n")) << r.err;
  EXPECT_TRUE(Contains(r.err, "indelible: error: append: RESOURCE_EXHAUSTED: busy:"))
      << r.err;
  EXPECT_EQ(fake().append_calls(), 3);
  EXPECT_TRUE(fake().stored_events("acme").empty());

  // Errors a resend cannot cure are reported at once.
  fake().FailNext(1, grpc::StatusCode::RESOURCE_EXHAUSTED,
                  "disk full: no space left on device");
  r = AppendOne("e9");
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(CountOf(r.err, "resending"), 0) << r.err;
  EXPECT_EQ(fake().append_calls(), 4);

  EXPECT_EQ(Run({"append", "--retries", "21", "--tenant", "acme", "--actor-id",
                 "alice", "--action", "x"})
                .code,
            kExitUsage);
}

TEST_F(CliTest, HeadHumanAndJson) {
  ASSERT_EQ(AppendOne("e1").code, kExitOk);
  Result a = Run({"append", "--json", "--tenant", "acme", "--event-id", "e2",
                  "--actor-id", "a", "--action", "x"});
  ASSERT_EQ(a.code, kExitOk);
  json receipt = json::parse(a.out);

  Result r = Run({"head", "--tenant", "acme", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json h = json::parse(r.out);
  EXPECT_EQ(h["seq"], 2);
  EXPECT_EQ(h["head_hash"], receipt["entry_hash"]);
  EXPECT_EQ(h["received_at"], receipt["received_at"]);

  r = Run({"head", "--tenant", "acme"});
  EXPECT_TRUE(Contains(r.out, "seq:         2\n")) << r.out;
  r = Run({"head", "--tenant", "empty", "--json"});
  EXPECT_EQ(json::parse(r.out)["received_at"], nullptr);
}

TEST_F(CliTest, ReadJsonCarriesEnoughToRecomputeTheChain) {
  for (int i = 1; i <= 5; ++i)
    ASSERT_EQ(AppendOne("e" + std::to_string(i)).code, 0);
  fake().SetMaxReadRecords(2);  // forces the command to page
  Result r = Run({"read", "--tenant", "acme", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  chain::Digest prev = chain::Genesis("acme");
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& j = lines[i];
    EXPECT_EQ(j["seq"], i + 1);
    EXPECT_EQ(j["event"]["actor"]["id"], "alice");
    std::string salt, ce, entry;
    ASSERT_TRUE(chain::Base64Decode(j["salt"].get<std::string>(), &salt));
    ASSERT_TRUE(
        chain::Base64Decode(j["canonical_event"].get<std::string>(), &ce));
    ASSERT_TRUE(chain::FromHex(j["entry_hash"].get<std::string>(), &entry));
    const chain::Digest body = chain::BodyDigest(salt, ce);
    EXPECT_EQ(chain::ToHex(body), j["body_digest"]);
    const chain::Digest want = chain::EntryHash(
        "acme", i + 1, std::stoull(j["received_at_ns"].get<std::string>()),
        prev, body);
    EXPECT_EQ(chain::AsBytes(want), entry);
    prev = want;
  }
}

TEST_F(CliTest, ReadFromLimitAndTable) {
  for (int i = 1; i <= 5; ++i)
    ASSERT_EQ(AppendOne("e" + std::to_string(i)).code, 0);
  fake().SetMaxReadRecords(2);
  Result r = Run(
      {"read", "--tenant", "acme", "--from", "2", "--limit", "3", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["seq"], 2);
  EXPECT_EQ(lines[2]["seq"], 4);

  r = Run({"read", "--tenant", "acme"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::istringstream table(r.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(table, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 6u);  // header + 5
  EXPECT_EQ(rows[0].rfind("SEQ", 0), 0u);
  EXPECT_TRUE(Contains(rows[1], "alice")) << rows[1];
  EXPECT_TRUE(Contains(rows[1], "customer.read")) << rows[1];
}

TEST_F(CliTest, CheckpointPrintsTheNoteExactlyAsServed) {
  for (int i = 1; i <= 3; ++i)
    ASSERT_EQ(AppendOne("e" + std::to_string(i)).code, kExitOk);
  Result r = Run({"checkpoint", "--tenant", "acme"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, Served("acme", 0).note());
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto parsed = chain::VerifyCheckpoint(
      r.out, {testing::FakeAuditLog::TestSigner().verifier_key()});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->seq, 3u);
  Result head = Run({"head", "--tenant", "acme", "--json"});
  EXPECT_EQ(chain::ToHex(parsed->head), json::parse(head.out)["head_hash"]);

  // --min-seq: the oldest checkpoint at or after it (one per append here).
  r = Run({"checkpoint", "--tenant", "acme", "--min-seq", "2"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, Served("acme", 2).note());
  EXPECT_EQ(chain::VerifyCheckpoint(
                r.out, {testing::FakeAuditLog::TestSigner().verifier_key()})
                ->seq,
            2u);

  // None yet: NOT_FOUND, exit 3, nothing on stdout.
  r = Run({"checkpoint", "--tenant", "acme", "--min-seq", "4"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_EQ(r.err, "indelible: error: checkpoint: NOT_FOUND: no checkpoint\n");
  EXPECT_TRUE(r.out.empty()) << r.out;
  r = Run({"checkpoint", "--tenant", "Not Valid"});
  EXPECT_EQ(r.code, kExitRejected) << r.err;
}

TEST_F(CliTest, CheckpointJson) {
  ASSERT_EQ(AppendOne("e1").code, kExitOk);
  Result a = Run({"append", "--json", "--tenant", "acme", "--event-id", "e2",
                  "--actor-id", "a", "--action", "x"});
  ASSERT_EQ(a.code, kExitOk) << a.err;
  const v1::Checkpoint served = Served("acme", 0);
  Result r = Run({"checkpoint", "--tenant", "acme", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(r.out.back(), '\n');
  json j = json::parse(r.out);
  EXPECT_EQ(j["tenant"], "acme");
  EXPECT_EQ(j["seq"], 2);
  EXPECT_EQ(j["head_hash"], json::parse(a.out)["entry_hash"]);
  EXPECT_EQ(j["timestamp_ns"], std::to_string(served.timestamp_ns()));
  EXPECT_EQ(j["timestamp"], FormatTimestamp(served.timestamp_ns()));
  EXPECT_EQ(j["note"], served.note());
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;  // in the documented order
  for (const auto& [k, v] : ordered.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"tenant", "seq", "head_hash",
                                      "timestamp_ns", "timestamp", "note"}));
}

TEST_F(CliTest, CheckpointKeyVerifiesBeforePrinting) {
  ASSERT_EQ(AppendOne("e1").code, kExitOk);
  const std::string good = TestKey();
  Result r = Run({"checkpoint", "--tenant", "acme", "--key", good});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, Served("acme", 0).note());

  auto other_key = chain::Ed25519PrivateKey::FromSeed(std::string(32, 'o'));
  ASSERT_TRUE(other_key.ok());
  const std::string other = chain::NoteVerifierKeyString(
      chain::NoteSigner("fake-log", *other_key).verifier_key());
  r = Run({"checkpoint", "--tenant", "acme", "--key", other});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err,
            "indelible: error: checkpoint: DATA_LOSS: not verified under "
            "--key: note: no signature by a known key\n");
  r = Run({"checkpoint", "--tenant", "acme", "--json", "--key", other});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(r.out.empty()) << r.out;

  // --key is repeatable: any of the keys may have signed (a key history).
  r = Run({"checkpoint", "--tenant", "acme", "--key", other, "--key", good});
  EXPECT_EQ(r.code, kExitOk) << r.err;

  // A bad key is a usage error, found before asking the server.
  r = Run({"checkpoint", "--tenant", "acme", "--key", good + "x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Contains(r.err, "--key")) << r.err;
}

TEST_F(CliTest, CheckpointRefusesNotesThatDoNotFitTheRequest) {
  ASSERT_EQ(AppendOne("e1").code, kExitOk);
  ASSERT_EQ(AppendOne("e2").code, kExitOk);
  ASSERT_EQ(Run({"append", "--tenant", "other", "--event-id", "o1",
                 "--actor-id", "a", "--action", "x"})
                .code,
            kExitOk);
  const v1::Checkpoint acme = Served("acme", 0);
  const v1::Checkpoint other = Served("other", 0);
  const std::string key = TestKey();
  struct Case {
    const char* name;
    v1::Checkpoint served;
    std::vector<std::string> extra_args;
    const char* error;  // part of the message
  };
  v1::Checkpoint rewritten = acme;  // the note says seq 1, the fields 2
  const std::string text = "indelible/v1/acme\n2\n";
  ASSERT_EQ(rewritten.note().rfind(text, 0), 0u) << rewritten.note();
  rewritten.set_note("indelible/v1/acme\n1\n" +
                     rewritten.note().substr(text.size()));
  v1::Checkpoint garbage;
  garbage.set_note("hello\n");
  std::vector<Case> cases = {
      {"another tenant's, validly signed",
       other,
       {"--key", key},
       "checkpoint of tenant \"other\", not \"acme\""},
      {"below --min-seq",
       Served("acme", 1),
       {"--min-seq", "2"},
       "at seq 1, below --min-seq 2"},
      {"edited note, no key", rewritten, {}, "disagree with the note"},
      {"edited note, key", rewritten, {"--key", key}, "not verified under"},
      {"not a note", garbage, {}, "no blank line"},
  };
  for (const Case& c : cases) {
    fake().ServeCheckpoint(c.served);
    std::vector<std::string> args = {"checkpoint", "--tenant", "acme"};
    args.insert(args.end(), c.extra_args.begin(), c.extra_args.end());
    Result r = Run(args);
    EXPECT_EQ(r.code, kExitRejected) << c.name;
    EXPECT_TRUE(r.out.empty()) << c.name << ": " << r.out;
    EXPECT_EQ(r.err.rfind("indelible: error: checkpoint: DATA_LOSS: ", 0), 0u)
        << c.name << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, c.error)) << c.name << ": " << r.err;
  }

  // A note served without its fields (the daemon does so for a note signed
  // by an older key) is accepted; JSON shows the note's own fields.
  v1::Checkpoint bare;
  bare.set_note(acme.note());
  bare.set_tenant("acme");
  fake().ServeCheckpoint(bare);
  Result r = Run({"checkpoint", "--tenant", "acme", "--json", "--key", key});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["seq"], 2);
  EXPECT_EQ(j["head_hash"], chain::ToHex(acme.head_hash()));
  EXPECT_EQ(j["timestamp_ns"], std::to_string(acme.timestamp_ns()));
  fake().ServeCheckpoint(std::nullopt);
}

TEST_F(CliTest, PublicKeyFormats) {
  const chain::NoteSigner signer = testing::FakeAuditLog::TestSigner();
  Result r = Run({"public-key"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, TestKey() + "\n");

  r = Run({"public-key", "--pem"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, signer.private_key().PublicKeyPem());

  r = Run({"public-key", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["key_name"], "fake-log");
  EXPECT_EQ(j["key_id_hex"].get<std::string>().size(), 8u);
  EXPECT_EQ(j["verifier_key"], TestKey());
  EXPECT_EQ(j["public_key_pem"], signer.private_key().PublicKeyPem());
  EXPECT_EQ(j.size(), 4u);
}

TEST_F(CliTest, PublicKeyRefusesFieldsOfDifferentKeys) {
  const chain::NoteSigner signer = testing::FakeAuditLog::TestSigner();
  auto other = chain::Ed25519PrivateKey::FromSeed(std::string(32, 'o'));
  ASSERT_TRUE(other.ok());
  v1::GetPublicKeyResponse good;
  good.set_key_name("fake-log");
  good.set_key_id_hex(TestKey().substr(9, 8));
  good.set_verifier_key(TestKey());
  good.set_public_key_pem(signer.private_key().PublicKeyPem());
  fake().ServePublicKey(good);
  ASSERT_EQ(Run({"public-key"}).code, kExitOk);

  std::vector<std::pair<v1::GetPublicKeyResponse, const char*>> bad;
  bad.emplace_back(good, "public_key_pem holds another key");
  bad.back().first.set_public_key_pem(other->PublicKeyPem());
  bad.emplace_back(good, "key_name");
  bad.back().first.set_key_name("someone");
  bad.emplace_back(good, "key_id_hex");
  bad.back().first.set_key_id_hex("00000000");
  bad.emplace_back(good, "verifier_key");
  bad.back().first.set_verifier_key("fake-log+00000000+AAAA");
  for (const auto& [served, error] : bad) {
    fake().ServePublicKey(served);
    Result r = Run({"public-key", "--pem"});
    EXPECT_EQ(r.code, kExitRejected) << error;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(r.err.rfind("indelible: error: public-key: DATA_LOSS: ", 0), 0u)
        << r.err;
    EXPECT_TRUE(Contains(r.err, error)) << error << ": " << r.err;
  }
  fake().ServePublicKey(std::nullopt);
}

// keygen talks to no server: nothing listens at the default target here.
TEST(Cli, KeygenWritesAPrivateKeyOnlyItsOwnerCanRead) {
  ScratchDir dir;
  const std::string path = dir.Sub("signing-key.pem");
  const mode_t old_umask = umask(0);  // the mode must not rely on the umask
  Result r = Cli({"keygen", "--out", path});
  umask(old_umask);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;

  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(stat((path + ".pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  // The daemon's loader accepts it; stdout and FILE.pub are its public PEM.
  bool created = true;
  auto key = chain::LoadSigningKey(path, /*create_if_missing=*/false, &created);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(r.out, key->PublicKeyPem());
  EXPECT_EQ(ReadFile(path + ".pub"), key->PublicKeyPem());
  auto pub = chain::PublicKeyFromPem(ReadFile(path + ".pub"));
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(*pub, key->PublicKey());
  EXPECT_EQ(ReadFile(path).rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(dir.Names(),
            (std::set<std::string>{"signing-key.pem", "signing-key.pem.pub"}));
}

TEST(Cli, KeygenRefusesToOverwriteUnlessForced) {
  ScratchDir dir;
  const std::string path = dir.Sub("k.pem");
  ASSERT_EQ(Cli({"keygen", "--out", path}).code, kExitOk);
  const std::string first_key = ReadFile(path);
  const std::string first_pub = ReadFile(path + ".pub");

  Result r = Cli({"keygen", "--out", path});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_EQ(r.err, "indelible: error: keygen: ALREADY_EXISTS: " + path +
                       " exists; pass --force to replace it\n");
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(ReadFile(path), first_key);
  EXPECT_EQ(ReadFile(path + ".pub"), first_pub);

  // A lone FILE.pub also stops it, before the key is made.
  const std::string lone = dir.Sub("lone.pem");
  std::ofstream(lone + ".pub") << "keep me\n";
  r = Cli({"keygen", "--out", lone});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err, lone + ".pub exists")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(lone));
  EXPECT_EQ(ReadFile(lone + ".pub"), "keep me\n");

  // --force replaces both, through files renamed into place.
  r = Cli({"keygen", "--out", path, "--force"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(ReadFile(path), first_key);
  EXPECT_EQ(ReadFile(path + ".pub"), r.out);
  EXPECT_NE(r.out, first_pub);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  bool created = true;
  auto key = chain::LoadSigningKey(path, /*create_if_missing=*/false, &created);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->PublicKeyPem(), r.out);
  EXPECT_EQ(dir.Names(),
            (std::set<std::string>{"k.pem", "k.pem.pub", "lone.pem.pub"}));

  // --force also creates what does not exist yet.
  r = Cli({"keygen", "--out", dir.Sub("fresh.pem"), "--force"});
  EXPECT_EQ(r.code, kExitOk) << r.err;

  // A directory that does not exist: exit 3, naming the file.
  r = Cli({"keygen", "--out", dir.Sub("no/such/dir/k.pem")});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err, "no/such/dir/k.pem")) << r.err;
}

// --- admin -----------------------------------------------------------------

TEST(Cli, AdminHelpListsItsCommands) {
  Result r = Cli({"--help"});
  EXPECT_TRUE(Contains(r.out, "admin")) << r.out;
  r = Cli({"admin", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const char* cmd : {"retention", "hold", "purge", "compact"}) {
    EXPECT_TRUE(Contains(r.out, cmd)) << r.out;
  }
  r = Cli({"admin", "purge", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Contains(r.out, "--yes")) << r.out;
}

// Refused before anything is sent: nothing listens at the default target.
TEST(Cli, AdminUsageErrorsExitTwo) {
  const std::vector<std::string> who = {"--actor", "carol", "--reason", "t-1"};
  auto with_who = [&](std::vector<std::string> args) {
    args.insert(args.end(), who.begin(), who.end());
    return args;
  };
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"admin"},
           {"admin", "retention"},
           {"admin", "frobnicate"},
           {"admin", "retention", "set", "--tenant", "a", "--category", "c",
            "--retention", "30d", "--actor", "carol"},
           {"admin", "retention", "set", "--tenant", "a", "--category", "c",
            "--retention", "30d", "--actor", "carol", "--reason", ""},
           with_who({"admin", "retention", "set", "--tenant", "a", "--category",
                     "c"}),
           {"admin", "retention", "get"},
           with_who({"admin", "hold", "--tenant", "a"}),
           with_who({"admin", "hold", "--tenant", "a", "--place", "--lift"}),
           {"admin", "hold", "--tenant", "a", "--place"},
           with_who({"admin", "purge", "--tenant", "a", "--yes"}),
           with_who({"admin", "purge", "--tenant", "a", "--yes", "--out", ""}),
           {"admin", "purge", "--tenant", "a", "--out", "c", "--yes"},
           {"admin", "compact", "--bogus"},
       }) {
    Result r = Cli(args);
    EXPECT_EQ(r.code, kExitUsage) << ::testing::PrintToString(args);
    EXPECT_EQ(r.err.rfind("indelible: error: ", 0), 0u) << r.err;
  }
  Result r = Cli({"admin", "retention", "set", "--tenant", "a"});
  EXPECT_TRUE(Contains(r.err, "Run 'indelible admin retention set --help'"))
      << r.err;
  r = Cli(with_who({"admin", "hold", "--tenant", "a"}));
  EXPECT_EQ(r.err, "indelible: error: admin hold: pass --place or --lift\n");
}

TEST_F(CliTest, AdminRetentionSetSendsEveryFlagAndPrintsTheReceipt) {
  Result r = Admin({"retention", "set", "--tenant", "acme", "--category",
                    "trace", "--retention", "30d", "--actor", "carol@ops",
                    "--reason", "ticket OPS-1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto sent = admin().set_retention_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].tenant(), "acme");
  EXPECT_EQ(sent[0].category(), "trace");
  EXPECT_EQ(sent[0].retention(), "30d");
  EXPECT_EQ(sent[0].context().actor(), "carol@ops");
  EXPECT_EQ(sent[0].context().reason(), "ticket OPS-1");
  EXPECT_TRUE(Contains(r.out,
                       "tenant:      acme\n"
                       "category:    trace\n"
                       "retention:   30d\n"
                       "previous:    90d\n"
                       "seq:         1\n"))
      << r.out;
  // The change is in the chain, and the receipt is that record's.
  auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].category(), "indelible.admin");
  EXPECT_EQ(stored[0].actor().id(), "carol@ops");
  Result head = Run({"head", "--tenant", "acme", "--json"});
  const std::string hash = json::parse(head.out)["head_hash"];
  EXPECT_TRUE(Contains(r.out, "entry_hash:  " + hash + "\n")) << r.out;

  r = Admin({"retention", "set", "--json", "--tenant", "acme", "--category",
             "trace", "--retention", "7d", "--actor", "carol@ops", "--reason",
             "shorter"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["tenant"], "acme");
  EXPECT_EQ(j["category"], "trace");
  EXPECT_EQ(j["retention"], "7d");
  EXPECT_EQ(j["previous_retention"], "30d");
  EXPECT_EQ(j["receipt"]["seq"], 2);
  EXPECT_TRUE(j["receipt"]["received_at_ns"].is_string());
  EXPECT_EQ(j["receipt"]["received_at"],
            FormatTimestamp(std::stoull(
                j["receipt"]["received_at_ns"].get<std::string>())));
  EXPECT_EQ(j["receipt"]["entry_hash"].get<std::string>().size(), 64u);
}

TEST_F(CliTest, AdminRetentionGetTableAndJson) {
  ASSERT_EQ(
      Admin({"retention", "set", "--tenant", "acme", "--category", "trace",
             "--retention", "30d", "--actor", "a", "--reason", "r"})
          .code,
      kExitOk);
  Result r = Admin({"retention", "get", "--tenant", "acme"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "tenant:      acme\n"
            "legal_hold:  no\n"
            "default:     365d\n"
            "\n"
            "CATEGORY                         RETENTION\n"
            "access                           365d\n"
            "trace                            30d\n");
  EXPECT_EQ(admin().get_retention_requests().back().categories_size(), 0);

  r = Admin({"retention", "get", "--tenant", "acme", "--category", "trace",
             "--category", "audit", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto asked = admin().get_retention_requests().back();
  ASSERT_EQ(asked.categories_size(), 2);
  EXPECT_EQ(asked.categories(0), "trace");
  EXPECT_EQ(asked.categories(1), "audit");
  json j = json::parse(r.out);
  EXPECT_EQ(j["tenant"], "acme");
  EXPECT_EQ(j["legal_hold"], false);
  EXPECT_EQ(j["default_retention"], "365d");
  ASSERT_EQ(j["entries"].size(), 2u);
  EXPECT_EQ(j["entries"][0]["category"], "audit");
  EXPECT_EQ(j["entries"][0]["retention"], "365d");
  EXPECT_EQ(j["entries"][1]["retention"], "30d");
  EXPECT_EQ(j["entries"][1]["seconds"], 30 * 86400);

  ASSERT_EQ(Admin({"hold", "--tenant", "acme", "--place", "--actor", "a",
                   "--reason", "r"})
                .code,
            kExitOk);
  r = Admin({"retention", "get", "--tenant", "acme"});
  EXPECT_TRUE(Contains(r.out, "legal_hold:  yes\n")) << r.out;
}

TEST_F(CliTest, AdminHoldPlaceAndLift) {
  Result r = Admin({"hold", "--tenant", "acme", "--place", "--actor", "legal",
                    "--reason", "case L-7"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(Contains(r.out,
                       "tenant:      acme\n"
                       "legal_hold:  placed\n"
                       "seq:         1\n"))
      << r.out;
  r = Admin({"hold", "--json", "--tenant", "acme", "--lift", "--actor", "legal",
             "--reason", "case closed"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["legal_hold"], false);
  EXPECT_EQ(j["receipt"]["seq"], 2);
  auto holds = admin().hold_requests();
  ASSERT_EQ(holds.size(), 2u);
  EXPECT_TRUE(holds[0].has_hold() && holds[0].hold());
  EXPECT_EQ(holds[0].context().actor(), "legal");
  EXPECT_EQ(holds[0].context().reason(), "case L-7");
  EXPECT_TRUE(holds[1].has_hold() && !holds[1].hold());
  EXPECT_EQ(holds[1].context().reason(), "case closed");
  auto stored = fake().stored_events("acme");
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].action(), "legal_hold.lift");
}

TEST_F(CliTest, AdminPurgeRefusesWithoutYes) {
  ScratchDir dir;
  Result r = Admin({"purge", "--tenant", "acme", "--actor", "a", "--reason",
                    "closed", "--out", dir.Sub("acme.cert")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Contains(r.err, "irreversible")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--yes")) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(admin().purge_requests().empty());
  EXPECT_TRUE(dir.Names().empty());
}

TEST_F(CliTest, AdminPurgeWritesTheCertificateAsReceived) {
  ASSERT_EQ(AppendOne("e1").code, kExitOk);
  ASSERT_EQ(AppendOne("e2").code, kExitOk);
  const std::string head_hash =
      json::parse(Run({"head", "--tenant", "acme", "--json"}).out)["head_hash"];
  ScratchDir dir;
  const std::string cert = dir.Sub("acme.cert");
  const mode_t old_umask = umask(0);  // the mode must not rely on the umask
  Result r = Admin({"purge", "--tenant", "acme", "--actor", "carol", "--reason",
                    "account closed", "--out", cert, "--yes"});
  umask(old_umask);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto purges = admin().purge_requests();
  ASSERT_EQ(purges.size(), 1u);
  EXPECT_EQ(purges[0].tenant(), "acme");
  EXPECT_EQ(purges[0].context().actor(), "carol");
  EXPECT_EQ(purges[0].context().reason(), "account closed");

  struct stat st;
  ASSERT_EQ(stat(cert.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  const std::string note = ReadFile(cert);
  auto c = chain::VerifyDeletionCertificate(
      note, {testing::FakeAuditLog::TestSigner().verifier_key()});
  ASSERT_TRUE(c.ok()) << c.status() << note;
  EXPECT_EQ(c->tenant, "acme");
  EXPECT_EQ(c->final_seq, 2u);
  EXPECT_EQ(chain::ToHex(c->final_head), head_hash);
  EXPECT_EQ(r.out,
            "tenant:      acme\n"
            "final_seq:   2\n"
            "final_head:  " +
                head_hash +
                "\n"
                "purged_at:   " +
                FormatTimestamp(c->timestamp_ns) +
                "\n"
                "certificate: " +
                cert + "\n");

  // An existing file stops the next purge before anything is sent.
  r = Admin({"purge", "--tenant", "other", "--actor", "carol", "--reason",
             "closed", "--out", cert, "--yes"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err, "admin purge: ALREADY_EXISTS: " + cert)) << r.err;
  EXPECT_TRUE(Contains(r.err, "nothing was purged")) << r.err;
  EXPECT_EQ(admin().purge_requests().size(), 1u);
  EXPECT_EQ(ReadFile(cert), note);

  // --json, into a fresh file.
  r = Admin({"purge", "--json", "--tenant", "other", "--actor", "carol",
             "--reason", "closed", "--out", dir.Sub("other.cert"), "--yes"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["tenant"], "other");
  EXPECT_EQ(j["final_seq"], 0);
  EXPECT_TRUE(j["timestamp_ns"].is_string());
  EXPECT_EQ(j["final_head_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["certificate_file"], dir.Sub("other.cert"));
}

TEST_F(CliTest, AdminPurgeRefusedByTheServerLeavesNoFile) {
  ScratchDir dir;
  const std::string cert = dir.Sub("acme.cert");
  ASSERT_EQ(Admin({"hold", "--tenant", "acme", "--place", "--actor", "legal",
                   "--reason", "case L-7"})
                .code,
            kExitOk);
  Result r = Admin({"purge", "--tenant", "acme", "--actor", "carol", "--reason",
                    "closed", "--out", cert, "--yes"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_EQ(r.err,
            "indelible: error: admin purge: FAILED_PRECONDITION: tenant acme "
            "is under legal hold; lift it first\n");
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(dir.Names().empty());

  admin().FailNext(grpc::StatusCode::UNAVAILABLE, "going away");
  r = Admin({"purge", "--tenant", "acme", "--actor", "carol", "--reason",
             "closed", "--out", cert, "--yes"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_TRUE(dir.Names().empty());

  // A directory that does not exist: refused before the purge is sent.
  const size_t sent = admin().purge_requests().size();
  r = Admin({"purge", "--tenant", "acme", "--actor", "carol", "--reason",
             "closed", "--out", dir.Sub("no/such/dir/c"), "--yes"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err, "no/such/dir/c")) << r.err;
  EXPECT_EQ(admin().purge_requests().size(), sent);
}

TEST_F(CliTest, AdminPurgeKeepsButRefusesACertificateThatDoesNotFit) {
  ScratchDir dir;
  chain::DeletionCertificate c;
  c.tenant = "someone-else";
  c.final_seq = 3;
  c.timestamp_ns = 1700000000000000000u;
  v1::PurgeTenantResponse served;
  served.set_certificate(testing::FakeAuditLog::TestSigner().Sign(
      chain::DeletionCertificateText(c)));
  served.set_final_seq(3);
  served.set_final_head_hash(std::string(chain::AsBytes(c.final_head)));
  served.set_timestamp_ns(c.timestamp_ns);
  admin().ServePurge(served);
  Result r = Admin({"purge", "--tenant", "acme", "--actor", "carol", "--reason",
                    "closed", "--out", dir.Sub("a.cert"), "--yes"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err,
                       "admin purge: DATA_LOSS: the certificate is of "
                       "tenant \"someone-else\", not \"acme\""))
      << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(ReadFile(dir.Sub("a.cert")), served.certificate());
  admin().ServePurge(std::nullopt);
}

TEST_F(CliTest, AdminCompactPrintsCounters) {
  admin().SetCompactCounters(12, 11);
  Result r = Admin({"compact"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "bodies_dropped:    12\nevent_ids_dropped: 11\n");
  r = Admin({"compact", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"bodies_dropped\":12,\"event_ids_dropped\":11}\n");
  EXPECT_EQ(admin().compact_calls(), 2);
}

TEST_F(CliTest, AdminServerErrorsMapToExitCodes) {
  Result r =
      Admin({"retention", "set", "--tenant", "acme", "--category", "trace",
             "--retention", "forever", "--actor", "a", "--reason", "r"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_EQ(r.err,
            "indelible: error: admin retention set: INVALID_ARGUMENT: "
            "retention: malformed duration\n");
  r = Admin({"retention", "get", "--tenant", "Not Valid"});
  EXPECT_EQ(r.code, kExitRejected);
  EXPECT_TRUE(Contains(r.err, "admin retention get: INVALID_ARGUMENT: tenant"))
      << r.err;
  admin().FailNext(grpc::StatusCode::FAILED_PRECONDITION, "nope");
  EXPECT_EQ(Admin({"hold", "--tenant", "acme", "--lift", "--actor", "a",
                   "--reason", "r"})
                .code,
            kExitRejected);
  admin().FailNext(grpc::StatusCode::DEADLINE_EXCEEDED, "slow");
  EXPECT_EQ(Admin({"compact"}).code, kExitUnavailable);
  admin().FailNext(grpc::StatusCode::INTERNAL, "broken");
  r = Admin({"compact"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "indelible: error: admin compact: INTERNAL: broken\n");
}

TEST_F(CliTest, AdminDeadlineIsLongUnlessTimeoutIsGiven) {
  ASSERT_EQ(Admin({"compact"}).code, kExitOk);
  EXPECT_GT(admin().last_deadline_left(), std::chrono::minutes(4));
  // (gRPC rounds the deadline it sends up a little.)
  ASSERT_EQ(Run({"admin", "compact"}).code, kExitOk);  // --timeout 5s
  EXPECT_LT(admin().last_deadline_left(), std::chrono::seconds(6));
  // Global flags after the nested command work too.
  ASSERT_EQ(
      Cli({"admin", "compact", "--target", server_.target(), "--timeout", "3s"})
          .code,
      kExitOk);
  EXPECT_LT(admin().last_deadline_left(), std::chrono::seconds(4));
}

TEST_F(CliTest, TargetFromEnvironment) {
  ASSERT_EQ(setenv(kTargetEnv, server_.target().c_str(), 1), 0);
  Result r = Cli({"head", "--tenant", "acme"});
  unsetenv(kTargetEnv);
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

}  // namespace
}  // namespace indelible::cli
