// End-to-end: the real indelibled on 127.0.0.1 port 0 with a temporary data
// directory, driven through the real client library.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "client/client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace {

using testing::DaemonProcess;
using testing::TempDir;

v1::Event MakeEvent(const std::string& tenant, const std::string& id) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(id);
  e.set_occurred_at_ns(1700000000000000000ull);
  e.mutable_actor()->set_id("alice@example.com");
  e.mutable_actor()->set_type("user");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("cus_" + id);
  e.set_reason("support ticket");
  e.set_outcome("allowed");
  e.set_source("crm");
  auto* m = e.add_metadata();
  m->set_key("region");
  m->set_value("eu");
  return e;
}

class DaemonE2E : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon(); }

  void StartDaemon() {
    auto d = DaemonProcess::Start({.data_dir = dir_.Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
    Connect();
  }
  void Connect() {
    client::ClientOptions o;
    o.target = daemon_->target();
    auto c = client::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }

  std::vector<v1::Record> ReadAll(const std::string& tenant) {
    std::vector<v1::Record> out;
    auto s = client_->ReadRecords(tenant, 1, 0, [&](const v1::Record& r) {
      out.push_back(r);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  // Recomputes the chain from the wire; returns entry hashes by seq.
  std::map<uint64_t, std::string> VerifyChain(const std::string& tenant) {
    std::map<uint64_t, std::string> hashes;
    std::vector<v1::Record> records = ReadAll(tenant);
    chain::Digest prev = chain::Genesis(tenant);
    uint64_t prev_time = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      const v1::Record& r = records[i];
      EXPECT_EQ(r.seq(), i + 1) << "gap or disorder in " << tenant;
      EXPECT_FALSE(r.pruned());
      EXPECT_GE(r.received_at_ns(), prev_time);
      chain::Digest body = chain::BodyDigest(r.salt(), r.canonical_event());
      EXPECT_EQ(std::string(chain::AsBytes(body)), r.body_digest());
      chain::Digest h = chain::EntryHash(tenant, r.seq(), r.received_at_ns(),
                                         prev, body);
      EXPECT_EQ(std::string(chain::AsBytes(h)), r.entry_hash()) << r.seq();
      auto fields = chain::DecodeCanonicalEvent(r.canonical_event());
      EXPECT_TRUE(fields.ok());
      EXPECT_EQ(fields->event_id, r.event().event_id());
      EXPECT_EQ(fields->tenant, tenant);
      prev = h;
      prev_time = r.received_at_ns();
      hashes[r.seq()] = r.entry_hash();
    }
    auto head = client_->GetHead(tenant);
    EXPECT_TRUE(head.ok());
    EXPECT_EQ(head->seq(), records.size());
    EXPECT_EQ(head->head_hash(), std::string(chain::AsBytes(prev)));
    return hashes;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(DaemonE2E, ConcurrentAppendsAcrossTenantsAreGaplessAndMatchReceipts) {
  const std::vector<std::string> tenants = {"acme", "globex", "initech"};
  constexpr int kThreads = 8, kPerThread = 60;
  std::mutex mu;
  std::map<std::string, std::map<uint64_t, std::string>> receipts;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& tenant = tenants[(t + i) % tenants.size()];
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        std::vector<v1::Receipt> got;
        if (i % 5 == 0) {  // some batches of three
          auto r = client_->AppendBatch({MakeEvent(tenant, id + "a"),
                                         MakeEvent(tenant, id + "b"),
                                         MakeEvent(tenant, id + "c")});
          ASSERT_TRUE(r.ok()) << r.status();
          got = *r;
        } else {
          auto r = client_->Append(MakeEvent(tenant, id));
          ASSERT_TRUE(r.ok()) << r.status();
          got.push_back(*r);
        }
        std::lock_guard<std::mutex> l(mu);
        for (const auto& rc : got) {
          EXPECT_EQ(rc.tenant(), tenant);
          EXPECT_FALSE(rc.duplicate());
          EXPECT_TRUE(receipts[tenant].emplace(rc.seq(), rc.entry_hash()).second);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t total = 0;
  for (const auto& tenant : tenants) {
    auto chain_hashes = VerifyChain(tenant);
    EXPECT_EQ(chain_hashes, receipts[tenant]) << tenant;
    total += chain_hashes.size();
  }
  EXPECT_EQ(total, size_t{kThreads * (kPerThread + 2 * kPerThread / 5)});
}

TEST_F(DaemonE2E, RetryWithSameEventIdReturnsFirstReceipt) {
  auto first = client_->Append(MakeEvent("acme", "retry-1"));
  ASSERT_TRUE(first.ok());
  auto again = client_->Append(MakeEvent("acme", "retry-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->seq(), first->seq());
  EXPECT_EQ(again->entry_hash(), first->entry_hash());
  EXPECT_EQ(again->received_at_ns(), first->received_at_ns());
  // occurred_at left unset: the daemon fills in its receive time, which
  // differs between the original and its retry; still the same event.
  v1::Event unset = MakeEvent("acme", "retry-2");
  unset.clear_occurred_at_ns();
  auto second = client_->Append(unset);
  ASSERT_TRUE(second.ok()) << second.status();
  auto second_again = client_->Append(unset);
  ASSERT_TRUE(second_again.ok()) << second_again.status();
  EXPECT_TRUE(second_again->duplicate());
  EXPECT_EQ(second_again->seq(), second->seq());
  EXPECT_EQ(client_->GetHead("acme")->seq(), 2u);
}

// The same event id with different content is not a retry: unary and batch
// appends fail with ALREADY_EXISTS naming the field and the first seq, and
// nothing of the request is stored.
TEST_F(DaemonE2E, SameEventIdWithOtherContentIsRefused) {
  ASSERT_TRUE(client_->Append(MakeEvent("acme", "before")).ok());
  auto first = client_->Append(MakeEvent("acme", "retry-1"));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->seq(), 2u);
  v1::Event changed = MakeEvent("acme", "retry-1");
  changed.set_reason("a different event under the same id");

  auto unary = client_->Append(changed);
  ASSERT_EQ(unary.status().code(), absl::StatusCode::kAlreadyExists) << unary.status();
  const std::string unary_msg(unary.status().message());
  EXPECT_NE(unary_msg.find("event.event_id"), std::string::npos) << unary_msg;
  EXPECT_NE(unary_msg.find("seq 2"), std::string::npos) << unary_msg;

  auto batch = client_->AppendBatch({MakeEvent("acme", "new-in-batch"), changed});
  ASSERT_EQ(batch.status().code(), absl::StatusCode::kAlreadyExists) << batch.status();
  const std::string batch_msg(batch.status().message());
  EXPECT_NE(batch_msg.find("events[1].event_id"), std::string::npos) << batch_msg;
  EXPECT_NE(batch_msg.find("seq 2"), std::string::npos) << batch_msg;

  // Within one batch, before either is stored.
  v1::Event twin = MakeEvent("acme", "twin");
  v1::Event other_twin = twin;
  other_twin.set_action("customer.delete");
  auto twins = client_->AppendBatch({twin, other_twin});
  ASSERT_EQ(twins.status().code(), absl::StatusCode::kAlreadyExists) << twins.status();
  EXPECT_NE(std::string(twins.status().message()).find("events[1].event_id"),
            std::string::npos)
      << twins.status();
  // Neither is stored yet: the message names no seq, but the request.
  EXPECT_NE(std::string(twins.status().message())
                .find("is also the id of an earlier event of this request"),
            std::string::npos)
      << twins.status();
  EXPECT_EQ(std::string(twins.status().message()).find("seq 0"), std::string::npos)
      << twins.status();

  EXPECT_EQ(client_->GetHead("acme")->seq(), 2u);
  EXPECT_EQ(ReadAll("acme").at(1).event().reason(), "support ticket");
  auto fresh = client_->Append(MakeEvent("acme", "new-in-batch"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->duplicate()) << "stored by the refused batch";
  VerifyChain("acme");
}

TEST_F(DaemonE2E, BadInputIsRejectedNamingTheFieldAndStoresNothing) {
  ASSERT_TRUE(client_->Append(MakeEvent("acme", "good")).ok());
  struct Case {
    std::string name;
    std::function<void(v1::Event*)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no tenant", [](v1::Event* e) { e->clear_tenant(); }, "event.tenant"},
      {"bad tenant", [](v1::Event* e) { e->set_tenant("Acme Corp"); }, "event.tenant"},
      {"no event id", [](v1::Event* e) { e->clear_event_id(); }, "event.event_id"},
      {"no actor", [](v1::Event* e) { e->mutable_actor()->clear_id(); }, "event.actor.id"},
      {"no action", [](v1::Event* e) { e->clear_action(); }, "event.action"},
      {"long reason", [](v1::Event* e) { e->set_reason(std::string(5000, 'x')); }, "event.reason"},
      {"control char", [](v1::Event* e) { e->set_action("read\x01"); }, "event.action"},
      {"bad ip", [](v1::Event* e) { e->mutable_actor()->set_ip("999.1.1.1"); }, "event.actor.ip"},
      {"dup metadata", [](v1::Event* e) {
         auto* m = e->add_metadata();
         m->set_key("region");
       }, "event.metadata"},
      {"too much metadata", [](v1::Event* e) {
         for (int i = 0; i < 70; ++i) e->add_metadata()->set_key("k" + std::to_string(i));
       }, "event.metadata"},
      {"far future", [](v1::Event* e) { e->set_occurred_at_ns(~0ull >> 1); }, "event.occurred_at_ns"},
  };
  for (const auto& c : cases) {
    v1::Event e = MakeEvent("acme", "bad-" + c.name);
    c.mutate(&e);
    auto r = client_->Append(e);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(std::string(r.status().message()).find(c.field), std::string::npos)
        << c.name << ": " << r.status();
  }
  // A batch with one bad event stores none of them, and names the index.
  v1::Event bad = MakeEvent("acme", "b2");
  bad.clear_action();
  auto r = client_->AppendBatch({MakeEvent("acme", "b1"), bad});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("events[1].action"), std::string::npos);
  EXPECT_FALSE(client_->AppendBatch({}).ok());
  EXPECT_EQ(client_->GetHead("acme")->seq(), 1u);
  EXPECT_EQ(client_->GetHead("Bad Tenant").status().code(),
            absl::StatusCode::kInvalidArgument);
  VerifyChain("acme");
}

TEST_F(DaemonE2E, InvalidUtf8IsRejected) {
  v1::Event e = MakeEvent("acme", "utf8");
  e.set_reason(std::string("caf\xc3", 4));
  auto r = client_->Append(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("reason"), std::string::npos)
      << r.status();
  EXPECT_EQ(client_->GetHead("acme")->seq(), 0u);
}

TEST_F(DaemonE2E, RestartContinuesTheChain) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->Append(MakeEvent("acme", "r" + std::to_string(i))).ok());
  }
  auto before = client_->GetHead("acme");
  client_.reset();  // an idle open channel delays the server's shutdown
  EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  EXPECT_NE(daemon_->Log().find("event=shutdown_complete"), std::string::npos);
  ASSERT_TRUE(daemon_->Restart().ok());
  Connect();
  auto after = client_->GetHead("acme");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->seq(), 5u);
  EXPECT_EQ(after->head_hash(), before->head_hash());
  auto next = client_->Append(MakeEvent("acme", "after-restart"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq(), 6u);
  // The idempotency index survives the restart too.
  auto dup = client_->Append(MakeEvent("acme", "r0"));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate());
  EXPECT_EQ(dup->seq(), 1u);
  VerifyChain("acme");
}

TEST_F(DaemonE2E, KillDashNineLosesNoAcknowledgedEvent) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, std::map<uint64_t, std::string>> acked;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      const std::string tenant = t % 2 ? "acme" : "globex";
      for (int i = 0; i < 5000 && !stop.load(); ++i) {
        auto r = client_->Append(MakeEvent(tenant, "k" + std::to_string(t) + "-" +
                                                       std::to_string(i)));
        if (!r.ok()) return;  // the daemon died under us
        std::lock_guard<std::mutex> l(mu);
        acked[tenant][r->seq()] = r->entry_hash();
      }
    });
  }
  // Kill once a good number of appends were acknowledged (bounded wait).
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (acked["acme"].size() + acked["globex"].size() >= 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  daemon_->Kill();
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_TRUE(daemon_->Restart().ok()) << daemon_->Log();
  Connect();
  for (const auto& [tenant, got] : acked) {
    auto chain_hashes = VerifyChain(tenant);
    for (const auto& [seq, hash] : got) {
      ASSERT_TRUE(chain_hashes.count(seq)) << tenant << " lost seq " << seq;
      EXPECT_EQ(chain_hashes[seq], hash) << tenant << " seq " << seq;
    }
  }
  // And the chain continues.
  auto next = client_->Append(MakeEvent("acme", "after-crash"));
  ASSERT_TRUE(next.ok());
  VerifyChain("acme");
}

