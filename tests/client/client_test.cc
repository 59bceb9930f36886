#include "client/client.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/client/fake_audit_log.h"
#include "tests/client/test_util.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"

namespace indelible::client {
namespace {

using testing::FakeServer;
using testing::MakeEvent;

std::unique_ptr<Client> ConnectTo(const FakeServer& server) {
  ClientOptions o;
  o.target = server.target();
  o.deadline = std::chrono::seconds(5);
  auto c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

TEST(Client, ConnectRejectsBadOptions) {
  ClientOptions o;
  o.target = "";
  EXPECT_EQ(Client::Connect(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.target = "127.0.0.1:1";
  o.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(Client::Connect(o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Client, AppendReturnsReceiptsAndDeduplicates) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto r1 = c->Append(MakeEvent("acme", "e1"));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->tenant(), "acme");
  EXPECT_EQ(r1->seq(), 1u);
  EXPECT_EQ(r1->entry_hash().size(), chain::kDigestSize);
  EXPECT_FALSE(r1->duplicate());

  auto again = c->Append(MakeEvent("acme", "e1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->seq(), 1u);
  EXPECT_EQ(again->entry_hash(), r1->entry_hash());
}

TEST(Client, AppendBatchKeepsOrder) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto r = c->AppendBatch(
      {MakeEvent("acme", "a"), MakeEvent("acme", "b"), MakeEvent("acme", "c")});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*r)[i].seq(), i + 1);
  EXPECT_EQ(server.service().batch_sizes(), std::vector<size_t>{3});
}

// `e` with a "pad" metadata value sized so that EventRequestBytes(e) is
// exactly `bytes`.
v1::Event PaddedTo(v1::Event e, size_t bytes) {
  auto* m = e.add_metadata();
  m->set_key("pad");
  for (int i = 0; i < 4 && EventRequestBytes(e) != bytes; ++i) {
    const size_t now = EventRequestBytes(e);
    m->mutable_value()->resize(m->value().size() + bytes - now);
  }
  return e;
}

TEST(Client, EventRequestBytesAddUpToTheRequestSize) {
  std::vector<v1::Event> events = {MakeEvent("acme", "a"),
                                   PaddedTo(MakeEvent("acme", "b"), 200),
                                   PaddedTo(MakeEvent("acme", "c"), 20000),
                                   PaddedTo(MakeEvent("acme", "d"), 3 << 20)};
  v1::AppendBatchRequest batch;
  size_t sum = 0;
  for (const v1::Event& e : events) {
    *batch.add_events() = e;
    sum += EventRequestBytes(e);
    v1::AppendRequest one;
    *one.mutable_event() = e;
    EXPECT_EQ(EventRequestBytes(e), one.ByteSizeLong());
  }
  EXPECT_EQ(EventRequestBytes(events[2]), 20000u);
  EXPECT_EQ(sum, batch.ByteSizeLong());
}

TEST(Client, RequestsOverTheMessageLimitAreRefusedWithoutACall) {
  FakeServer server;  // receives up to 16 MiB, as indelibled
  auto c = ConnectTo(server);
  // Exactly at the limit: sent, and gRPC lets it through.
  auto at = c->AppendBatch({PaddedTo(MakeEvent("acme", "at"), kMaxRequestBytes)});
  ASSERT_TRUE(at.ok()) << at.status();
  ASSERT_EQ(server.service().append_calls(), 1);

  // One byte more, alone: named by index and id.
  const v1::Event over = PaddedTo(MakeEvent("acme", "over"), kMaxRequestBytes + 1);
  auto r = c->AppendBatch({MakeEvent("acme", "small"), over});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "events[1]: event \"over\" is 16777217 bytes encoded; a request may carry at "
            "most 16777216 bytes (16 MiB), so it cannot be sent");
  auto one = c->Append(over);
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(one.status().message(), "event: event \"over\" is 16777217"))
      << one.status();

  // Events that fit one by one but not together: split the batch.
  const v1::Event half = PaddedTo(MakeEvent("acme", "h1"), kMaxRequestBytes / 2 + 1);
  v1::Event half2 = half;
  half2.set_event_id("h2");
  r = c->AppendBatch({half, half2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "events: the batch is 16777218 bytes encoded; a request may carry at most "
            "16777216 bytes (16 MiB): split it into smaller batches");
  EXPECT_EQ(server.service().append_calls(), 1);

  // A long id is shortened in the message.
  v1::Event long_id = over;
  long_id.set_event_id(std::string(100, 'i'));
  r = c->AppendBatch({long_id});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), std::string(64, 'i') + "...\" is "))
      << r.status();
}

TEST(Client, ServerErrorKeepsCodeAndMessage) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto r = c->Append(MakeEvent("acme", "e1", /*action=*/""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "event.action: required");

  server.service().FailNext(1, grpc::StatusCode::UNAVAILABLE);
  auto b = c->AppendBatch({MakeEvent("acme", "e2")});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(b.status().message(), "injected failure");
}

