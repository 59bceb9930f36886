#include "verifier/cli/certificate_command.h"

#include <iostream>
#include <memory>
#include <optional>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "client/proofs.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/text.h"
#include "verifier/check/key_rotations.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/cli/trust_flags.h"
#include "verifier/report/report_rows.h"

namespace indelible::verify {
namespace {

struct CertFlags {
  std::string cert, checkpoint, proof;
  std::vector<std::string> keys, key_pems, rotations;
  bool json = false;
};

int Fail(const std::string& what, const absl::Status& s) {
  std::cerr << "indelible-verify verify-certificate: " << what << ": "
            << chain::ToStd(s.message()) << "\n";
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
  // With a kept checkpoint: the purged log's final tree must extend it.
  std::optional<chain::CheckpointV2> kept;
  absl::Status extends = absl::OkStatus();
  if (c.ok() && !f.checkpoint.empty()) {
    auto kept_note = ReadFile(f.checkpoint);
    if (!kept_note.ok()) return Fail("--checkpoint", kept_note.status());
    const std::vector<chain::NoteVerifierKey> keys = trusted.KeysFor(*kept_note);
    if (auto s = client::CheckSignedByTrustedKey(*kept_note, keys); !s.ok()) {
      return Fail("--checkpoint " + f.checkpoint, s);
    }
    auto k = chain::VerifyCheckpointV2(*kept_note, keys);
    if (!k.ok()) return Fail("--checkpoint " + f.checkpoint, k.status());
    kept = *k;
    if (c->version != 2) {
      extends = absl::FailedPreconditionError(
          "a version 1 certificate commits to no tree: nothing to hold --checkpoint against");
    } else if (kept->origin() != c->origin()) {
      return Fail("--checkpoint " + f.checkpoint,
                  absl::InvalidArgumentError("a checkpoint of " + kept->origin() +
                                             ", not of the certificate's " + c->origin()));
    } else {
      std::vector<chain::Digest> proof;
      if (!f.proof.empty()) {
        auto text = ReadFile(f.proof);
        if (!text.ok()) return Fail("--proof", text.status());
        auto parsed = client::ParseProofFile(*text);
        if (!parsed.ok()) return Fail("--proof " + f.proof, parsed.status());
        proof = *std::move(parsed);
      } else if (kept->size < c->final_seq) {
        return Fail("--proof", absl::InvalidArgumentError(
                                   "required with --checkpoint of a smaller tree (fetch it "
                                   "with `indelible prove --old-size N`)"));
      }
      chain::CheckpointV2 final_tree;
      final_tree.log_name = c->log_name;
      final_tree.tenant = c->tenant;
      final_tree.size = c->final_seq;
      final_tree.root = c->root;
      final_tree.chain_head = c->final_head;
      final_tree.timestamp_ns = c->timestamp_ns;
      extends = client::CheckExtends(*kept, final_tree, proof);
    }
  }
  const bool valid = c.ok() && extends.ok();
  if (f.json) {
    nlohmann::ordered_json j;
    j["command"] = "verify-certificate";
    j["valid"] = valid;
    if (c.ok()) {
      j["version"] = c->version;
      j["tenant"] = c->tenant;
      j["final_seq"] = c->final_seq;
      j["final_head_hash"] = chain::ToHex(c->final_head);
      j["purged_at"] = report::FormatTimeNs(c->timestamp_ns);
      if (c->version == 2) {
        j["origin"] = c->origin();
        j["final_root_hash"] = chain::ToHex(c->root);
        j["approvers"] = c->approvers;
      }
      if (kept) {
        j["kept_checkpoint"] = {{"size", kept->size}, {"extended", extends.ok()}};
      }
    }
    if (!valid) {
      j["problem"] = std::string(
          chain::ToStd((c.ok() ? extends : c.status()).message()));
    }
    std::cout << j.dump(2) << "\n";
  } else if (!c.ok()) {
    std::cout << "INVALID deletion certificate: " << chain::ToStd(c.status().message()) << "\n";
  } else if (!extends.ok()) {
    std::cout << "INVALID deletion certificate: it does not extend the kept checkpoint "
              << f.checkpoint << ": " << chain::ToStd(extends.message()) << "\n";
  } else {
    std::cout << "VALID deletion certificate: tenant " << c->tenant << " purged at "
              << report::FormatTimeNs(c->timestamp_ns) << "; its chain ended at seq "
              << c->final_seq << " with head " << chain::ToHex(c->final_head);
    if (c->version == 2) {
      std::cout << ", tree root " << chain::ToHex(c->root) << "; approved by";
      for (const auto& a : c->approvers) std::cout << " \"" << a << "\"";
    }
    std::cout << "\n";
    if (kept) {
      std::cout << "VERIFIED: the purged log extends the kept checkpoint of size "
                << kept->size << " (append-only)\n";
    }
  }
  return valid ? kExitVerified : kExitFindings;
}

}  // namespace

std::pair<CLI::App*, Command> RegisterVerifyCertificateCommand(CLI::App* app) {
  auto f = std::make_shared<CertFlags>();
  CLI::App* sub = app->add_subcommand(
      "verify-certificate",
      "Check a tenant deletion certificate against the daemon's key, and with "
      "--checkpoint that the purged log extends a checkpoint kept earlier. Exit 0: "
      "valid, 1: invalid or not an extension, 2: usage or I/O error, 3: no trusted key "
      "given.");
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
  sub->add_option("--checkpoint", f->checkpoint,
                  "A v2 checkpoint of the tenant kept earlier (a signed note): the "
                  "certificate's final tree must extend it (exit 1 if not)")
      ->check(CLI::ExistingFile);
  sub->add_option("--proof", f->proof,
                  "The consistency proof from the kept checkpoint's size to the final size "
                  "(`indelible prove --old-size N` writes it)")
      ->check(CLI::ExistingFile);
  sub->add_flag("--json", f->json, "Print the result as JSON");
  return {sub, [f] { return Run(*f); }};
}

}  // namespace indelible::verify
