#include "tests/verifier/verify_e2e_fixture.h"

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "tests/verifier/test_chain.h"
#include "verifier/chain/note.h"

namespace indelible {

using nlohmann::json;
using testing::BinPath;
using testing::DaemonProcess;
using testing::RawStore;
using testing::RunCommand;
using testing::TempDir;

TempDir* VerifyE2E::tmp_ = nullptr;
std::string VerifyE2E::pristine_;
std::string VerifyE2E::auditor_checkpoint_;
std::string VerifyE2E::verifier_key_;
std::string VerifyE2E::public_key_pem_;
std::map<std::pair<std::string, uint64_t>, std::string> VerifyE2E::hashes_;

v1::Event MakeEvent(const std::string& tenant, int i) {
  v1::Event e;
  e.set_tenant(tenant);
  e.set_event_id(tenant + "-" + std::to_string(i));
  e.set_occurred_at_ns(1700000000000000000ull + i);
  e.mutable_actor()->set_id("alice@example.com");
  e.mutable_actor()->set_type("user");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("cus_" + std::to_string(i));
  e.set_reason("support ticket");
  e.set_outcome("allowed");
  e.set_source("crm");
  return e;
}

std::unique_ptr<v1::AuditLog::Stub> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::AuditLog::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> StartDaemon(
    const TempDir& tmp, const std::string& name, int interval_ms) {
  const std::string key = tmp.Sub(name + "-key.pem");
  WriteFile(key, testing::TestSigner().private_key().PrivateKeyPem());
  chmod(key.c_str(), 0600);
  const std::string config = tmp.Sub(name + ".yaml");
  WriteFile(config, "signing_key_file: " + key +
                        "\nkey_name: indelible-test\ncheckpoint_interval_ms: " +
                        std::to_string(interval_ms) + "\n");
  return DaemonProcess::Start(
      {.data_dir = tmp.Sub(name),
       .extra_args = {"--config", config},
       .log_file = tmp.Sub(name + ".log")});
}

// One daemon run for the whole suite. One batch per tenant: the chain goes
// from 0 to kRecords at once, so the only checkpoint the daemon can sign is
// the head, and every test sees exactly one stored checkpoint per tenant.
void VerifyE2E::PrepareSuite() {
  tmp_ = new TempDir;
  auto daemon = StartDaemon(*tmp_, "pristine", 50);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  auto stub = Connect((*daemon)->target());
  for (const char* tenant : {"acme", "globex"}) {
    v1::AppendBatchRequest req;
    for (int i = 1; i <= kRecords; ++i) {
      *req.add_events() = MakeEvent(tenant, i);
    }
    v1::AppendBatchResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = stub->AppendBatch(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.receipts_size(), kRecords);
    for (const auto& r : resp.receipts()) {
      hashes_[{tenant, r.seq()}] = r.entry_hash();
    }
  }
  // The auditor saves acme's checkpoint (waiting, bounded, for the
  // checkpointer's round) and the daemon's public key.
  v1::Checkpoint cp;
  for (int i = 0; i < 200 && cp.seq() != kRecords; ++i) {
    grpc::ClientContext ctx;
    v1::GetCheckpointRequest req;
    req.set_tenant("acme");
    req.set_min_seq(kRecords);
    if (!stub->GetCheckpoint(&ctx, req, &cp).ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_EQ(cp.seq(), static_cast<uint64_t>(kRecords));
  auditor_checkpoint_ = tmp_->Sub("acme-20.checkpoint");
  WriteFile(auditor_checkpoint_, cp.note());
  v1::GetPublicKeyResponse key;
  {
    grpc::ClientContext ctx;  // released before shutdown, like the call
    ASSERT_TRUE(stub->GetPublicKey(&ctx, {}, &key).ok());
  }
  verifier_key_ = key.verifier_key();
  ASSERT_EQ(verifier_key_, chain::NoteVerifierKeyString(
                               testing::TestSigner().verifier_key()));
  public_key_pem_ = tmp_->Sub("daemon.pub.pem");
  WriteFile(public_key_pem_, key.public_key_pem());
  stub.reset();
  ASSERT_EQ((*daemon)->Stop(), 0) << (*daemon)->Log();
  pristine_ = tmp_->Sub("pristine");
}

void VerifyE2E::TearDownTestSuite() {
  delete tmp_;
  tmp_ = nullptr;
}

std::string VerifyE2E::Damaged(const std::function<void(RawStore&)>& attack) {
  const std::string dir =
      tmp_->Sub(::testing::UnitTest::GetInstance()->current_test_info()->name());
  testing::CopyTree(pristine_, dir);
  RawStore store(dir);
  attack(store);
  return dir;
}

Verify VerifyE2E::Check(const std::string& dir,
                        std::vector<std::string> extra) {
  std::vector<std::string> argv = {BinPath("indelible-verify"), "check",
                                   "--data-dir", dir, "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Verify v;
  v.run = RunCommand(argv);
  if (!v.run.out.empty()) {
    v.out = json::parse(v.run.out, nullptr, /*allow_exceptions=*/false);
  }
  return v;
}

void VerifyE2E::ExpectFirstFinding(const Verify& v, const std::string& tenant,
                               uint64_t seq, const std::string& kind) {
  ASSERT_EQ(v.run.exit_code, 1) << v.run.out << v.run.err;
  ASSERT_FALSE(v.out.is_discarded()) << v.run.out;
  ASSERT_FALSE(v.out["verified"].get<bool>());
  const json& f = v.FirstFinding();
  EXPECT_EQ(f["tenant"], tenant) << v.out["findings"].dump(2);
  EXPECT_EQ(f["seq"], seq) << v.out["findings"].dump(2);
  EXPECT_EQ(f["kind"], kind) << v.out["findings"].dump(2);
}

chain::Digest VerifyE2E::Hash(const std::string& tenant, uint64_t seq) {
  chain::Digest d;
  EXPECT_TRUE(chain::DigestFromBytes(hashes_[{tenant, seq}], &d));
  return d;
}

}  // namespace indelible
