// Rotating the checkpoint signing key (docs/OPERATIONS.md): a new key takes
// over only by a statement of the current one (docs/FORMAT.md section 14),
// recorded in every tenant's chain; the verifier follows the statements
// from the key it trusts, and never trusts a key because the store lists it.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/note.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::CommandResult;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;
using testing::VerifierKeyOf;

class KeyRotationE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* k : {"a.pem", "b.pem", "c.pem"}) {
      CommandResult g = RunCommand({BinPath("indelible"), "keygen", "--out", dir_.Sub(k)});
      ASSERT_EQ(g.exit_code, 0) << g.err;
    }
  }

  std::string WriteConfig(const std::string& key_file, const std::string& statement) {
    std::ofstream c(dir_.Sub("config.yaml"));
    c << "signing_key_file: " << key_file << "\ncheckpoint_interval_ms: 50\n";
    if (!statement.empty()) c << "key_rotation_statement_file: " << statement << "\n";
    return dir_.Sub("config.yaml");
  }

  // Runs indelibled to its exit (for a start that must fail).
  CommandResult StartFails(const std::string& key_file, const std::string& statement) {
    return RunCommand({BinPath("indelibled"), "--config", WriteConfig(key_file, statement),
                       "--data-dir", dir_.Sub("data"), "--listen", "127.0.0.1:0"});
  }

  void Start(const std::string& key_file, const std::string& statement = "") {
    auto d = DaemonProcess::Start(
        {.data_dir = dir_.Sub("data"),
         .extra_args = {"--config", WriteConfig(key_file, statement)}});
    ASSERT_TRUE(d.ok()) << d.status();
    daemon_ = std::move(*d);
  }

  CommandResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinPath("indelible"), "--target", daemon_->target()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  void Append(const std::string& tenant, int n, const std::string& prefix) {
    for (int i = 0; i < n; ++i) {
      CommandResult r = Cli({"append", "--tenant", tenant, "--event-id",
                             prefix + std::to_string(i), "--actor-id", "alice", "--action",
                             "customer.read"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  // Polls (bounded) for a checkpoint covering `seq`; returns the note.
  std::string CheckpointAt(const std::string& tenant, uint64_t seq) {
    for (int i = 0; i < 200; ++i) {
      CommandResult r =
          Cli({"checkpoint", "--tenant", tenant, "--min-seq", std::to_string(seq)});
      if (r.exit_code == 0) return r.out;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no checkpoint of " << tenant << " at seq " << seq;
    return "";
  }

  CommandResult Statement(const std::string& old_key, const std::string& new_key,
                          const std::string& out) {
    CommandResult r = RunCommand({BinPath("indelible"), "rotation-statement", "--old-key",
                                  old_key, "--new-key", new_key, "--log-name",
                                  "indelible.local"});
    std::ofstream(out) << r.out;
    return r;
  }

  CommandResult Check(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "check", "--data-dir",
                                     dir_.Sub("data"), "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  }

  // Writes one row into a stopped daemon's store with RocksDB's own `ldb`.
  void LdbPut(const std::string& cf, const std::string& key, const std::string& value) {
    CommandResult r = RunCommand({"/usr/bin/ldb", "--db=" + dir_.Sub("data"),
                                  "--column_family=" + cf, "--hex", "put",
                                  "0x" + chain::ToHex(key), "0x" + chain::ToHex(value)});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(KeyRotationE2E, ANewKeyTakesOverOnlyByAStatementOfTheOld) {
  const std::string key_a = VerifierKeyOf(dir_.Sub("a.pem"));
  const std::string key_b = VerifierKeyOf(dir_.Sub("b.pem"));
  Start(dir_.Sub("a.pem"));
  Append("acme", 3, "before-");
  Append("globex", 2, "before-");
  CheckpointAt("acme", 3);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // Another key without a statement: refused, saying what to do.
  CommandResult bare = StartFails(dir_.Sub("b.pem"), "");
  EXPECT_EQ(bare.exit_code, 2) << bare.out << bare.err;
  EXPECT_TRUE(absl::StrContains(bare.err, "indelible rotation-statement")) << bare.err;
  EXPECT_TRUE(absl::StrContains(bare.err, "key_rotation_statement_file")) << bare.err;

  // A statement by a key the store never signed with: refused.
  CommandResult by_c = Statement(dir_.Sub("c.pem"), dir_.Sub("b.pem"), dir_.Sub("c-to-b.txt"));
  ASSERT_EQ(by_c.exit_code, 0) << by_c.err;
  CommandResult refused = StartFails(dir_.Sub("b.pem"), dir_.Sub("c-to-b.txt"));
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "not by the store's current key")) << refused.err;

  // A statement by A: the daemon records it in every chain, then signs with B.
  CommandResult by_a = Statement(dir_.Sub("a.pem"), dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));
  ASSERT_EQ(by_a.exit_code, 0) << by_a.err;
  Start(dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));
  for (const auto& [tenant, seq] : {std::pair<std::string, int>{"acme", 4}, {"globex", 3}}) {
    CommandResult r = Cli({"read", "--tenant", tenant, "--from", std::to_string(seq), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "key.rotate")) << tenant << ": " << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "indelible.key")) << tenant << ": " << r.out;
  }
  auto rotations = [this] {
    CommandResult r = Cli({"read", "--tenant", "acme", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    size_t n = 0;
    for (size_t at = r.out.find("key.rotate"); at != std::string::npos;
         at = r.out.find("key.rotate", at + 1)) {
      ++n;
    }
    return n;
  };
  const size_t recorded = rotations();
  EXPECT_GT(recorded, 0u);
  Append("acme", 2, "after-");
  const std::string note = CheckpointAt("acme", 6);
  auto b = chain::ParseNoteVerifierKey(key_b);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(chain::VerifyNote(note, {*b}).ok()) << note;
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // A restart with B needs nothing more; the statement left in the config
  // is not recorded twice.
  Start(dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));
  EXPECT_EQ(rotations(), recorded);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // The auditor knows only A: the statements in the chains lead to B.
  CommandResult with_a = Check({"--key", key_a});
  EXPECT_EQ(with_a.exit_code, 0) << with_a.out << with_a.err;
  // Starting from B alone, A's checkpoints are not trusted.
  CommandResult with_b = Check({"--key", key_b});
  EXPECT_NE(with_b.exit_code, 0) << with_b.out;
  EXPECT_TRUE(absl::StrContains(with_b.out, "checkpoint_signature")) << with_b.out;
  // Starting from C, the statement is by a key not trusted: a finding.
  CommandResult with_c = Check({"--key", VerifierKeyOf(dir_.Sub("c.pem"))});
  EXPECT_NE(with_c.exit_code, 0) << with_c.out;
  EXPECT_TRUE(absl::StrContains(with_c.out, "key_rotation")) << with_c.out;

  // A purge's deletion certificate carries no statement: the auditor
  // supplies it.
  Start(dir_.Sub("b.pem"));
  CommandResult purge = Cli({"admin", "purge", "--tenant", "globex", "--actor", "ops",
                             "--reason", "account closed", "--out", dir_.Sub("globex.cert"),
                             "--yes"});
  ASSERT_EQ(purge.exit_code, 0) << purge.out << purge.err;
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  CommandResult supplied = Check({"--key", key_a, "--rotation", dir_.Sub("a-to-b.txt")});
  EXPECT_EQ(supplied.exit_code, 0) << supplied.out << supplied.err;
  CommandResult bad = Check({"--key", key_a, "--rotation", dir_.Sub("c-to-b.txt")});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "which no trusted key leads to")) << bad.err;
  auto cert = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "verify-certificate",
                                     "--cert", dir_.Sub("globex.cert"), "--key", key_a};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  };
  EXPECT_EQ(cert({}).exit_code, 1);
  CommandResult followed = cert({"--rotation", dir_.Sub("a-to-b.txt")});
  EXPECT_EQ(followed.exit_code, 0) << followed.out << followed.err;
}

