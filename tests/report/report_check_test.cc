#include "verifier/report/report_check.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/note.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/chain/signing.h"
#include "verifier/report/exporter.h"
#include "verifier/report/report_rows.h"

namespace indelible::report {
namespace {

using Json = nlohmann::ordered_json;

// A genuine one-row JSON report and its manifest, which tests then damage.
// The files are signed after damage, so only the checks behind the
// signatures see it: that is where hostile content must not crash the check.
class ReportCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("report-check-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    report_.clear();

    chain::EventFields e;
    e.tenant = "acme";
    e.event_id = "e-1";
    e.occurred_at_ns = 1700000000000000000ull;
    e.actor_id = "alice";
    e.action = "read";
    e.category = "access";
    ce_ = *chain::EncodeCanonicalEvent(e);
    Row row;
    row.seq = 1;
    row.received_at_ns = 1700000000500000000ull;
    row.event = e;
    row.salt = salt_;
    row.canonical_event = ce_;
    row.body_digest = chain::BodyDigest(row.salt, row.canonical_event);
    row.prev_entry_hash = chain::Genesis("acme");
    row.entry_hash = chain::EntryHash("acme", 1, row.received_at_ns,
                                      row.prev_entry_hash, row.body_digest);
    RowWriter w(Format::kJson, "acme",
                [this](std::string_view b) { report_.append(b); });
    w.Begin();
    w.Add(row);
    w.End();

    manifest_ = {{"format", kManifestFormat},
                 {"tenant", "acme"},
                 {"verified_range", {{"first_seq", 1}, {"last_seq", 1}}},
                 {"head_hash", chain::ToHex(row.entry_hash)},
                 {"row_count", 1},
                 {"report", {{"format", "json"}, {"bytes", report_.size()},
                             {"sha256", chain::ToHex(chain::Sha256(report_))}}},
                 {"signer", {{"key_name", "indelible-report"},
                             {"key_id", KeyId(key_)},
                             {"public_key_pem", key_.PublicKeyPem()}}}};
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
    std::ofstream(path.string() + ".sig", std::ios::binary) << key_.Sign(bytes);
  }

  static std::string KeyId(const chain::Ed25519PrivateKey& key) {
    return absl::StrFormat("%08x", chain::NoteKeyId("indelible-report", key.PublicKey()));
  }

  // Signs both files with `key_` and checks them, trusting `trusted`.
  absl::StatusOr<ReportCheckResult> Check(std::vector<std::string> trusted) {
    Write(dir_ / "report.json", report_);
    Write(dir_ / "report.json.manifest.json", manifest_.dump(2));
    ReportCheckOptions o;
    o.report_path = (dir_ / "report.json").string();
    o.trusted_keys = std::move(trusted);
    return CheckReport(o);
  }
  absl::StatusOr<ReportCheckResult> Check() { return Check({key_.PublicKey()}); }

  // Replaces the first `from` in the report with `to`, keeping the manifest's
  // digest and size in step.
  void EditReport(const std::string& from, const std::string& to) {
    const size_t at = report_.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    report_.replace(at, from.size(), to);
    manifest_["report"]["bytes"] = report_.size();
    manifest_["report"]["sha256"] = chain::ToHex(chain::Sha256(report_));
  }

  std::filesystem::path dir_;
  chain::Ed25519PrivateKey key_ = *chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x07'));
  const std::string salt_ = std::string(16, '\x01');
  std::string ce_;
  std::string report_;
  Json manifest_;
};

TEST_F(ReportCheckTest, GenuineReportHasNoProblems) {
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->problems.empty()) << r->problems.front();
  EXPECT_FALSE(r->key_from_manifest);
  // This manifest has no range proof: genuine rows, completeness not proven.
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("the report has no range proof"), std::string::npos);
  EXPECT_FALSE(r->proof);
  EXPECT_FALSE(r->complete);
  EXPECT_EQ(r->signer_key_id, KeyId(key_));
  EXPECT_EQ(r->rows, 1u);
}

// With no trusted key the signatures can only be checked under the key the
// manifest carries: said so, never taken for genuine.
TEST_F(ReportCheckTest, WithoutATrustedKeyTheKeyIsTheManifestsOwn) {
  auto r = Check({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->problems.empty());
  EXPECT_TRUE(r->key_from_manifest);
}

// A forger signs with their own key and writes the victim's key id into the
// manifest: the id shown is the one computed from the key that signed.
TEST_F(ReportCheckTest, KeyIdIsComputedFromTheKeyNotReadFromTheManifest) {
  const auto victim = *chain::Ed25519PrivateKey::FromSeed(std::string(32, '\x09'));
  manifest_["signer"]["key_id"] = KeyId(victim);
  for (const bool trust_victim : {false, true}) {
    auto r = Check(trust_victim ? std::vector<std::string>{victim.PublicKey()}
                                : std::vector<std::string>{});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->signer_key_id, KeyId(key_));
    EXPECT_NE(r->signer_key_id, KeyId(victim));
    EXPECT_EQ(r->signer_verifier_key,
              chain::NoteVerifierKeyString(
                  chain::MakeNoteVerifierKey("indelible-report", key_.PublicKey())));
    ASSERT_EQ(r->notes.size(), 2u);  // and: no range proof
    EXPECT_NE(r->notes[0].find(KeyId(victim)), std::string::npos) << r->notes[0];
    if (trust_victim) {
      ASSERT_EQ(r->problems.size(), 1u);
      EXPECT_EQ(r->problems[0], "manifest: signed by key " + KeyId(key_) +
                                    ", which is not a trusted key");
    } else {
      EXPECT_TRUE(r->key_from_manifest);
    }
  }
}

