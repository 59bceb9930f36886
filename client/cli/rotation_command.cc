// `rotation-statement`: the statement by which the daemon's signing key is
// replaced (docs/FORMAT.md section 14), made offline from the two private
// key files, where the old key is kept. Talks to no server.
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/key_rotation.h"

namespace indelible::cli {

int RunRotationStatement(const RotationStatementFlags& flags, std::ostream& out,
                         std::ostream& err) {
  if (!chain::IsValidLogName(flags.log_name)) {
    return UsageError(err, "--log-name: the daemon's log_name, a schema-less URL such as "
                           "audit.example.com (indelible.local for a development daemon)");
  }
  auto load = [](const std::string& path) {
    bool created = false;
    return chain::LoadSigningKey(path, /*create_if_missing=*/false, &created);
  };
  auto old_key = load(flags.old_key);
  if (!old_key.ok()) return ReportError(err, "--old-key", old_key.status());
  auto new_key = load(flags.new_key);
  if (!new_key.ok()) return ReportError(err, "--new-key", new_key.status());
  const chain::NoteSigner old_signer(flags.old_key_name, *std::move(old_key));
  const chain::NoteSigner new_signer(flags.new_key_name, *std::move(new_key));
  if (old_signer.verifier_key().public_key == new_signer.verifier_key().public_key) {
    return UsageError(err, "--old-key and --new-key hold the same key");
  }
  chain::KeyRotation r;
  r.log_name = flags.log_name;
  r.old_key = old_signer.verifier_key();
  r.new_key = new_signer.verifier_key();
  r.timestamp_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  auto note = chain::SignKeyRotation(r, old_signer, new_signer);
  if (!note.ok()) return ReportError(err, "rotation-statement", note.status());
  out << *note;
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