// A tenant created after the rotation gets the statement in its chain
// before its first checkpoint: an auditor trusting A verifies it without
// --rotation, and one given only B reads it without a finding.
TEST_F(KeyRotationE2E, ATenantCreatedAfterTheRotationCarriesTheStatement) {
  const std::string key_a = VerifierKeyOf(dir_.Sub("a.pem"));
  const std::string key_b = VerifierKeyOf(dir_.Sub("b.pem"));
  Start(dir_.Sub("a.pem"));
  Append("acme", 3, "before-");
  CheckpointAt("acme", 3);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_EQ(Statement(dir_.Sub("a.pem"), dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt")).exit_code,
            0);
  Start(dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // (Its records go after the tenant's first ones, wherever the first
  // checkpoint round finds the tenant: after one or two of them.)
  Start(dir_.Sub("b.pem"));
  Append("initech", 2, "new-");
  CheckpointAt("initech", 3);
  CommandResult initech = Cli({"read", "--tenant", "initech", "--json"});
  ASSERT_EQ(initech.exit_code, 0) << initech.err;
  EXPECT_TRUE(absl::StrContains(initech.out, "key.rotate")) << initech.out;
  EXPECT_TRUE(absl::StrContains(initech.out, "before the tenant's first checkpoint"))
      << initech.out;
  // A tenant created and stopped within one checkpoint interval gets it too
  // (the daemon's last round runs while its sequencer still does).
  Append("hooli", 1, "quick-");
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  EXPECT_TRUE(absl::StrContains(daemon_->Log(), "event=key_history_recorded tenant=hooli"))
      << daemon_->Log();

  for (const char* tenant : {"initech", "hooli"}) {
    CommandResult from_a = Check({"--key", key_a, "--tenant", tenant});
    EXPECT_EQ(from_a.exit_code, 0) << from_a.out << from_a.err;
    EXPECT_FALSE(absl::StrContains(from_a.out, "checkpoint_signature")) << from_a.out;
    CommandResult from_b = Check({"--key", key_b, "--tenant", tenant});
    EXPECT_EQ(from_b.exit_code, 0) << from_b.out << from_b.err;
  }
  CommandResult all = Check({"--key", key_a});
  EXPECT_EQ(all.exit_code, 0) << all.out << all.err;
}

TEST_F(KeyRotationE2E, AKeyTheStoreListsIsNotTrusted) {
  const std::string key_a = VerifierKeyOf(dir_.Sub("a.pem"));
  Start(dir_.Sub("a.pem"));
  Append("acme", 3, "e-");
  const std::string note = CheckpointAt("acme", 3);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_EQ(Check({"--key", key_a}).exit_code, 0);

  // The attacker holds C: lists it in the key history, caches a statement
  // between their own keys, and signs the newest checkpoint again with it.
  bool created = false;
  auto c = chain::LoadSigningKey(dir_.Sub("c.pem"), false, &created);
  ASSERT_TRUE(c.ok()) << c.status();
  chain::NoteSigner mallory("indelible", *c);
  std::string history_row = store::kSigningKeyPrefix;
  chain::PutU32(&history_row, mallory.verifier_key().key_id);
  LdbPut("default", history_row, chain::NoteVerifierKeyString(mallory.verifier_key()));
  const std::string text = note.substr(0, note.find("\n\n") + 1);
  LdbPut("checkpoints", store::SeqKey("acme", 3), mallory.Sign(text));

  CommandResult r = Check({"--key", key_a});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "checkpoint_signature")) << r.out;
}

