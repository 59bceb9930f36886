// Signed reports end to end: the real daemon writes, `indelible-verify
// export` reports, `verify-report` and plain openssl check the result.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "tests/witness/witness_process.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/note.h"
#include "verifier/chain/signing.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class ReportE2E : public ::testing::Test {
 protected:
  static inline testing::SuitePreparation suite_;
  static void PrepareSuite() {
    dir_ = new TempDir();
    auto d = DaemonProcess::Start({.data_dir = dir_->Sub("data")});
    ASSERT_TRUE(d.ok()) << d.status();
    {
      client::ClientOptions o;
      o.target = (*d)->target();
      auto c = client::Client::Connect(o);
      ASSERT_TRUE(c.ok());
      for (int i = 0; i < 30; ++i) {
        v1::Event e;
        e.set_tenant(i % 3 == 0 ? "globex" : "acme");
        e.set_event_id("e" + std::to_string(i));
        e.set_occurred_at_ns(1700000000000000000ull + i * 1000000000ull);
        e.mutable_actor()->set_id(i % 2 ? "alice" : "bob");
        e.set_action(i % 5 ? "customer.read" : "customer.delete");
        e.set_reason("ticket, \"T-" + std::to_string(i) + "\"\nsecond line");
        auto* m = e.add_metadata();
        m->set_key("region");
        m->set_value("eu");
        ASSERT_TRUE((*c)->Append(e).ok());
      }
      // Cells a spreadsheet would run as formulas.
      v1::Event e;
      e.set_tenant("initech");
      e.set_event_id("f1");
      e.mutable_actor()->set_id("-2+3");
      e.set_action("=HYPERLINK(\"http://x\",\"y\")");
      e.set_reason("@SUM(A1)");
      e.set_outcome("allowed");
      ASSERT_TRUE((*c)->Append(e).ok());
    }
    ASSERT_EQ((*d)->Stop(), 0);
    // The report signer's key, as a compliance officer would make it.
    auto key = chain::Ed25519PrivateKey::Generate();
    Spit(dir_->Sub("signer.pem"), key->PrivateKeyPem());
    chmod(dir_->Sub("signer.pem").c_str(), 0600);
    Spit(dir_->Sub("signer.pub.pem"), key->PublicKeyPem());
  }
  void SetUp() override {
    suite_.Run(&PrepareSuite);
    ASSERT_TRUE(suite_.ok) << "the suite's set-up failed (see the first test)";
  }
  static void TearDownTestSuite() { delete dir_; }

  testing::CommandResult Verify(std::vector<std::string> args) {
    args.insert(args.begin(), BinPath("indelible-verify"));
    return RunCommand(args);
  }
  testing::CommandResult Export(const std::string& out, std::vector<std::string> extra,
                                const std::string& data = "") {
    std::vector<std::string> args = {"export", "--data-dir", data.empty() ? dir_->Sub("data") : data,
                                     "--tenant", "acme", "--out", out,
                                     "--sign-key", dir_->Sub("signer.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    return Verify(args);
  }
  testing::CommandResult Openssl(const std::string& file) {
    return RunCommand({"/usr/bin/openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                       dir_->Sub("signer.pub.pem"), "-rawin", "-in", file, "-sigfile",
                       file + ".sig"});
  }

  // The daemon's checkpoint key: what the range proof's checkpoint is
  // signed with.
  static std::string LogKey() {
    return testing::VerifierKeyOf(dir_->Sub("data.signing-key.pem"));
  }

  static TempDir* dir_;
};
TempDir* ReportE2E::dir_ = nullptr;

TEST_F(ReportE2E, CsvReportIsGenuineForVerifierAndPlainOpenssl) {
  const std::string out = dir_->Sub("acme.csv");
  Spit(out + ".sig", "a signature left by an earlier export");
  auto r = Export(out, {"--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Only the manifest is signed; a stale report signature is removed.
  struct stat st;
  EXPECT_NE(stat((out + ".sig").c_str(), &st), 0);
  const std::string csv = Slurp(out);
  auto manifest = nlohmann::json::parse(Slurp(out + ".manifest.json"));
  EXPECT_EQ(manifest["tenant"], "acme");
  EXPECT_EQ(manifest["row_count"], 20);
  EXPECT_EQ(manifest["verified_range"]["first_seq"], 1);
  EXPECT_EQ(manifest["verified_range"]["last_seq"], 20);
  EXPECT_EQ(manifest["report"]["bytes"], csv.size());
  EXPECT_EQ(manifest["checkpoints"].size(), 1u);  // the daemon's newest
  // RFC 4180: header, CRLF, quoted fields with doubled quotes and newlines.
  EXPECT_EQ(csv.rfind("tenant,seq,received_at,occurred_at,event_id", 0), 0u);
  EXPECT_NE(csv.find("\"ticket, \"\"T-1\"\"\nsecond line\""), std::string::npos);
  EXPECT_NE(csv.find("2023-11-14T22:13:21.000000000Z"), std::string::npos);

  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("GENUINE: ", 0), 0u) << r.out;

  // Without a trusted key nothing is verified: exit 3, never 0.
  r = Verify({"verify-report", "--report", out});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("NOT VERIFIED (no trusted key): ", 0), 0u) << r.out;

  // Without Indelible code, exactly as docs/REPORTS.md says: openssl
  // checks the manifest's signature, and the report's SHA-256 is the
  // manifest's report.sha256.
  r = Openssl(out + ".manifest.json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Signature Verified Successfully"), std::string::npos);
  auto dgst = [&out] {
    auto d = RunCommand({"/usr/bin/openssl", "dgst", "-sha256", "-r", out});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    return d.out.substr(0, 64);
  };
  EXPECT_EQ(dgst(), manifest["report"]["sha256"]);

  // One changed byte: the digest no longer matches, for both.
  std::string tampered = csv;
  tampered[tampered.find("alice")] = 'A';
  Spit(out, tampered);
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("problem: report: SHA-256 differs from the manifest's"),
            std::string::npos) << r.out;
  EXPECT_NE(dgst(), manifest["report"]["sha256"]);
  EXPECT_EQ(Openssl(out + ".manifest.json").exit_code, 0);
  // A changed manifest: its signature fails, for both.
  Spit(out, csv);
  const std::string m = Slurp(out + ".manifest.json");
  const std::string count = "\"row_count\": 20";
  ASSERT_NE(m.find(count), std::string::npos) << m;
  Spit(out + ".manifest.json",
       std::string(m).replace(m.find(count), count.size(), "\"row_count\": 21"));
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("problem: manifest: signature does not verify"), std::string::npos)
      << r.out;
  EXPECT_NE(Openssl(out + ".manifest.json").exit_code, 0);
  Spit(out + ".manifest.json", m);
}

