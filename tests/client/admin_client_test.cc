#include "client/admin_client.h"

#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/signing.h"

namespace indelible::client {
namespace {

using testing::FakeServer;

const AdminContext kWho{.actor = "carol@ops", .reason = "ticket OPS-1"};

std::unique_ptr<AdminClient> ConnectTo(const FakeServer& server) {
  AdminClientOptions o;
  o.target = server.target();
  auto c = AdminClient::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

TEST(AdminClient, ConnectRejectsBadOptionsAndDefaultsToALongDeadline) {
  AdminClientOptions o;
  EXPECT_EQ(o.deadline, kDefaultAdminDeadline);
  EXPECT_GE(kDefaultAdminDeadline, std::chrono::minutes(5));
  o.target = "";
  EXPECT_EQ(AdminClient::Connect(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.target = "127.0.0.1:1";
  o.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(AdminClient::Connect(o).status().code(),
            absl::StatusCode::kInvalidArgument);

  FakeServer server;
  auto c = ConnectTo(server);
  ASSERT_TRUE(c->Compact().ok());
  EXPECT_GT(server.admin().last_deadline_left(), std::chrono::minutes(4));
}

TEST(AdminClient, SetAndGetRetention) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto r = c->SetRetention(kWho, "acme", "trace", "30d");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->previous_retention(), "90d");
  EXPECT_EQ(r->receipt().tenant(), "acme");
  EXPECT_EQ(r->receipt().seq(), 1u);
  auto sent = server.admin().set_retention_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].context().actor(), "carol@ops");
  EXPECT_EQ(sent[0].context().reason(), "ticket OPS-1");
  EXPECT_EQ(sent[0].category(), "trace");
  EXPECT_EQ(sent[0].retention(), "30d");

  auto g = c->GetRetention("acme", {"trace", "audit"});
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->entries_size(), 2);
  EXPECT_EQ(g->entries(1).category(), "trace");
  EXPECT_EQ(g->entries(1).retention(), "30d");
  EXPECT_EQ(g->entries(1).seconds(), 30u * 86400u);
  auto asked = server.admin().get_retention_requests();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].categories_size(), 2);
  EXPECT_EQ(asked[0].categories(1), "audit");

  // The daemon's answers pass through with code and message.
  auto bad = c->SetRetention(kWho, "acme", "trace", "1h");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto nobody = c->SetRetention({}, "acme", "trace", "30d");
  EXPECT_EQ(nobody.status().message(), "context.actor: required");
}

TEST(AdminClient, HoldBlocksPurgeUntilLifted) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto placed = c->SetLegalHold(kWho, "acme", true);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->receipt().seq(), 1u);
  EXPECT_EQ(c->PurgeTenant(kWho, "acme").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c->SetLegalHold(kWho, "acme", false).ok());
  auto holds = server.admin().hold_requests();
  ASSERT_EQ(holds.size(), 2u);
  EXPECT_TRUE(holds[0].has_hold() && holds[0].hold());
  EXPECT_TRUE(holds[1].has_hold() && !holds[1].hold());

  auto p = c->PurgeTenant(kWho, "acme");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->final_seq(), 2u);  // the two recorded hold changes
  auto cert = chain::VerifyDeletionCertificate(
      p->certificate(), {testing::FakeAuditLog::TestSigner().verifier_key()});
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->tenant, "acme");
  EXPECT_EQ(cert->final_seq, 2u);
  EXPECT_EQ(server.admin().purge_requests().back().context().reason(),
            "ticket OPS-1");
}

TEST(AdminClient, CompactCountersAndErrors) {
  FakeServer server;
  auto c = ConnectTo(server);
  server.admin().SetCompactCounters(7, 6);
  auto r = c->Compact();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bodies_dropped(), 7u);
  EXPECT_EQ(r->event_ids_dropped(), 6u);
  server.admin().FailNext(grpc::StatusCode::INTERNAL, "disk on fire");
  auto failed = c->Compact();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(failed.status().message(), "disk on fire");
}

}  // namespace
}  // namespace indelible::client