// The check reads a body for a rotation statement only where the skeleton
// keeps the rotation's category. An attacker who changes that category to
// hide the rotation gains nothing: the new key stays untrusted, so the
// checkpoints it signed are findings, and the leaf check names the record.
TEST_F(KeyRotationE2E, AHiddenRotationLeavesTheNewKeyUntrusted) {
  const std::string key_a = VerifierKeyOf(dir_.Sub("a.pem"));
  Start(dir_.Sub("a.pem"));
  Append("acme", 3, "before-");
  CheckpointAt("acme", 3);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_EQ(Statement(dir_.Sub("a.pem"), dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt")).exit_code, 0);
  Start(dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));
  Append("acme", 2, "after-");
  CheckpointAt("acme", 6);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_EQ(Check({"--key", key_a}).exit_code, 0);

  // Seq 4 is the rotation record: its skeleton now claims "access". It is
  // in the last of acme's rows of skeletons at or before key(acme, 4) (a
  // run, layout.h): that row is read, edited and put back with ldb.
  CommandResult scan = RunCommand({"/usr/bin/ldb", "--db=" + dir_.Sub("data"),
                                   std::string("--column_family=") + store::kSkeletonsCf,
                                   "--hex", "scan", "--from=0x" + chain::ToHex(store::SeqKey("acme", 0)),
                                   "--to=0x" + chain::ToHex(store::SeqKey("acme", 5))});
  ASSERT_EQ(scan.exit_code, 0) << scan.out << scan.err;
  std::string row_key, row;
  for (absl::string_view line : absl::StrSplit(scan.out, '\n', absl::SkipEmpty())) {
    const size_t arrow = line.find(" : 0x");
    ASSERT_TRUE(absl::StartsWith(line, "0x") && arrow != absl::string_view::npos) << line;
    row_key = absl::HexStringToBytes(line.substr(2, arrow - 2));
    row = absl::HexStringToBytes(line.substr(arrow + 5));
  }
  std::string_view tenant;
  uint64_t first = 0, seq = 0;
  ASSERT_TRUE(store::ParseSeqKey(row_key, &tenant, &first) && first <= 4) << scan.out;
  store::BodyRun run(first, row);
  std::string_view skeleton;
  std::string edited;
  bool found = false;
  while (run.Next(&seq, &skeleton)) {
    if (seq == 4) {
      ASSERT_GT(skeleton.size(), store::kSkeletonSize);
      ASSERT_EQ(skeleton.substr(store::kSkeletonSize), "indelible.key");
      store::AppendToSkeletonRun(
          &edited, seq, std::string(skeleton.substr(0, store::kSkeletonSize)) + "access");
      found = true;
    } else {
      store::AppendToSkeletonRun(&edited, seq, skeleton);
    }
  }
  ASSERT_TRUE(found && !run.malformed()) << scan.out;
  LdbPut(store::kSkeletonsCf, row_key, edited);

  CommandResult r = Check({"--key", key_a});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "checkpoint_signature")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "tree_node_mismatch")) << r.out;

  // Where nothing compares the skeleton's category with the body's (the
  // tree marker changed to the v1 layout or to none), every body is read:
  // an auditor trusting only C still gets the statement's finding.
  const std::string key_c = VerifierKeyOf(dir_.Sub("c.pem"));
  for (const std::string marker : {std::string(store::kTreeMarkerV1), std::string("none")}) {
    LdbPut("default", store::kTreeMarkerKey, marker);
    CommandResult c = Check({"--key", key_c});
    EXPECT_EQ(c.exit_code, 1) << marker << ": " << c.out << c.err;
    EXPECT_TRUE(absl::StrContains(c.out, "key_rotation")) << marker << ": " << c.out;
  }
}