TEST(Client, UnreachableServerIsUnavailable) {
  std::string target;
  {
    FakeServer gone;
    target = gone.target();
  }
  ClientOptions o;
  o.target = target;
  o.deadline = std::chrono::seconds(5);
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->GetHead("acme").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ((*c)->GetCheckpoint("acme", 0).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ((*c)->GetPublicKey().status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(Client, GetHeadOfEmptyAndNonEmptyTenant) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto empty = c->GetHead("acme");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->seq(), 0u);
  EXPECT_EQ(empty->head_hash(), chain::AsBytes(chain::Genesis("acme")));

  auto r = c->AppendBatch({MakeEvent("acme", "a"), MakeEvent("acme", "b")});
  ASSERT_TRUE(r.ok());
  auto head = c->GetHead("acme");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq(), 2u);
  EXPECT_EQ(head->head_hash(), (*r)[1].entry_hash());
  EXPECT_EQ(head->received_at_ns(), (*r)[1].received_at_ns());
}

TEST(Client, ReadRecordsStreamsAndStopsEarly) {
  FakeServer server;
  auto c = ConnectTo(server);
  std::vector<v1::Event> events;
  for (int i = 0; i < 5; ++i) {
    events.push_back(MakeEvent("acme", "e" + std::to_string(i)));
  }
  ASSERT_TRUE(c->AppendBatch(events).ok());

  std::vector<uint64_t> seqs;
  auto s = c->ReadRecords("acme", 2, 0, [&](const v1::Record& r) {
    seqs.push_back(r.seq());
    return true;
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3, 4, 5}));

  seqs.clear();
  s = c->ReadRecords("acme", 0, 0, [&](const v1::Record& r) {
    seqs.push_back(r.seq());
    return seqs.size() < 2;
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2}));

  seqs.clear();
  s = c->ReadRecords("acme", 1, 3, [&](const v1::Record& r) {
    seqs.push_back(r.seq());
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(Client, GetCheckpointReturnsTheSignedNoteAndItsFields) {
  FakeServer server;
  auto c = ConnectTo(server);
  EXPECT_EQ(c->GetCheckpoint("acme", 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(c->GetCheckpoint("Not Valid", 0).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Two calls: checkpoints at seq 2 and 3.
  ASSERT_TRUE(
      c->AppendBatch({MakeEvent("acme", "a"), MakeEvent("acme", "b")}).ok());
  ASSERT_TRUE(c->Append(MakeEvent("acme", "c")).ok());

  auto newest = c->GetCheckpoint("acme", 0);
  ASSERT_TRUE(newest.ok()) << newest.status();
  EXPECT_EQ(newest->tenant(), "acme");
  EXPECT_EQ(newest->seq(), 3u);
  EXPECT_EQ(newest->head_hash(), c->GetHead("acme")->head_hash());
  auto parsed = chain::VerifyCheckpoint(
      newest->note(), {testing::FakeAuditLog::TestSigner().verifier_key()});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->tenant, "acme");
  EXPECT_EQ(parsed->seq, newest->seq());
  EXPECT_EQ(chain::AsBytes(parsed->head), newest->head_hash());
  EXPECT_EQ(parsed->timestamp_ns, newest->timestamp_ns());

  // min_seq: the oldest checkpoint at or after it.
  auto at_least_1 = c->GetCheckpoint("acme", 1);
  ASSERT_TRUE(at_least_1.ok()) << at_least_1.status();
  EXPECT_EQ(at_least_1->seq(), 2u);
  auto at_least_3 = c->GetCheckpoint("acme", 3);
  ASSERT_TRUE(at_least_3.ok()) << at_least_3.status();
  EXPECT_EQ(at_least_3->note(), newest->note());
  auto beyond = c->GetCheckpoint("acme", 4);
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(beyond.status().message(), "no checkpoint");
}

TEST(Client, GetPublicKeyDescribesTheCheckpointKey) {
  FakeServer server;
  auto c = ConnectTo(server);
  auto k = c->GetPublicKey();
  ASSERT_TRUE(k.ok()) << k.status();
  const chain::NoteSigner signer = testing::FakeAuditLog::TestSigner();
  EXPECT_EQ(k->key_name(), "fake-log");
  EXPECT_EQ(k->key_id_hex().size(), 8u);
  EXPECT_EQ(k->verifier_key(),
            chain::NoteVerifierKeyString(signer.verifier_key()));
  auto vk = chain::ParseNoteVerifierKey(k->verifier_key());
  ASSERT_TRUE(vk.ok()) << vk.status();
  auto pem_key = chain::PublicKeyFromPem(k->public_key_pem());
  ASSERT_TRUE(pem_key.ok()) << pem_key.status();
  EXPECT_EQ(*pem_key, vk->public_key);
  EXPECT_EQ(*pem_key, signer.private_key().PublicKey());
}

}  // namespace
}  // namespace indelible::client