TEST_F(DaemonE2E, SecondDaemonOnSameDataDirIsRefused) {
  auto r = testing::RunCommand({testing::BinPath("indelibled"), "--data-dir",
                                dir_.Sub("data"), "--listen", "127.0.0.1:0"},
                               "", std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("another indelibled"), std::string::npos) << r.err;
  // The running daemon is unharmed.
  EXPECT_TRUE(client_->Append(MakeEvent("acme", "still-fine")).ok());
}

TEST_F(DaemonE2E, AppendStreamAnswersInOrder) {
  auto channel = grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::AuditLog::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->AppendStream(&ctx);
  constexpr int kBatches = 20, kPerBatch = 16;
  for (int b = 0; b < kBatches; ++b) {
    v1::AppendBatchRequest req;
    for (int i = 0; i < kPerBatch; ++i) {
      *req.add_events() = MakeEvent("acme", "s" + std::to_string(b) + "-" + std::to_string(i));
    }
    ASSERT_TRUE(stream->Write(req));
  }
  stream->WritesDone();
  uint64_t expect_seq = 1;
  v1::AppendBatchResponse resp;
  int responses = 0;
  while (stream->Read(&resp)) {
    ASSERT_EQ(resp.receipts_size(), kPerBatch);
    for (const auto& rc : resp.receipts()) EXPECT_EQ(rc.seq(), expect_seq++);
    ++responses;
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(responses, kBatches);
  VerifyChain("acme");
}

TEST_F(DaemonE2E, SignedCheckpointCoversTheHead) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client_->Append(MakeEvent("acme", "c" + std::to_string(i))).ok());
  }
  auto channel = grpc::CreateChannel(daemon_->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::AuditLog::NewStub(channel);
  v1::GetPublicKeyResponse key;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->GetPublicKey(&ctx, {}, &key).ok());
  }
  auto vk = chain::ParseNoteVerifierKey(key.verifier_key());
  ASSERT_TRUE(vk.ok()) << vk.status();
  // The checkpointer runs once a second: wait for it (bounded) by state.
  v1::Checkpoint cp;
  for (int i = 0; i < 100; ++i) {
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    req.set_tenant("acme");
    req.set_min_seq(3);
    if (stub->GetCheckpoint(&ctx, req, &cp).ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(cp.seq(), 3u);
  auto parsed = chain::VerifyCheckpoint(cp.note(), {*vk});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(std::string(chain::AsBytes(parsed->head)), client_->GetHead("acme")->head_hash());
  grpc::ClientContext ctx;
  v1::GetCheckpointRequest none;
  none.set_tenant("nobody");
  v1::Checkpoint missing;
  EXPECT_EQ(stub->GetCheckpoint(&ctx, none, &missing).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace indelible