// Clients follow the rotation too: verify-receipt from the statement they
// are given, check --remote from the statement in the chain it streams.
TEST_F(KeyRotationE2E, ClientsTrustingTheOldKeyFollowTheStatement) {
  const std::string key_a = VerifierKeyOf(dir_.Sub("a.pem"));
  Start(dir_.Sub("a.pem"));
  Append("acme", 3, "before-");
  CheckpointAt("acme", 3);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_EQ(Statement(dir_.Sub("a.pem"), dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt")).exit_code,
            0);
  Start(dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));

  // A receipt of a record appended after the rotation (the rotation record
  // is seq 4).
  CommandResult appended = Cli({"append", "--json", "--tenant", "acme", "--event-id",
                                "after-0", "--actor-id", "alice", "--action", "customer.read"});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  const uint64_t seq = nlohmann::json::parse(appended.out)["seq"].get<uint64_t>();
  ASSERT_GT(seq, 4u);
  const std::string receipt = dir_.Sub("receipt.json");
  std::ofstream(receipt) << appended.out;
  CheckpointAt("acme", seq);
  auto verify_receipt = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"verify-receipt", receipt, "--verifier-key", key_a,
                                     "--wait", "30s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args);
  };
  // Trusting A alone: the checkpoint is signed by B, not verified (3).
  CommandResult without = verify_receipt({});
  EXPECT_EQ(without.exit_code, 3) << without.out << without.err;
  EXPECT_TRUE(absl::StrContains(without.err, "signed by no trusted key")) << without.err;
  CommandResult with = verify_receipt({"--rotation", dir_.Sub("a-to-b.txt")});
  EXPECT_EQ(with.exit_code, 0) << with.out << with.err;
  EXPECT_TRUE(absl::StrContains(with.out, absl::StrCat("verified: tenant acme seq ", seq)))
      << with.out;

  // The remote check trusting A follows the statement the chain carries.
  auto remote = [&](const std::string& tenant, std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "check", "--remote",
                                     daemon_->target(), "--tenant", tenant, "--key", key_a};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  };
  const std::string state = dir_.Sub("audit-state");
  CommandResult followed = remote("acme", {"--state", state});
  EXPECT_EQ(followed.exit_code, 0) << followed.out << followed.err;
  EXPECT_TRUE(absl::StrContains(followed.out, "seq 4: key rotation followed")) << followed.out;
  std::ifstream kept(state);
  std::stringstream kept_text;
  kept_text << kept.rdbuf();
  EXPECT_TRUE(absl::StrContains(kept_text.str(), "indelible trusted state v2"))
      << kept_text.str();
  EXPECT_TRUE(absl::StrContains(kept_text.str(), "key " + VerifierKeyOf(dir_.Sub("b.pem"))))
      << kept_text.str();

  // A tenant created after the rotation carries the statement in its chain
  // (before its first checkpoint): verified from A alone.
  Append("initech", 2, "new-");
  CheckpointAt("initech", 3);
  CommandResult bare = remote("initech", {});
  EXPECT_EQ(bare.exit_code, 0) << bare.out << bare.err;
  EXPECT_TRUE(absl::StrContains(bare.out, ": key rotation followed")) << bare.out;
  CommandResult supplied = remote("initech", {"--rotation", dir_.Sub("a-to-b.txt")});
  EXPECT_EQ(supplied.exit_code, 0) << supplied.out << supplied.err;
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
}

