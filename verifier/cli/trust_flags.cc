#include "verifier/cli/trust_flags.h"

#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "verifier/check/checkpoint_rows.h"
#include "verifier/check/key_rotations.h"

namespace indelible::verify {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::UnavailableError("cannot read " + path);
  return ss.str();
}

void TrustFlags::Register(CLI::App* sub) {
  sub->add_option("--key", keys,
                  "A trusted checkpoint key as a verifier-key string "
                  "(name+id+key); repeat for a key history");
  sub->add_option("--key-pem", key_pems,
                  "A trusted checkpoint key as a PEM public key file; repeat "
                  "for a key history")
      ->check(CLI::ExistingFile);
  sub->add_option("--rotation", rotations,
                  "A key rotation statement (docs/FORMAT.md section 14) from a trusted "
                  "key: its new key is trusted in every tenant (repeatable)")
      ->check(CLI::ExistingFile);
  sub->add_option("--checkpoint", checkpoints,
                  "A checkpoint note saved earlier; the data must still "
                  "extend it (repeatable)")
      ->check(CLI::ExistingFile);
}

absl::Status TrustFlags::Apply(check::StoreCheckOptions* options) const {
  auto named = [](const std::string& what, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  };
  for (const std::string& k : keys) {
    if (auto s = options->keys.AddVerifierKey(k); !s.ok()) return named("--key " + k, s);
  }
  for (const std::string& path : key_pems) {
    auto pem = ReadFile(path);
    if (!pem.ok()) return named("--key-pem", pem.status());
    if (auto s = options->keys.AddPublicKeyPem(*pem); !s.ok()) {
      return named("--key-pem " + path, s);
    }
  }
  std::vector<std::string> statements;
  for (const std::string& path : rotations) {
    auto note = ReadFile(path);
    if (!note.ok()) return named("--rotation", note.status());
    statements.push_back(*std::move(note));
  }
  if (auto s = check::FollowSuppliedRotations(statements, &options->keys); !s.ok()) {
    return named("--rotation", s);
  }
  for (const std::string& path : checkpoints) {
    auto note = ReadFile(path);
    if (!note.ok()) return named("--checkpoint", note.status());
    auto claim = check::LoadSuppliedCheckpoint(*note, options->keys);
    if (!claim.ok()) return named("--checkpoint " + path, claim.status());
    options->supplied.push_back(*std::move(claim));
  }
  return absl::OkStatus();
}

}  // namespace indelible::verify
