// Ingest rules through the real daemon: a config file with per-tenant rules
// and a pseudonym key, appends by Append, AppendBatch and AppendStream, the
// stored canonical bytes read back, and the chain checked by the real
// verifier.
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "client/client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

constexpr char kKeyBytes[] = "e2e-pseudonym-key-0123456789abcdef!";
constexpr char kEmail[] = "alice@example.com";
constexpr char kCard[] = "4111111111111111";
constexpr char kIp[] = "203.0.113.7";
constexpr char kBearer[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0";
constexpr char kPassword[] = "hunter2-correct-horse";

v1::Event MakeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.mutable_actor()->set_id(kEmail);
  e.mutable_actor()->set_ip(kIp);
  e.set_action("customer.read");
  e.set_reason(std::string("debug: Authorization: Bearer ") + kBearer);
  auto* m = e.add_metadata();
  m->set_key("email");
  m->set_value(kEmail);
  m = e.add_metadata();
  m->set_key("card");
  m->set_value(kCard);
  m = e.add_metadata();
  m->set_key("query");
  m->set_value(std::string("user=alice&password=") + kPassword);
  return e;
}

class RedactionE2E : public ::testing::Test {
 protected:
  std::string WriteKey(mode_t mode) {
    const std::string path = dir_.Sub("acme.hmac");
    std::ofstream(path, std::ios::binary) << kKeyBytes;
    chmod(path.c_str(), mode);
    return path;
  }
  std::string WriteConfig(const std::string& key_path) {
    const std::string path = dir_.Sub("config.yaml");
    std::ofstream(path) << "ingest_rules:\n"
                           "  default:\n"
                           "    detect_secrets: true\n"
                           "  tenants:\n"
                           "    acme:\n"
                           "      pseudonym_key_file: " << key_path << "\n"
                           "      rules:\n"
                           "        - {field: actor.ip, action: drop}\n"
                           "        - {field: actor.id, action: pseudonymize}\n"
                           "        - {field: metadata.email, action: pseudonymize}\n"
                           "        - {field: metadata.card, action: mask, keep_last: 4}\n";
    return path;
  }
  std::vector<v1::Record> ReadAll(client::Client* c, const std::string& tenant) {
    std::vector<v1::Record> out;
    auto s = c->ReadRecords(tenant, 1, 0, [&](const v1::Record& r) {
      out.push_back(r);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  TempDir dir_;
};

std::string Meta(const chain::EventFields& f, const std::string& key) {
  for (const auto& [k, v] : f.metadata) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST_F(RedactionE2E, StoredBytesAreRedactedInEveryAppendPathAndTheChainVerifies) {
  const std::string config = WriteConfig(WriteKey(0600));
  auto d = DaemonProcess::Start(
      {.data_dir = dir_.Sub("data"), .extra_args = {"--config", config}});
  ASSERT_TRUE(d.ok()) << d.status();
  auto c = client::Client::Connect({.target = (*d)->target()});
  ASSERT_TRUE(c.ok()) << c.status();
  client::Client& client = **c;

  ASSERT_TRUE(client.Append(MakeEvent("acme", "u-1")).ok());
  ASSERT_TRUE(client.AppendBatch({MakeEvent("acme", "b-1"), MakeEvent("acme", "b-2")}).ok());
  {
    auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());
    auto stub = v1::AuditLog::NewStub(channel);
    grpc::ClientContext ctx;
    auto stream = stub->AppendStream(&ctx);
    v1::AppendBatchRequest req;
    *req.add_events() = MakeEvent("acme", "s-1");
    ASSERT_TRUE(stream->Write(req));
    stream->WritesDone();
    v1::AppendBatchResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    ASSERT_TRUE(stream->Finish().ok());
  }
  // Another tenant: no rules of its own, the default detectors only.
  ASSERT_TRUE(client.Append(MakeEvent("globex", "g-1")).ok());

  // A retry is recognised by its event id, which rules never rewrite, and
  // compared as the daemon would store it: one that differs only in a field
  // the rules drop is the same event; one that differs in what is kept is
  // refused.
  auto again = client.Append(MakeEvent("acme", "u-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate());
  v1::Event other_ip = MakeEvent("acme", "u-1");
  other_ip.mutable_actor()->set_ip("192.0.2.99");
  auto dropped = client.Append(other_ip);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_TRUE(dropped->duplicate());
  v1::Event other_actor = MakeEvent("acme", "u-1");
  other_actor.mutable_actor()->set_id("mallory@example.com");
  EXPECT_EQ(client.Append(other_actor).status().code(), absl::StatusCode::kAlreadyExists);

  const std::vector<v1::Record> acme = ReadAll(&client, "acme");
  ASSERT_EQ(acme.size(), 4u);
  std::string pseudonym;
  const std::vector<std::string> ids = {"u-1", "b-1", "b-2", "s-1"};
  for (size_t i = 0; i < acme.size(); ++i) {
    const std::string& ce = acme[i].canonical_event();
    for (const char* raw : {kEmail, kCard, kIp, kBearer, kPassword}) {
      EXPECT_EQ(ce.find(raw), std::string::npos) << raw << " stored in record " << i;
    }
    auto f = chain::DecodeCanonicalEvent(ce);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(f->event_id, ids[i]);
    EXPECT_TRUE(std::regex_match(f->actor_id, std::regex("hmac:[0-9a-f]{32}"))) << f->actor_id;
    if (i == 0) pseudonym = f->actor_id;
    // Same input, same pseudonym: across events, append paths and fields.
    EXPECT_EQ(f->actor_id, pseudonym);
    EXPECT_EQ(Meta(*f, "email"), pseudonym);
    EXPECT_EQ(f->actor_ip, "");
    EXPECT_EQ(Meta(*f, "card"), "************1111");
    EXPECT_EQ(f->reason, "debug: Authorization: Bearer [REDACTED:bearer_token]");
    EXPECT_EQ(Meta(*f, "query"), "user=alice&password=[REDACTED:password]");
    // The decoded event served next to the bytes says the same.
    EXPECT_EQ(acme[i].event().actor().id(), pseudonym);
  }

  const std::vector<v1::Record> globex = ReadAll(&client, "globex");
  ASSERT_EQ(globex.size(), 1u);
  auto g = chain::DecodeCanonicalEvent(globex[0].canonical_event());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->actor_id, kEmail);
  EXPECT_EQ(g->actor_ip, kIp);
  EXPECT_EQ(Meta(*g, "card"), kCard);
  EXPECT_EQ(g->reason, "debug: Authorization: Bearer [REDACTED:bearer_token]");

  // Nothing redacted reached the log.
  const std::string log = (*d)->Log();
  for (const char* raw : {kEmail, kCard, kBearer, kPassword, kKeyBytes}) {
    EXPECT_EQ(log.find(raw), std::string::npos) << raw;
  }
  c->reset();
  ASSERT_EQ((*d)->Stop(), 0) << (*d)->Log();

  auto check = RunCommand(
      {BinPath("indelible-verify"), "check", "--data-dir", dir_.Sub("data"), "--key",
       testing::VerifierKeyOf(dir_.Sub("data.signing-key.pem")), "--json"});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  auto j = nlohmann::json::parse(check.out);
  EXPECT_EQ(j["totals"]["findings"], 0);
  EXPECT_EQ(j["totals"]["records"], 5);
}

TEST_F(RedactionE2E, LooselyProtectedKeyFileStopsStartupNamingTheFile) {
  const std::string key = WriteKey(0644);
  const std::string config = WriteConfig(key);
  auto d = DaemonProcess::Start(
      {.data_dir = dir_.Sub("data"), .extra_args = {"--config", config}});
  ASSERT_FALSE(d.ok());
  const std::string msg(d.status().message());
  EXPECT_NE(msg.find("pseudonym key file " + key + " has mode 0644"), std::string::npos)
      << msg;
  EXPECT_EQ(msg.find(kKeyBytes), std::string::npos) << msg;
}

}  // namespace
}  // namespace indelible
