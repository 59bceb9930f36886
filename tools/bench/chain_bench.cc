// indelible-bench: Google Benchmark kernels of the per-event and
// per-checkpoint work, to tell how much of a daemon's CPU budget an event
// costs before gRPC and RocksDB see it.
//
//   EncodeCanonicalEvent/N   CE of an event of about N bytes
//   DecodeCanonicalEvent/N   its inverse (reads and exports)
//   BodyDigest/N             SHA-256(salt || CE)
//   EntryHash                one chain link
//   RandomSalt               16 bytes from OpenSSL's CSPRNG
//   PrepareEvent/N           the daemon's whole ingest of one event:
//                            validation, CE, salt, body digest
//   ParseAppendRequest/N     protobuf parse of an AppendRequest
//   CheckpointSign           checkpoint text + Ed25519 signed note
//   CheckpointVerify         parse + signature check of that note
//   SequencerClosedLoop/S/K  group commit alone (sequencer_bench.cc)
#include <string>

#include "benchmark/benchmark.h"
#include "daemon/api/receipt_proto.h"
#include "daemon/write/ingest.h"
#include "indelible/v1/indelible.pb.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "wire/event_mapper.h"

namespace indelible {
namespace {

// About `bytes` of event, the filler in `reason`, as indelible-loadgen sends.
chain::EventFields MakeFields(size_t bytes) {
  chain::EventFields f;
  f.tenant = "acme";
  f.event_id = "0190f3c2-6c1e-7cc3-9a1b-5d2f8e4b1a00";
  f.occurred_at_ns = 1700000000123456789ull;
  f.actor_id = "svc-loadgen@example.com";
  f.actor_type = "service";
  f.actor_ip = "10.1.2.3";
  f.action = "customer.read";
  f.resource_type = "customer";
  f.resource_id = "cust-0001234567";
  f.outcome = "allowed";
  f.source = "indelible-loadgen";
  f.category = "access";
  f.metadata = {{"request_id", "4b1a00"}, {"region", "eu-west-1"}};
  const size_t fixed = 200;
  f.reason.assign(bytes > fixed ? bytes - fixed : 0, 'r');
  return f;
}

v1::Event MakeEvent(size_t bytes) { return EventToProto(MakeFields(bytes)); }

std::string MustEncode(const chain::EventFields& f) {
  auto ce = chain::EncodeCanonicalEvent(f);
  if (!ce.ok()) std::abort();
  return *ce;
}

void BM_EncodeCanonicalEvent(benchmark::State& state) {
  const chain::EventFields f = MakeFields(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    auto ce = chain::EncodeCanonicalEvent(f);
    bytes += ce->size();
    benchmark::DoNotOptimize(ce);
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_EncodeCanonicalEvent)->Arg(256)->Arg(512)->Arg(4096);

void BM_DecodeCanonicalEvent(benchmark::State& state) {
  const std::string ce = MustEncode(MakeFields(state.range(0)));
  for (auto _ : state) {
    auto f = chain::DecodeCanonicalEvent(ce);
    benchmark::DoNotOptimize(f);
  }
  state.SetBytesProcessed(state.iterations() * ce.size());
}
BENCHMARK(BM_DecodeCanonicalEvent)->Arg(256)->Arg(512)->Arg(4096);

void BM_BodyDigest(benchmark::State& state) {
  const std::string ce = MustEncode(MakeFields(state.range(0)));
  chain::Salt salt{};
  for (auto _ : state) {
    auto d = chain::BodyDigest(salt, ce);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * (ce.size() + salt.size()));
}
BENCHMARK(BM_BodyDigest)->Arg(256)->Arg(512)->Arg(4096);

void BM_EntryHash(benchmark::State& state) {
  chain::Digest prev = chain::Genesis("acme");
  const chain::Digest body = chain::Sha256("body");
  uint64_t seq = 0;
  for (auto _ : state) {
    ++seq;
    prev = chain::EntryHash("acme", seq, 1700000000123456789ull + seq, prev, body);
    benchmark::DoNotOptimize(prev);
  }
}
BENCHMARK(BM_EntryHash);

void BM_RandomSalt(benchmark::State& state) {
  chain::Salt salt;
  for (auto _ : state) {
    if (!chain::RandomSalt(&salt).ok()) std::abort();
    benchmark::DoNotOptimize(salt);
  }
}
BENCHMARK(BM_RandomSalt);

void BM_PrepareEvent(benchmark::State& state) {
  const v1::Event e = MakeEvent(state.range(0));
  const IngestLimits limits;
  const SaltSource salts = chain::RandomSalt;
  for (auto _ : state) {
    PreparedEvent out;
    if (!PrepareEvent(e, limits, 1700000000223456789ull, salts, "event", &out).ok()) {
      std::abort();
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_PrepareEvent)->Arg(256)->Arg(512)->Arg(4096);

void BM_ParseAppendRequest(benchmark::State& state) {
  v1::AppendRequest req;
  *req.mutable_event() = MakeEvent(state.range(0));
  const std::string wire = req.SerializeAsString();
  for (auto _ : state) {
    v1::AppendRequest parsed;
    if (!parsed.ParseFromString(wire)) std::abort();
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_ParseAppendRequest)->Arg(256)->Arg(512)->Arg(4096);

// A stream's answer to one request of 100 events: its receipts set into a
// new response (arg 0), or into one cleared and reused
// (AppendStreamReactor keeps written responses for reuse: arg 1).
void BM_ReceiptsToProto(benchmark::State& state) {
  std::vector<Receipt> receipts(100);
  for (size_t i = 0; i < receipts.size(); ++i) {
    receipts[i].tenant = "bench-12";
    receipts[i].seq = 1000 + i;
    receipts[i].entry_hash = chain::Sha256(std::to_string(i));
  }
  const bool reuse = state.range(0) == 1;
  v1::AppendBatchResponse reused;
  for (auto _ : state) {
    v1::AppendBatchResponse fresh;
    v1::AppendBatchResponse* out = reuse ? &reused : &fresh;
    for (const Receipt& r : receipts) ToProto(r, out->add_receipts());
    benchmark::DoNotOptimize(out);
    if (reuse) reused.Clear();
  }
  state.SetItemsProcessed(state.iterations() * receipts.size());
}
BENCHMARK(BM_ReceiptsToProto)->Arg(0)->Arg(1);

const chain::NoteSigner& Signer() {
  static const chain::NoteSigner* signer = [] {
    auto key = chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x07'));
    if (!key.ok()) std::abort();
    return new chain::NoteSigner("indelible-bench", *std::move(key));
  }();
  return *signer;
}

chain::Checkpoint SampleCheckpoint() {
  chain::Checkpoint c;
  c.tenant = "acme";
  c.seq = 123456789;
  c.head = chain::Sha256("head");
  c.timestamp_ns = 1700000000123456789ull;
  return c;
}

void BM_CheckpointSign(benchmark::State& state) {
  const chain::NoteSigner& signer = Signer();
  chain::Checkpoint c = SampleCheckpoint();
  for (auto _ : state) {
    ++c.seq;
    std::string note = signer.Sign(chain::CheckpointText(c));
    benchmark::DoNotOptimize(note);
  }
}
BENCHMARK(BM_CheckpointSign);

void BM_CheckpointVerify(benchmark::State& state) {
  const chain::NoteSigner& signer = Signer();
  const std::string note = signer.Sign(chain::CheckpointText(SampleCheckpoint()));
  const std::vector<chain::NoteVerifierKey> keys = {signer.verifier_key()};
  for (auto _ : state) {
    auto cp = chain::VerifyCheckpoint(note, keys);
    if (!cp.ok()) std::abort();
    benchmark::DoNotOptimize(cp);
  }
}
BENCHMARK(BM_CheckpointVerify);

}  // namespace
}  // namespace indelible

BENCHMARK_MAIN();
