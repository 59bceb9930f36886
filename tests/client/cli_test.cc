// Runs the `indelible` command in-process against the fake server.
#include "client/cli/cli.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/cli/exit_codes.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "verifier/chain/hash.h"
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
  testing::FakeAuditLog& fake() { return server_.service(); }

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
  fake().FailNext(1, grpc::StatusCode::UNAVAILABLE);
  Result r = AppendOne("e1");
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.err, "indelible: error: append: UNAVAILABLE: injected failure\n");

  fake().FailNext(1, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(AppendOne("e1").code, kExitError);
  fake().FailNext(1, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(AppendOne("e1").code, kExitError);

  std::string gone_target;
  {
    testing::FakeServer gone;
    gone_target = gone.target();
  }
  r = Cli({"--target", gone_target, "head", "--tenant", "acme"});
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
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

TEST_F(CliTest, TargetFromEnvironment) {
  ASSERT_EQ(setenv(kTargetEnv, server_.target().c_str(), 1), 0);
  Result r = Cli({"head", "--tenant", "acme"});
  unsetenv(kTargetEnv);
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

}  // namespace
}  // namespace indelible::cli