TEST_F(ReportE2E, JsonReportRowsRecomputeAndFiltersApply) {
  const std::string out = dir_->Sub("bob.json");
  auto r = Export(out, {"--format", "json", "--actor", "bob", "--action", "customer.read",
                        "--time-field", "occurred_at", "--from", "2023-11-14T22:13:22Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(Slurp(out));
  auto manifest = nlohmann::json::parse(Slurp(out + ".manifest.json"));
  ASSERT_FALSE(report["rows"].empty());
  for (const auto& row : report["rows"]) {
    EXPECT_EQ(row["actor_id"], "bob");
    EXPECT_EQ(row["action"], "customer.read");
    EXPECT_GE(std::stoull(row["occurred_at_ns"].get<std::string>()), 1700000002000000000ull);
  }
  EXPECT_EQ(manifest["row_count"], report["rows"].size());
  EXPECT_EQ(manifest["filters"]["actor_id"], "bob");
  r = Verify({"verify-report", "--report", out, "--json", "--key-pem",
              dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["genuine"], true);

  // A verifier key that is not the signer's: not genuine.
  auto other = chain::Ed25519PrivateKey::Generate();
  Spit(dir_->Sub("other.pub.pem"), other->PublicKeyPem());
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("other.pub.pem")});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("not a trusted key"), std::string::npos);
}