// A report exported after the rotation: its checkpoint_v2 and range proof
// are signed by B. An auditor trusting A verifies it with the statement
// (verify-report --rotation), and not without.
TEST_F(KeyRotationE2E, VerifyReportFollowsTheRotation) {
  const std::string key_a = VerifierKeyOf(dir_.Sub("a.pem"));
  Start(dir_.Sub("a.pem"));
  Append("acme", 3, "before-");
  CheckpointAt("acme", 3);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  ASSERT_EQ(Statement(dir_.Sub("a.pem"), dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt")).exit_code,
            0);
  ASSERT_EQ(Statement(dir_.Sub("c.pem"), dir_.Sub("b.pem"), dir_.Sub("c-to-b.txt")).exit_code,
            0);
  Start(dir_.Sub("b.pem"), dir_.Sub("a-to-b.txt"));
  Append("acme", 2, "after-");  // seq 5, 6 (the rotation record is seq 4)
  bool signed_v2 = false;
  for (int i = 0; i < 200 && !signed_v2; ++i) {
    CommandResult r = Cli({"checkpoint", "--v2", "--tenant", "acme", "--min-seq", "6"});
    signed_v2 = r.exit_code == 0;
    if (!signed_v2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(signed_v2);
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();

  // The report is signed by the auditor's own key D.
  ASSERT_EQ(RunCommand({BinPath("indelible"), "keygen", "--out", dir_.Sub("d.pem")}).exit_code,
            0);
  const std::string report = dir_.Sub("acme.json");
  CommandResult exported = RunCommand(
      {BinPath("indelible-verify"), "export", "--data-dir", dir_.Sub("data"), "--tenant", "acme",
       "--format", "json", "--out", report, "--sign-key", dir_.Sub("d.pem"), "--key", key_a});
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  auto verify = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinPath("indelible-verify"), "verify-report", "--report",
                                     report, "--key", VerifierKeyOf(dir_.Sub("d.pem")),
                                     "--key", key_a, "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  };
  // Trusting A alone: B's checkpoints prove nothing (3).
  CommandResult without = verify({});
  EXPECT_EQ(without.exit_code, 3) << without.out << without.err;
  EXPECT_EQ(nlohmann::json::parse(without.out)["checkpoint_v2"]["log_signed"], false)
      << without.out;
  // With A's statement: B signed the head's checkpoint and the proof's.
  CommandResult with = verify({"--rotation", dir_.Sub("a-to-b.txt")});
  ASSERT_EQ(with.exit_code, 0) << with.out << with.err;
  auto j = nlohmann::json::parse(with.out);
  EXPECT_EQ(j["verdict"], "genuine");
  EXPECT_EQ(j["checkpoint_v2"]["log_signed"], true);
  EXPECT_EQ(j["proof"]["log_signed"], true);
  EXPECT_GE(j["verified_range"]["last_seq"], 6);
  // A statement by a key not trusted leads nowhere: usage (2), named.
  CommandResult bad = verify({"--rotation", dir_.Sub("c-to-b.txt")});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "--rotation: rotation statement to ")) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "which no trusted key leads to")) << bad.err;
  // A rotated key vouches for checkpoints only, never for the report's
  // signer: a report signed by B is not trusted as the auditor's.
  const std::string by_b = dir_.Sub("by-b.json");
  ASSERT_EQ(RunCommand({BinPath("indelible-verify"), "export", "--data-dir", dir_.Sub("data"),
                        "--tenant", "acme", "--format", "json", "--out", by_b, "--sign-key",
                        dir_.Sub("b.pem"), "--key", key_a})
                .exit_code,
            0);
  CommandResult signer_b =
      RunCommand({BinPath("indelible-verify"), "verify-report", "--report", by_b, "--key", key_a,
                  "--rotation", dir_.Sub("a-to-b.txt")});
  EXPECT_EQ(signer_b.exit_code, 1) << signer_b.out;
  EXPECT_TRUE(absl::StrContains(signer_b.out, "which is not a trusted key")) << signer_b.out;
}

}  // namespace
}  // namespace indelible
