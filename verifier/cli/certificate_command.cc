#include "verifier/cli/certificate_command.h"

#include <iostream>
#include <memory>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "verifier/chain/deletion.h"
#include "verifier/chain/text.h"
#include "verifier/check/key_rotations.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/cli/trust_flags.h"
#include "verifier/report/report_rows.h"

namespace indelible::verify {
namespace {

struct CertFlags {
  std::string cert;
  std::vector<std::string> keys, key_pems, rotations;
  bool json = false;
};

int Fail(const std::string& what, const absl::Status& s) {
  std::cerr << "indelible-verify verify-certificate: " << what << ": "
            << chain::Sv(s.message()) << "\n";
  return kExitError;
}

int Run(const CertFlags& f) {
  check::TrustedKeys trusted;
  for (const auto& k : f.keys) {
    if (auto s = trusted.AddVerifierKey(k); !s.ok()) return Fail("--key " + k, s);
  }
  for (const auto& path : f.key_pems) {
    auto pem = ReadFile(path);
    if (!pem.ok()) return Fail("--key-pem", pem.status());
    if (auto s = trusted.AddPublicKeyPem(*pem); !s.ok()) return Fail("--key-pem " + path, s);
  }
  std::vector<std::string> statements;
  for (const auto& path : f.rotations) {
    auto note = ReadFile(path);
    if (!note.ok()) return Fail("--rotation", note.status());
    statements.push_back(*std::move(note));
  }
  if (!trusted.empty()) {
    if (auto s = check::FollowSuppliedRotations(statements, &trusted); !s.ok()) {
      return Fail("--rotation", s);
    }
  }
  if (trusted.empty()) {
    std::cerr << "indelible-verify verify-certificate: not verified: no trusted key "
                 "(give the daemon's key with --key or --key-pem)\n";
    return kExitNoTrustedKey;
  }
  auto note = ReadFile(f.cert);
  if (!note.ok()) return Fail("--cert", note.status());
  auto c = chain::VerifyDeletionCertificate(*note, trusted.KeysFor(*note));
  if (f.json) {
    nlohmann::ordered_json j;
    j["command"] = "verify-certificate";
    j["valid"] = c.ok();
    if (c.ok()) {
      j["tenant"] = c->tenant;
      j["final_seq"] = c->final_seq;
      j["final_head_hash"] = chain::ToHex(c->final_head);
      j["purged_at"] = report::FormatTimeNs(c->timestamp_ns);
    } else {
      j["problem"] = std::string(chain::Sv(c.status().message()));
    }
    std::cout << j.dump(2) << "\n";
  } else if (c.ok()) {
    std::cout << "VALID deletion certificate: tenant " << c->tenant << " purged at "
              << report::FormatTimeNs(c->timestamp_ns) << "; its chain ended at seq "
              << c->final_seq << " with head " << chain::ToHex(c->final_head) << "\n";
  } else {
    std::cout << "INVALID deletion certificate: " << chain::Sv(c.status().message()) << "\n";
  }
  return c.ok() ? kExitVerified : kExitFindings;
}

}  // namespace

std::pair<CLI::App*, Command> RegisterVerifyCertificateCommand(CLI::App* app) {
  auto f = std::make_shared<CertFlags>();
  CLI::App* sub = app->add_subcommand(
      "verify-certificate",
      "Check a tenant deletion certificate against the daemon's key. Exit 0: "
      "valid, 1: invalid, 2: usage or I/O error, 3: no trusted key given.");
  sub->add_option("--cert", f->cert, "The certificate (a signed note)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--key", f->keys, "The daemon's key as a verifier-key string");
  sub->add_option("--key-pem", f->key_pems, "The daemon's key as a PEM public key file")
      ->check(CLI::ExistingFile);
  sub->add_option("--rotation", f->rotations,
                  "A key rotation statement from a trusted key (docs/FORMAT.md section 14): "
                  "its new key is trusted too (repeatable)")
      ->check(CLI::ExistingFile);
  sub->add_flag("--json", f->json, "Print the result as JSON");
  return {sub, [f] { return Run(*f); }};
}

}  // namespace indelible::verify
