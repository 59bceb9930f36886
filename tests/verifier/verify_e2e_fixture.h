// The fixture of the end-to-end tests of `indelible-verify check`: the real
// daemon writes two tenants' chains once per suite (kRecords records each,
// one batch per tenant, checkpointed at the head), the auditor saves acme's
// checkpoint and the daemon's public key; each test checks that directory or
// a damaged COPY of it with the real binary.
#ifndef INDELIBLE_TESTS_VERIFIER_VERIFY_E2E_FIXTURE_H_
#define INDELIBLE_TESTS_VERIFIER_VERIFY_E2E_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "verifier/chain/hash.h"

namespace indelible {

inline constexpr int kRecords = 20;

v1::Event MakeEvent(const std::string& tenant, int i);

// A stub on a channel of its own (not shared through gRPC's global
// subchannel pool): dropping it closes the connection, so the daemon's
// graceful shutdown has no idle client to wait for.
std::unique_ptr<v1::AuditLog::Stub> Connect(const std::string& target);

void WriteFile(const std::string& path, const std::string& text);

// A daemon in tmp/<name> signing with the test key of docs/FORMAT.md 8.6
// (name "indelible-test"), one checkpoint round per `interval_ms`.
absl::StatusOr<std::unique_ptr<testing::DaemonProcess>> StartDaemon(
    const testing::TempDir& tmp, const std::string& name, int interval_ms);

// One run of `indelible-verify check --json`.
struct Verify {
  testing::CommandResult run;
  nlohmann::json out;  // discarded if stdout is not JSON

  const nlohmann::json& FirstFinding() const {
    return out["findings"].at(0);
  }
};

class VerifyE2E : public ::testing::Test {
 protected:
  static inline testing::SuitePreparation suite_;
  static void PrepareSuite();
  static void TearDownTestSuite();
  void SetUp() override {
    suite_.Run(&PrepareSuite);
    ASSERT_TRUE(suite_.ok) << "the suite's set-up failed (see the first test)";
  }

  // A copy of the pristine data directory, damaged by `attack` (which edits
  // it read-write with RocksDB, as an attacker with file access would).
  std::string Damaged(const std::function<void(testing::RawStore&)>& attack);

  static Verify Check(const std::string& dir,
                      std::vector<std::string> extra = {});
  static std::vector<std::string> KeyArgs() { return {"--key", verifier_key_}; }
  // Asserts exit code 1 and the first finding.
  static void ExpectFirstFinding(const Verify& v, const std::string& tenant,
                                 uint64_t seq, const std::string& kind);
  // The entry hash the daemon's receipt gave for (tenant, seq).
  static chain::Digest Hash(const std::string& tenant, uint64_t seq);

  static testing::TempDir* tmp_;
  static std::string pristine_;            // the stopped daemon's directory
  static std::string auditor_checkpoint_;  // acme's note at seq kRecords
  static std::string verifier_key_;        // from GetPublicKey
  static std::string public_key_pem_;      // a file, from GetPublicKey
  static std::map<std::pair<std::string, uint64_t>, std::string> hashes_;
};

}  // namespace indelible

#endif  // INDELIBLE_TESTS_VERIFIER_VERIFY_E2E_FIXTURE_H_
