#include "daemon/trust/log_signer.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/signing.h"
#include "verifier/store/backup_layout.h"

namespace indelible {
namespace fs = std::filesystem;
namespace {

// Whether `inner` is `outer` or lies beneath it (both made absolute and
// normal, symlinks of existing parts resolved).
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner), ec);
  if (ec) return false;
  const fs::path b = fs::weakly_canonical(fs::absolute(outer), ec);
  if (ec) return false;
  auto mismatch = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mismatch.first == b.end();
}

}  // namespace

std::string LogSigner::PublicKeyPem() const {
  auto pem = chain::PublicKeyToPem(verifier_key().public_key);
  return pem.ok() ? *pem : std::string();
}

absl::StatusOr<SignedCheckpoint> KeyLogSigner::Sign(const chain::CheckpointV2& cp,
                                                    const std::vector<std::string>* deletion, uint64_t,
                                                    const ConsistencyProofSource&) {
  SignedCheckpoint out;
  out.v2 = signer_.Sign(chain::CheckpointV2Text(cp));
  out.v1 = signer_.Sign(chain::CheckpointText({cp.tenant, cp.size, cp.chain_head,
                                               cp.timestamp_ns}));
  if (deletion != nullptr) {
    chain::DeletionCertificate d{cp.tenant, cp.size, cp.chain_head, cp.timestamp_ns};
    d.version = 2;
    d.log_name = cp.log_name;
    d.root = cp.root;
    d.approvers = *deletion;
    out.deletion = signer_.Sign(chain::DeletionCertificateText(d));
  }
  return out;
}

std::string DevelopmentKeyPath(const std::string& data_dir) {
  fs::path dir = fs::path(data_dir).lexically_normal();
  if (dir.has_filename() == false) dir = dir.parent_path();  // "data/" -> "data"
  return dir.string() + "." + store::kSigningKeyFile;
}

absl::Status CheckNoKeyInDataDir(const std::string& key_path, const std::string& data_dir) {
  const std::string legacy = (fs::path(data_dir) / store::kSigningKeyFile).string();
  std::error_code ec;
  if (fs::exists(legacy, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data_dir: ", legacy, " is a private key inside the data directory, where no key may "
        "be (it would travel with every copy of the data). Move it out, e.g. `mv ", legacy, " ",
        DevelopmentKeyPath(data_dir), "` (the development key's place, used when "
        "signing_key_file is not set) or to a path set as signing_key_file, or hand it to "
        "indelible-signer (docs/OPERATIONS.md, \"Key custody\")"));
  }
  if (!key_path.empty() && IsWithin(key_path, data_dir)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing_key_file: ", key_path, " lies inside data_dir ", data_dir,
        "; a private key must be kept outside the data directory (docs/OPERATIONS.md, "
        "\"Key custody\")"));
  }
  return absl::OkStatus();
}

}  // namespace indelible