// A forgery: a genuine report re-signed with the attacker's own key
// (made with openssl), whose manifest claims the victim's key id.
TEST_F(ReportE2E, ReportReSignedByAnotherKeyIsForged) {
  const std::string out = dir_->Sub("forged.csv");
  ASSERT_EQ(Export(out, {"--format", "csv"}).exit_code, 0);
  const std::string attacker = dir_->Sub("attacker.pem");
  ASSERT_EQ(RunCommand({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out",
                        attacker}).exit_code, 0);
  auto pub = RunCommand({"/usr/bin/openssl", "pkey", "-in", attacker, "-pubout"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;

  // The rows changed, digest and size recomputed, the attacker's key in the
  // manifest under the victim's key id, the manifest signed by the attacker.
  std::string csv = Slurp(out);
  csv[csv.find("alice")] = 'A';
  Spit(out, csv);
  auto manifest = nlohmann::ordered_json::parse(Slurp(out + ".manifest.json"));
  const std::string victim_id = manifest["signer"]["key_id"];
  manifest["signer"]["public_key_pem"] = pub.out;
  auto sha = RunCommand({"/usr/bin/openssl", "dgst", "-sha256", "-r", out});
  ASSERT_EQ(sha.exit_code, 0);
  manifest["report"]["sha256"] = sha.out.substr(0, 64);
  manifest["report"]["bytes"] = csv.size();
  Spit(out + ".manifest.json", manifest.dump(2) + "\n");
  const std::string f = out + ".manifest.json";
  ASSERT_EQ(RunCommand({"/usr/bin/openssl", "pkeyutl", "-sign", "-inkey", attacker, "-rawin",
                        "-in", f, "-out", f + ".sig"}).exit_code, 0);
  auto raw = chain::PublicKeyFromPem(pub.out);
  ASSERT_TRUE(raw.ok());
  const std::string attacker_id =
      absl::StrFormat("%08x", chain::NoteKeyId("indelible-report", *raw));
  ASSERT_NE(attacker_id, victim_id);

  // With the victim's key: forged.
  auto r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("NOT GENUINE: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("signed by key " + attacker_id + ", which is not a trusted key"),
            std::string::npos) << r.out;
  // The signer line does not call the attacker's key trusted.
  EXPECT_EQ(r.out.find("computed from the key): a trusted key"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("computed from the key): NOT a trusted key"), std::string::npos) << r.out;
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["key_trusted"], false) << r.out;
  // With no key: the changed row is caught all the same (its cells no
  // longer hash to its entry hash), and the key id shown is the attacker's.
  r = Verify({"verify-report", "--report", out});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("NOT GENUINE: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("problem: proof: seq 1: the row's cells, salt and received_at do not "
                       "hash to its entry_hash"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(key id " + attacker_id + ", computed from the key)"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signer.key_id " + victim_id + " is not the id of the key it carries"),
            std::string::npos) << r.out;
  r = Verify({"verify-report", "--report", out, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "not_genuine");
  EXPECT_EQ(j["genuine"], false);
  EXPECT_EQ(j["key_trusted"], false);
  EXPECT_EQ(j["signer_key_id"], attacker_id);
}

// An export that matches nothing is written (a signed "no such event"), and
// says so.
TEST_F(ReportE2E, ExportMatchingNothingSaysSo) {
  const std::string out = dir_->Sub("nobody.csv");
  auto r = Export(out, {"--actor", "nobody"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no event of acme matched the filters (20 records checked)"),
            std::string::npos) << r.err;
  EXPECT_EQ(nlohmann::json::parse(Slurp(out + ".manifest.json"))["row_count"], 0);
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // A matching export prints no such line.
  r = Export(dir_->Sub("alice.csv"), {"--actor", "alice"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("matched"), std::string::npos) << r.err;
}

TEST_F(ReportE2E, ExportRefusesAChainThatDoesNotVerify) {
  const std::string copy = dir_->Sub("damaged");
  indelible::testing::CopyTree(dir_->Sub("data"), copy);
  {
    indelible::testing::RawStore raw(copy);
    auto body = raw.GetBody("acme", 5);
    ASSERT_TRUE(body.has_value());
    std::string changed = *body;
    changed.back() ^= 1;
    raw.PutBody("acme", 5, changed);
  }
  const std::string out = dir_->Sub("damaged.csv");
  auto r = Export(out, {}, copy);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("body_digest_mismatch"), std::string::npos) << r.err;
  struct stat st;
  EXPECT_NE(stat(out.c_str(), &st), 0) << "nothing may be written";
}

// The manifest carries the daemon's v2 checkpoint of the head; this daemon
// has no witnesses, so with a witness policy a genuine report is below
// quorum (3), never 0.
TEST_F(ReportE2E, WitnessPolicyWithoutCosignaturesIsBelowQuorum) {
  const std::string out = dir_->Sub("witnessed.json");
  ASSERT_EQ(Export(out, {"--format", "json"}).exit_code, 0);
  auto manifest = nlohmann::json::parse(Slurp(out + ".manifest.json"));
  ASSERT_TRUE(manifest["checkpoint_v2"].is_string()) << manifest.dump(2);
  EXPECT_NE(manifest["checkpoint_v2"].get<std::string>().find("\n20\n"), std::string::npos);
  const std::string log_key = testing::VerifierKeyOf(dir_->Sub("data.signing-key.pem"));
  chain::Cosigner w("witness.example/w1", *chain::Ed25519PrivateKey::Generate());
  auto r = Verify({"verify-report", "--report", out, "--json", "--key-pem",
                   dir_->Sub("signer.pub.pem"), "--key", log_key, "--witness",
                   chain::CosignerKeyString(w.key())});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "below_quorum");
  EXPECT_EQ(j["genuine"], false);
  EXPECT_EQ(j["problems"], nlohmann::json::array());
  EXPECT_EQ(j["checkpoint_v2"]["log_signed"], true);
  EXPECT_NE(j["notes"].dump().find("cosigned by 0 of the 1 witnesses required"),
            std::string::npos)
      << r.out;
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--key", log_key, "--witness", chain::CosignerKeyString(w.key())});
  EXPECT_EQ(r.out.rfind("NOT VERIFIED (below witness quorum): ", 0), 0u) << r.out;
  // Without a policy the note's signature and binding are checked, and the
  // report is genuine.
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--key", log_key});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("v2 checkpoint of the head: signed by a trusted key"), std::string::npos)
      << r.out;
  // With a policy the log's signature must be checked: without its key
  // nothing is proven, and nothing wrong shown: not verified (3), fail closed.
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--witness", chain::CosignerKeyString(w.key()), "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "no_trusted_log_key") << r.out;
  EXPECT_EQ(j["problems"], nlohmann::json::array()) << r.out;
  EXPECT_NE(j["notes"].dump().find("checkpoint_v2: not signed by a trusted key"),
            std::string::npos)
      << r.out;
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--witness", chain::CosignerKeyString(w.key())});
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_EQ(r.out.rfind("NOT VERIFIED (no trusted log key): ", 0), 0u) << r.out;
  // Tampering is still a problem (1) whatever the policy.
  std::string text = Slurp(out);
  text[text.find("alice")] = 'A';
  Spit(out, text);
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--key", log_key, "--witness", chain::CosignerKeyString(w.key())});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  // A bad policy is a usage error.
  EXPECT_EQ(Verify({"verify-report", "--report", out, "--witness", "nope"}).exit_code, 2);
}

// Without a stored v2 checkpoint of the head the manifest's checkpoint_v2 is
// null, and with no other v2 checkpoint of the tenant the report has no
// range proof: not verified (3), as it is with a witness policy.
TEST_F(ReportE2E, NoCheckpointOfTheHeadIsNullAndBelowQuorum) {
  const std::string data = dir_->Sub("data-no-cp2");
  std::filesystem::copy(dir_->Sub("data"), data, std::filesystem::copy_options::recursive);
  {
    testing::RawStore raw(data);
    raw.Delete(store::kCheckpointsV2Cf, store::SeqKey("acme", 20));
  }
  const std::string out = dir_->Sub("nocp2.csv");
  ASSERT_EQ(Export(out, {}, data).exit_code, 0);
  auto manifest = nlohmann::json::parse(Slurp(out + ".manifest.json"));
  EXPECT_TRUE(manifest["checkpoint_v2"].is_null()) << manifest.dump(2);
  EXPECT_TRUE(manifest["proof"].is_null()) << manifest.dump(2);
  auto r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("NOT VERIFIED (completeness not proven): ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("the report has no range proof"), std::string::npos) << r.out;
  chain::Cosigner w("witness.example/w1", *chain::Ed25519PrivateKey::Generate());
  r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"),
              "--witness", chain::CosignerKeyString(w.key())});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("checkpoint_v2 is null"), std::string::npos) << r.out;
}