// Hostile input (tests/fuzz/corpus/report_fuzz/regress-*): std::stoull threw
// std::invalid_argument, not a JSON exception, which ended the process; it
// also took "-1".
TEST_F(ReportCheckTest, NonDecimalReceivedAtIsAProblem) {
  for (const char* bad : {"\"abc\"", "\"-1\"", "\"\"", "\"99999999999999999999999\""}) {
    SetUp();
    EditReport("\"received_at_ns\":\"1700000000500000000\"",
               std::string("\"received_at_ns\":") + bad);
    auto r = Check();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->problems.empty()) << bad;
  }
}

// Hostile input (tests/fuzz/corpus/report_fuzz/regress-*): a float where an
// integer belongs reached nlohmann's get<uint64_t>(), a cast that is
// undefined out of range.
TEST_F(ReportCheckTest, FloatOrNegativeSeqIsAProblem) {
  EditReport("\"seq\":1", "\"seq\":1e300");
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->problems.empty());

  SetUp();
  manifest_["verified_range"]["last_seq"] = 1e300;
  r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->problems.empty());

  SetUp();
  manifest_["verified_range"]["first_seq"] = -1;
  r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->problems.empty());
}

// Hostile input (tests/fuzz/corpus/report_fuzz/regress-*): value("row_count",
// 0) and friends threw when the field had another type, outside any handler.
TEST_F(ReportCheckTest, MistypedManifestFieldsAreProblems) {
  const std::pair<const char*, Json> edits[] = {
      {"format", 5},          {"row_count", "1"},
      {"row_count", -1},      {"row_count", 1.5},
  };
  for (const auto& [field, value] : edits) {
    SetUp();
    manifest_[field] = value;
    auto r = Check();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->problems.empty()) << field << "=" << value.dump();
  }
  for (const auto& [field, value] : std::initializer_list<std::pair<const char*, Json>>{
           {"bytes", "12"}, {"sha256", 12}, {"bytes", nullptr}}) {
    SetUp();
    manifest_["report"][field] = value;
    auto r = Check();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->problems.empty()) << field << "=" << value.dump();
  }
}

// A CSV report whose manifest says formulas were defused may not hold a
// cell a spreadsheet would run; one that says "keep" may.
TEST_F(ReportCheckTest, LiveFormulaInADefusedCsvReportIsAProblem) {
  const auto csv = [](CsvFormulas formulas, const std::string& reason) {
    Row row;
    row.seq = 1;
    row.event.tenant = "acme";
    row.event.reason = reason;
    static const std::string salt(16, '\x02');
    row.salt = salt;
    std::string out;
    RowWriter w(Format::kCsv, "acme", [&out](std::string_view b) { out.append(b); }, formulas);
    w.Begin();
    w.Add(row);
    w.End();
    return out;
  };
  const auto check = [this](const std::string& report, const char* rule) {
    report_ = report;
    manifest_["report"] = {{"format", "csv"}, {"bytes", report_.size()},
                           {"sha256", chain::ToHex(chain::Sha256(report_))},
                           {"csv_formulas", rule}};
    return Check();
  };
  for (const std::string reason : {"=1+1", "\"=1,2\"", "-x", "@x", "\tx", "\rx", "plain"}) {
    SCOPED_TRACE(reason);
    const bool trigger = reason != "plain" && reason[0] != '"';
    auto r = check(csv(CsvFormulas::kDefuse, reason), "defuse");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->problems.empty()) << r->problems.front();
    EXPECT_EQ(r->rows, 1u);
    r = check(csv(CsvFormulas::kKeep, reason), "defuse");
    ASSERT_TRUE(r.ok()) << r.status();
    if (trigger) {
      ASSERT_EQ(r->problems.size(), 1u);
      EXPECT_EQ(r->problems[0].rfind("row 1: a cell starts with", 0), 0u) << r->problems[0];
    } else {
      EXPECT_TRUE(r->problems.empty()) << r->problems.front();
    }
    r = check(csv(CsvFormulas::kKeep, reason), "keep");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->problems.empty()) << r->problems.front();
  }
  SetUp();
  auto r = check(csv(CsvFormulas::kDefuse, "x"), "sometimes");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->problems.empty());
}

// Only the manifest is signed: the report is bound to it by its SHA-256 and
// size, and needs no signature file of its own.
TEST_F(ReportCheckTest, ReportIsBoundByTheSignedManifestsDigest) {
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(std::filesystem::remove(dir_ / "report.json.sig"));
  ReportCheckOptions o;
  o.report_path = (dir_ / "report.json").string();
  o.trusted_keys = {key_.PublicKey()};
  r = CheckReport(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->problems.empty()) << r->problems.front();

  // One byte changed after signing, the size kept.
  std::string changed = report_;
  changed[changed.find("alice")] = 'A';
  std::ofstream(dir_ / "report.json", std::ios::binary) << changed;
  r = CheckReport(o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->problems.empty());
  EXPECT_EQ(r->problems[0], "report: SHA-256 differs from the manifest's");
}

}  // namespace
}  // namespace indelible::report
