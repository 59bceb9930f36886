// Reports that are complete by construction, end to end: the real daemon
// (its clock under the test's control) writes three days of events and
// prunes the traces; `indelible-verify export` reports the middle day with
// its range proof; `verify-report` and an independent Python checker
// (tests/e2e/report_check.py) recompute the checkpoint's root from it. A
// holder of the report key who removes, hides, changes or cuts rows and
// re-signs the manifest is caught, naming the seq.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "indelible/v1/indelible.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/harness.h"
#include "tests/verifier/raw_store.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/signing.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;
using Json = nlohmann::ordered_json;

constexpr uint64_t kDay = 86400ull * 1000000000ull;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class ReportProofE2E : public ::testing::Test {
 protected:
  static inline testing::SuitePreparation suite_;
  // Day 0: seqs 1-3 (trace). Day 1: 4 access customer.read, 5 access
  // customer.delete, 6 trace, 7 access customer.read. Day 2: 8-10 access.
  // Then 90 days on: retention records the policy (seq 11) and prunes the
  // traces (1-3 and 6).
  static void PrepareSuite() {
    dir_ = new TempDir();
    // Only the Compact below prunes (and records the policy first): a
    // scheduled compaction after a day's advance would put the policy
    // record between the days' records.
    std::ofstream(dir_->Sub("config.yaml")) << "retention:\n  compaction_interval: 8760h\n";
    auto d = DaemonProcess::Start({.data_dir = dir_->Sub("data"),
                                   .extra_args = {"--config", dir_->Sub("config.yaml"),
                                                  "--testing-manual-clock"}});
    ASSERT_TRUE(d.ok()) << d.status();
    auto channel = grpc::CreateChannel((*d)->target(), grpc::InsecureChannelCredentials());
    auto log = v1::AuditLog::NewStub(channel);
    auto admin = v1::Admin::NewStub(channel);
    int n = 0;
    auto append = [&](const std::string& category, const std::string& action) {
      grpc::ClientContext ctx;
      v1::AppendRequest req;
      v1::AppendResponse resp;
      auto* e = req.mutable_event();
      e->set_tenant("acme");
      e->set_event_id("e" + std::to_string(++n));
      e->mutable_actor()->set_id("alice");
      e->set_action(action);
      e->set_category(category);
      e->set_reason("ticket T-" + std::to_string(n));
      grpc::Status s = log->Append(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    };
    auto advance = [&](uint64_t ns) {
      grpc::ClientContext ctx;
      v1::AdvanceTestClockRequest req;
      req.set_nanos(ns);
      v1::AdvanceTestClockResponse resp;
      ASSERT_TRUE(admin->AdvanceTestClock(&ctx, req, &resp).ok());
    };
    for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(append("trace", "job.run"));
    ASSERT_NO_FATAL_FAILURE(advance(kDay));
    ASSERT_NO_FATAL_FAILURE(append("access", "customer.read"));
    ASSERT_NO_FATAL_FAILURE(append("access", "customer.delete"));
    ASSERT_NO_FATAL_FAILURE(append("trace", "job.run"));
    ASSERT_NO_FATAL_FAILURE(append("access", "customer.read"));
    ASSERT_NO_FATAL_FAILURE(advance(kDay));
    for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(append("access", "customer.read"));
    ASSERT_NO_FATAL_FAILURE(advance(90 * kDay));
    {
      grpc::ClientContext ctx;
      v1::CompactResponse resp;
      ASSERT_TRUE(admin->Compact(&ctx, {}, &resp).ok());
    }
    // The received_at of every record, and which were pruned.
    {
      grpc::ClientContext ctx;
      v1::ReadRecordsRequest req;
      req.set_tenant("acme");
      auto reader = log->ReadRecords(&ctx, req);
      v1::Record r;
      received_.push_back(0);  // seq 0
      while (reader->Read(&r)) {
        received_.push_back(r.received_at_ns());
        if (r.pruned()) pruned_.push_back(r.seq());
      }
      ASSERT_TRUE(reader->Finish().ok());
    }
    // Seqs 1-10 and 11, the tenant's retention policy on record, which the
    // compaction recorded before it pruned (docs/RETENTION.md).
    ASSERT_EQ(received_.size(), 12u);
    ASSERT_EQ(pruned_, (std::vector<uint64_t>{1, 2, 3, 6}));
    ASSERT_EQ((*d)->Stop(), 0) << (*d)->Log();

    auto key = chain::Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    report_key_ = new chain::Ed25519PrivateKey(*std::move(key));
    Spit(dir_->Sub("report.pem"), report_key_->PrivateKeyPem());
    chmod(dir_->Sub("report.pem").c_str(), 0600);
    Spit(dir_->Sub("report.pub.pem"), report_key_->PublicKeyPem());
    auto pub = RunCommand({"/usr/bin/openssl", "pkey", "-in", dir_->Sub("data.signing-key.pem"),
                           "-pubout", "-out", dir_->Sub("log.pub.pem")});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
  }
  void SetUp() override {
    suite_.Run(&PrepareSuite);
    ASSERT_TRUE(suite_.ok) << "the suite's set-up failed (see the first test)";
  }
  static void TearDownTestSuite() {
    delete report_key_;
    delete dir_;
  }

  // Exports day 1 (received_at in [seq 4's, seq 8's)) to `name`.
  static std::string ExportDay1(const std::string& name, std::vector<std::string> extra = {}) {
    const std::string out = dir_->Sub(name);
    std::vector<std::string> args = {
        BinPath("indelible-verify"), "export", "--data-dir", dir_->Sub("data"), "--tenant",
        "acme", "--out", out, "--sign-key", dir_->Sub("report.pem"),
        "--from", std::to_string(received_[4]), "--to", std::to_string(received_[8])};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunCommand(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return out;
  }
  static testing::CommandResult VerifyReport(const std::string& out) {
    return RunCommand({BinPath("indelible-verify"), "verify-report", "--report", out,
                       "--key-pem", dir_->Sub("report.pub.pem"), "--key-pem",
                       dir_->Sub("log.pub.pem")});
  }
  // The Python checker, written from docs/REPORTS.md alone.
  static testing::CommandResult PythonCheck(const std::string& out) {
    return RunCommand({INDELIBLE_PYTHON3,
                       std::string(INDELIBLE_SOURCE_DIR) + "/tests/e2e/report_check.py", out,
                       dir_->Sub("report.pub.pem"), dir_->Sub("log.pub.pem")});
  }
  // What a holder of the report key can do: new report (and proof) bytes,
  // the manifest's digests and row count to match, the manifest re-signed
  // with the legitimate key.
  static void ReSign(const std::string& out, const std::string& report, uint64_t rows,
                     const std::string* proof = nullptr) {
    Spit(out, report);
    Json m = Json::parse(Slurp(out + ".manifest.json"));
    m["report"]["sha256"] = chain::ToHex(chain::Sha256(report));
    m["report"]["bytes"] = report.size();
    m["row_count"] = rows;
    if (proof != nullptr) {
      Spit(out + ".proof.json", *proof);
      m["proof"]["sha256"] = chain::ToHex(chain::Sha256(*proof));
      m["proof"]["bytes"] = proof->size();
    }
    const std::string bytes = m.dump(2) + "\n";
    Spit(out + ".manifest.json", bytes);
    Spit(out + ".manifest.json.sig", report_key_->Sign(bytes));
  }
  // A JSON report in the exporter's layout (one row a line): the opening
  // line of `original`, then `rows`.
  static std::string JsonReport(const std::string& original, const Json& rows) {
    std::string out = original.substr(0, original.find('\n') + 1);
    for (size_t i = 0; i < rows.size(); ++i) out += (i ? ",\n" : "") + rows[i].dump();
    return out + "\n]}\n";
  }
  // Removes the CSV row of `seq` (rows here have no line breaks inside).
  static std::string WithoutCsvRow(const std::string& csv, uint64_t seq) {
    const std::string start = "\r\nacme," + std::to_string(seq) + ",";
    const size_t at = csv.find(start);
    EXPECT_NE(at, std::string::npos) << csv;
    const size_t end = csv.find("\r\n", at + 2);
    return csv.substr(0, at) + csv.substr(end);
  }

  static TempDir* dir_;
  static chain::Ed25519PrivateKey* report_key_;
  static std::vector<uint64_t> received_;
  static std::vector<uint64_t> pruned_;
};
TempDir* ReportProofE2E::dir_ = nullptr;
chain::Ed25519PrivateKey* ReportProofE2E::report_key_ = nullptr;
std::vector<uint64_t> ReportProofE2E::received_;
std::vector<uint64_t> ReportProofE2E::pruned_;

// Day 1 has a pruned trace (seq 6) among its rows: the report still proves
// complete, in both formats, for indelible-verify and for the Python
// checker; the range starts at seq 3, whose received_at shows it is before
// the window, and reaches past seq 8, the first record after it.
TEST_F(ReportProofE2E, WindowWithPrunedRecordsIsProvenComplete) {
  for (const std::string format : {"csv", "json"}) {
    SCOPED_TRACE(format);
    const std::string out = ExportDay1("day1." + format, {"--format", format});
    const Json m = Json::parse(Slurp(out + ".manifest.json"));
    EXPECT_EQ(m["row_count"], 3);  // seqs 4, 5, 7
    ASSERT_TRUE(m["proof"].is_object()) << m.dump(2);
    EXPECT_EQ(m["proof"]["file"], "day1." + format + ".proof.json");
    EXPECT_EQ(m["proof"]["first_seq"], 3);
    EXPECT_GE(m["proof"]["last_seq"].get<uint64_t>(), 8u);
    EXPECT_EQ(m["proof"]["sha256"], chain::ToHex(chain::Sha256(Slurp(out + ".proof.json"))));
    // The pruned record is a leaf with its category and no content.
    const Json proof = Json::parse(Slurp(out + ".proof.json"));
    bool six = false;
    for (const auto& leaf : proof["leaves"]) {
      if (leaf["seq"] == 6) {
        six = true;
        EXPECT_EQ(leaf["pruned"], true);
        EXPECT_EQ(leaf["category"], "trace");
      }
      EXPECT_EQ(leaf.size(), 6u) << leaf.dump();  // no content field
    }
    EXPECT_TRUE(six) << proof.dump(2);

    auto r = VerifyReport(out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("GENUINE: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("range proof: seqs 3.."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("recomputes: complete"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 record(s) in the window were pruned"), std::string::npos) << r.out;
    r = PythonCheck(out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("complete: seqs 3..", 0), 0u) << r.out;
  }
}

// A window that no record reached: the range is the last record alone,
// whose received_at shows it is before the window.
TEST_F(ReportProofE2E, EmptyWindowIsProvenEmpty) {
  const std::string out = dir_->Sub("later.csv");
  auto r = RunCommand({BinPath("indelible-verify"), "export", "--data-dir", dir_->Sub("data"),
                       "--tenant", "acme", "--out", out, "--sign-key", dir_->Sub("report.pem"),
                       "--from", std::to_string(received_[11] + 1)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json m = Json::parse(Slurp(out + ".manifest.json"));
  EXPECT_EQ(m["row_count"], 0);
  EXPECT_EQ(m["proof"]["first_seq"], 11);
  EXPECT_EQ(m["proof"]["last_seq"], 11);
  r = VerifyReport(out);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = PythonCheck(out);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Its one leaf claimed to be inside the window: caught.
  Json proof = Json::parse(Slurp(out + ".proof.json"));
  proof["leaves"][0]["received_at_ns"] = std::to_string(received_[11] + 2);
  const std::string bytes = proof.dump();
  ReSign(out, Slurp(out), 0, &bytes);
  r = VerifyReport(out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("seq 11: the leaf's entry hash does not follow"), std::string::npos)
      << r.out;
  EXPECT_EQ(PythonCheck(out).exit_code, 1);
}

// A matching row removed, the manifest re-signed with the legitimate key.
TEST_F(ReportProofE2E, RemovedRowReSignedIsCaught) {
  const std::string out = ExportDay1("removed.csv");
  ReSign(out, WithoutCsvRow(Slurp(out), 5), 2);
  auto r = VerifyReport(out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("NOT GENUINE: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("problem: proof: seq 5 is neither a row nor a leaf"), std::string::npos)
      << r.out;
  r = PythonCheck(out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("seq 5"), std::string::npos) << r.out;
}

// The same, with the removed row put into the proof as a leaf (its entry
// hash, category, received_at and body digest are all the attacker needs):
// the leaf's received_at is in the window, so it should have been a row.
TEST_F(ReportProofE2E, RemovedRowHiddenAsALeafIsCaught) {
  const std::string out = ExportDay1("hidden.json", {"--format", "json"});
  Json report = Json::parse(Slurp(out));
  Json proof = Json::parse(Slurp(out + ".proof.json"));
  Json rows = Json::array();
  for (const auto& row : report["rows"]) {
    if (row["seq"] != 5) {
      rows.push_back(row);
      continue;
    }
    Json leaves = Json::array();
    for (const auto& leaf : proof["leaves"]) {
      if (leaf["seq"] == 6) {
        leaves.push_back({{"seq", 5},
                          {"entry_hash", row["entry_hash"]},
                          {"category", row["category"]},
                          {"received_at_ns", row["received_at_ns"]},
                          {"body_digest", row["body_digest"]},
                          {"pruned", false}});
      }
      leaves.push_back(leaf);
    }
    proof["leaves"] = leaves;
  }
  const std::string proof_bytes = proof.dump();
  ReSign(out, JsonReport(Slurp(out), rows), 2, &proof_bytes);
  auto r = VerifyReport(out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("problem: proof: seq 5: a record in the time window and of the category "
                       "asked for is not a row"),
            std::string::npos)
      << r.out;
  r = PythonCheck(out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("seq 5 matches the filters but is not a row"), std::string::npos) << r.out;
}

// A row changed: in JSON, its reason rewritten with the body digest and
// entry hash recomputed from the salt so that the row checks on its own;
// in CSV, its reason cell; and a leaf's category. All re-signed.
TEST_F(ReportProofE2E, ChangedRowReSignedIsCaught) {
  {
    const std::string out = ExportDay1("changed.json", {"--format", "json"});
    Json report = Json::parse(Slurp(out));
    for (auto& row : report["rows"]) {
      if (row["seq"] != 5) continue;
      std::string salt, ce, prev;
      ASSERT_TRUE(chain::Base64Decode(row["salt"].get<std::string>(), &salt));
      ASSERT_TRUE(chain::Base64Decode(row["canonical_event"].get<std::string>(), &ce));
      ASSERT_TRUE(chain::FromHex(row["prev_entry_hash"].get<std::string>(), &prev));
      auto fields = chain::DecodeCanonicalEvent(ce);
      ASSERT_TRUE(fields.ok());
      fields->reason = "nothing to see";
      auto changed = chain::EncodeCanonicalEvent(*fields);
      ASSERT_TRUE(changed.ok());
      const chain::Digest body = chain::BodyDigest(salt, *changed);
      chain::Digest prev_digest;
      ASSERT_TRUE(chain::DigestFromBytes(prev, &prev_digest));
      row["reason"] = fields->reason;
      row["canonical_event"] = chain::Base64Encode(*changed);
      row["body_digest"] = chain::ToHex(body);
      row["entry_hash"] = chain::ToHex(chain::EntryHash(
          "acme", 5, std::stoull(row["received_at_ns"].get<std::string>()), prev_digest, body));
    }
    ReSign(out, JsonReport(Slurp(out), report["rows"]), 3);
    auto r = VerifyReport(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    // Seq 6 (a leaf) no longer follows from seq 5's entry hash.
    EXPECT_NE(r.out.find("problem: proof: seq 6: the leaf's entry hash does not follow"),
              std::string::npos)
        << r.out;
    r = PythonCheck(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("seq 6"), std::string::npos) << r.out;
  }
  {
    // CSV: a displayed cell changed. The cells rebuild the canonical event,
    // which with the salt column no longer hashes to the row's entry_hash.
    const std::string out = ExportDay1("changed.csv");
    std::string csv = Slurp(out);
    const size_t row5 = csv.find("\r\nacme,5,");
    ASSERT_NE(row5, std::string::npos);
    const size_t reason = csv.find(",ticket T-5,", row5);
    ASSERT_NE(reason, std::string::npos);
    csv.replace(reason, 12, ",ticket T-9,");
    ReSign(out, csv, 3);
    auto r = VerifyReport(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("problem: proof: seq 5: the row's cells, salt and received_at do not "
                         "hash to its entry_hash"),
              std::string::npos)
        << r.out;
    r = PythonCheck(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("seq 5: the row's cells do not hash"), std::string::npos) << r.out;
  }
  {
    // A leaf's category changed (a pruned trace passed off as another
    // category): only the root can tell.
    const std::string out = ExportDay1("changed-leaf.csv");
    Json proof = Json::parse(Slurp(out + ".proof.json"));
    for (auto& leaf : proof["leaves"]) {
      if (leaf["seq"] == 6) leaf["category"] = "admin";
    }
    const std::string bytes = proof.dump();
    ReSign(out, Slurp(out), 3, &bytes);
    auto r = VerifyReport(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("is not the checkpoint's: a row or leaf was changed"),
              std::string::npos)
        << r.out;
    r = PythonCheck(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("differs from the checkpoint's"), std::string::npos) << r.out;
  }
}

// The range cut: at its end (the last leaves dropped, the checkpoint kept:
// its size is not the range's end), and at its start (rows before seq 5
// dropped, with the true frontier of the 4 records before it read from the
// store: seq 5 was received inside the window).
TEST_F(ReportProofE2E, ShortenedRangeIsCaught) {
  {
    const std::string out = ExportDay1("short-end.csv");
    Json proof = Json::parse(Slurp(out + ".proof.json"));
    Json leaves = Json::array();
    for (const auto& leaf : proof["leaves"]) {
      if (leaf["seq"].get<uint64_t>() < 8) leaves.push_back(leaf);
    }
    proof["leaves"] = leaves;
    proof["last_seq"] = 7;
    const std::string bytes = proof.dump();
    ReSign(out, Slurp(out), 3, &bytes);
    auto r = VerifyReport(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("but the range ends at seq 7: the range was shortened"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(PythonCheck(out).exit_code, 1);
  }
  {
    const std::string out = ExportDay1("short-start.csv");
    std::string frontier;
    {
      testing::RawStore raw(dir_->Sub("data"));
      // The subtree over leaves 1..4, hashed from their skeletons.
      std::vector<chain::Digest> leaves;
      for (uint64_t seq = 1; seq <= 4; ++seq) {
        auto v = raw.GetSkeleton("acme", seq);
        store::Skeleton sk;
        ASSERT_TRUE(v.has_value() && store::DecodeSkeleton(*v, &sk));
        leaves.push_back(store::LeafOf(sk));
      }
      frontier = chain::ToHex(chain::AsBytes(chain::MerkleRoot(leaves)));
    }
    Json proof = Json::parse(Slurp(out + ".proof.json"));
    Json leaves = Json::array();
    for (const auto& leaf : proof["leaves"]) {
      if (leaf["seq"].get<uint64_t>() > 4) leaves.push_back(leaf);
    }
    proof["leaves"] = leaves;
    proof["first_seq"] = 5;
    proof["frontier"] = Json::array({frontier});
    std::string csv = Slurp(out);
    // entry_hash(4) is the cell before the salt (32 hex digits) of row 4.
    const size_t row4 = csv.find("\r\nacme,4,");
    ASSERT_NE(row4, std::string::npos);
    const size_t end4 = csv.find("\r\n", row4 + 2);
    proof["prev_entry_hash"] = csv.substr(end4 - 33 - 64, 64);
    const std::string bytes = proof.dump();
    ReSign(out, WithoutCsvRow(csv, 4), 2, &bytes);
    auto r = VerifyReport(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("problem: proof: seq 5: the range starts inside the time window"),
              std::string::npos)
        << r.out;
    r = PythonCheck(out);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("seq 5"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace indelible