// A daemon whose checkpoints a real witness cosigns: the report carries the
// cosigned note of its head and meets the policy; a second, absent witness
// makes it below quorum; a note of another size, put into a manifest
// re-signed with the report key, is refused naming the binding.
TEST(ReportWitnessedE2E, CosignedCheckpointOfTheHeadMeetsThePolicy) {
  TempDir dir;
  const std::string log_key_file = dir.Sub("log.pem");
  auto k = RunCommand({BinPath("indelible-witness"), "keygen", "--name", "log", "--out",
                       log_key_file});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string log_vkey = testing::VerifierKeyOf(log_key_file, "audit.test");
  const std::string wkey = dir.Sub("witness.pem");
  k = RunCommand({BinPath("indelible-witness"), "keygen", "--name", "witness.test/w1", "--out",
                  wkey});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string wvkey = k.out.substr(0, k.out.size() - 1);
  Spit(dir.Sub("witness.yaml"),
       "name: witness.test/w1\nkey_file: " + wkey + "\nstate_dir: " + dir.Sub("wstate") +
           "\nlisten: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\nlogs:\n"
           "  - origin_prefix: audit.test/\n    keys: [\"" + log_vkey + "\"]\n");
  witness::testing::WitnessProcess w(dir.Sub("witness.yaml"), dir.Sub("witness.port"),
                                     dir.Sub("witness.log"));
  ASSERT_TRUE(w.Start());
  Spit(dir.Sub("daemon.yaml"),
       "log_name: audit.test\nkey_name: audit.test\nsigning_key_file: " + log_key_file +
           "\ncheckpoint_interval_ms: 50\nwitnesses:\n  - name: witness.test/w1\n"
           "    url: \"http://127.0.0.1:" + std::to_string(w.port()) + "\"\n    key: \"" +
           wvkey + "\"\n");
  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--config", dir.Sub("daemon.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  const std::vector<std::string> policy1 = {"--key", log_vkey, "--witness", wvkey};
  // Appends `n` events, then waits (bounded) until the checkpoint of the
  // head is cosigned.
  auto append = [&](int n) {
    std::string receipt;
    for (int i = 0; i < n; ++i) {
      auto r = RunCommand({BinPath("indelible"), "--target", (*d)->target(), "append", "--json",
                           "--tenant", "acme", "--actor-id", "svc", "--action", "doc.read"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      receipt = r.out;
    }
    std::vector<std::string> vr = {BinPath("indelible"), "--target", (*d)->target(),
                                   "verify-receipt", "--wait", "30s"};
    vr.insert(vr.end(), policy1.begin(), policy1.end());
    auto r = RunCommand(vr, receipt);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  ASSERT_NO_FATAL_FAILURE(append(2));
  ASSERT_NO_FATAL_FAILURE(append(2));
  ASSERT_EQ((*d)->Stop(), 0) << (*d)->Log();
  std::string note2;
  {
    testing::RawStore raw(dir.Sub("data"));
    auto head = raw.Get(store::kCheckpointsV2Cf, store::SeqKey("acme", 4));
    ASSERT_TRUE(head.has_value());
    ASSERT_NE(head->find("\xe2\x80\x94 witness.test/w1 "), std::string::npos) << *head;
    auto two = raw.Get(store::kCheckpointsV2Cf, store::SeqKey("acme", 2));
    ASSERT_TRUE(two.has_value());
    note2 = *two;
  }

  auto report_key = chain::Ed25519PrivateKey::Generate();
  ASSERT_TRUE(report_key.ok());
  Spit(dir.Sub("report.pem"), report_key->PrivateKeyPem());
  chmod(dir.Sub("report.pem").c_str(), 0600);
  Spit(dir.Sub("report.pub.pem"), report_key->PublicKeyPem());
  const std::string out = dir.Sub("acme.json");
  auto r = RunCommand({BinPath("indelible-verify"), "export", "--data-dir", dir.Sub("data"),
                       "--tenant", "acme", "--out", out, "--format", "json", "--sign-key",
                       dir.Sub("report.pem"), "--key", log_vkey});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string manifest_path = out + ".manifest.json";
  auto manifest = nlohmann::ordered_json::parse(Slurp(manifest_path));
  ASSERT_EQ(manifest["verified_range"]["last_seq"], 4);
  ASSERT_TRUE(manifest["checkpoint_v2"].is_string()) << manifest.dump(2);
  EXPECT_NE(manifest["checkpoint_v2"].get<std::string>().find("\xe2\x80\x94 witness.test/w1 "),
            std::string::npos);

  auto verify = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {BinPath("indelible-verify"), "verify-report", "--report",
                                     out, "--json", "--key-pem", dir.Sub("report.pub.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCommand(args);
  };
  r = verify(policy1);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "genuine");
  EXPECT_EQ(j["checkpoint_v2"]["log_signed"], true);
  EXPECT_EQ(j["checkpoint_v2"]["cosigned"], nlohmann::json{"witness.test/w1"});
  // The same policy as a file.
  Spit(dir.Sub("policy.txt"), "witness " + wvkey + "\nquorum 1\n");
  r = verify({"--key", log_vkey, "--witness-policy", dir.Sub("policy.txt")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Quorum 2 with a second witness that never cosigned: below quorum.
  const chain::Cosigner absent("witness.test/absent", *chain::Ed25519PrivateKey::Generate());
  r = verify({"--key", log_vkey, "--witness", wvkey, "--witness",
              chain::CosignerKeyString(absent.key()), "--quorum", "2"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "below_quorum");
  EXPECT_NE(j["notes"].dump().find("missing: witness.test/absent"), std::string::npos) << r.out;

  // An attacker holding the report key swaps in the cosigned note of size
  // 2 and re-signs the manifest: the binding to the head is refused.
  manifest["checkpoint_v2"] = note2;
  const std::string forged = manifest.dump(2) + "\n";
  Spit(manifest_path, forged);
  Spit(manifest_path + ".sig", report_key->Sign(forged));
  r = verify(policy1);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "not_genuine");
  EXPECT_NE(j["problems"].dump().find(
                "checkpoint_v2: size 2, not the manifest's head seq (verified_range.last_seq) 4"),
            std::string::npos)
      << r.out;
  EXPECT_NE(j["problems"].dump().find("is not the manifest's head_hash"), std::string::npos)
      << r.out;
  // Without a policy the binding is checked all the same.
  r = verify({"--key", log_vkey});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;

  // A window closed by seq 3: the range proof ends at a cosigned checkpoint
  // at or after it (4 here, or 3 if the witness cosigned one of that size),
  // so the report meets the policy.
  uint64_t received3 = 0;
  {
    testing::RawStore raw(dir.Sub("data"));
    auto skeleton = raw.GetSkeleton("acme", 3);
    ASSERT_TRUE(skeleton.has_value());
    received3 = chain::DecodeU64(skeleton->data());
  }
  const std::string windowed = dir.Sub("to3.json");
  r = RunCommand({BinPath("indelible-verify"), "export", "--data-dir", dir.Sub("data"),
                  "--tenant", "acme", "--out", windowed, "--format", "json", "--sign-key",
                  dir.Sub("report.pem"), "--to", std::to_string(received3)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(Slurp(windowed + ".manifest.json"))["row_count"], 2);
  std::vector<std::string> args = {BinPath("indelible-verify"), "verify-report", "--report",
                                   windowed, "--json", "--key-pem", dir.Sub("report.pub.pem")};
  args.insert(args.end(), policy1.begin(), policy1.end());
  r = RunCommand(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["complete"], true) << r.out;
  EXPECT_GE(j["proof"]["last_seq"].get<uint64_t>(), 3u) << r.out;
}

TEST_F(ReportE2E, UsageErrorsExitTwo) {
  EXPECT_EQ(Verify({"export", "--data-dir", dir_->Sub("data"), "--tenant", "acme"}).exit_code, 2);
  EXPECT_EQ(Export(dir_->Sub("x.csv"), {"--format", "xml"}).exit_code, 2);
  EXPECT_EQ(Export(dir_->Sub("x.csv"), {"--from", "yesterday"}).exit_code, 2);
  EXPECT_EQ(Verify({"verify-report", "--report", dir_->Sub("missing.csv")}).exit_code, 2);
  // A loosely protected signing key is refused.
  Spit(dir_->Sub("loose.pem"), Slurp(dir_->Sub("signer.pem")));
  chmod(dir_->Sub("loose.pem").c_str(), 0644);
  auto r = Verify({"export", "--data-dir", dir_->Sub("data"), "--tenant", "acme", "--out",
                   dir_->Sub("y.csv"), "--sign-key", dir_->Sub("loose.pem")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("0644"), std::string::npos) << r.err;
}

TEST_F(ReportE2E, CsvFormulasAreDefusedUnlessKept) {
  auto run = [this](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"export", "--data-dir", dir_->Sub("data"), "--tenant",
                                     "initech", "--out", out, "--sign-key",
                                     dir_->Sub("signer.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Verify(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = Verify({"verify-report", "--report", out, "--key-pem", dir_->Sub("signer.pub.pem"), "--key", LogKey()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return std::make_pair(Slurp(out),
                          nlohmann::json::parse(Slurp(out + ".manifest.json"))["report"]);
  };
  auto [defused, m] = run(dir_->Sub("initech.csv"), {});
  EXPECT_EQ(m["csv_formulas"], "defuse");
  EXPECT_NE(defused.find(",'-2+3,"), std::string::npos) << defused;
  EXPECT_NE(defused.find(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","), std::string::npos)
      << defused;
  EXPECT_NE(defused.find(",'@SUM(A1),"), std::string::npos) << defused;

  auto [kept, k] = run(dir_->Sub("initech-kept.csv"), {"--csv-formulas", "keep"});
  EXPECT_EQ(k["csv_formulas"], "keep");
  EXPECT_NE(kept.find(",-2+3,"), std::string::npos) << kept;
  EXPECT_NE(kept.find(",\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","), std::string::npos)
      << kept;
  EXPECT_EQ(kept.find('\''), std::string::npos) << kept;

  auto [json, j] = run(dir_->Sub("initech.json"), {"--format", "json"});
  EXPECT_TRUE(j["csv_formulas"].is_null());
  auto row = nlohmann::json::parse(json)["rows"][0];
  EXPECT_EQ(row["actor_id"], "-2+3");
  EXPECT_EQ(row["action"], "=HYPERLINK(\"http://x\",\"y\")");
  EXPECT_EQ(row["reason"], "@SUM(A1)");

  EXPECT_EQ(Export(dir_->Sub("z.csv"), {"--csv-formulas", "maybe"}).exit_code, 2);
}

// Every event here claims an occurred_at in November 2023 and was received
// by the daemon now: back-dated. The default window is on received_at.
TEST_F(ReportE2E, TimeWindowIsOnReceivedAtUnlessOccurredAtIsAsked) {
  const std::string from = "2024-01-01T00:00:00Z";
  const std::string out = dir_->Sub("since-2024.csv");
  auto r = Export(out, {"--from", from});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto manifest = nlohmann::json::parse(Slurp(out + ".manifest.json"));
  EXPECT_EQ(manifest["row_count"], 20);
  EXPECT_EQ(manifest["filters"]["time_field"], "received_at");
  EXPECT_EQ(manifest["filters"]["from"], "2024-01-01T00:00:00.000000000Z");

  const std::string claimed = dir_->Sub("since-2024-occurred.csv");
  r = Export(claimed, {"--from", from, "--time-field", "occurred_at"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  manifest = nlohmann::json::parse(Slurp(claimed + ".manifest.json"));
  EXPECT_EQ(manifest["row_count"], 0);
  EXPECT_EQ(manifest["filters"]["time_field"], "occurred_at");

  EXPECT_EQ(Export(dir_->Sub("t.csv"), {"--time-field", "sent_at"}).exit_code, 2);
}

}  // namespace
}  // namespace indelible
