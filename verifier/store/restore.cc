#include "verifier/store/restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/hash.h"
#include "verifier/store/backup_layout.h"
#include "verifier/store/layout.h"
#include "verifier/store/purge_register.h"
#include "verifier/store/reader.h"

namespace indelible::store {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

absl::Status IoError(const std::string& what, const std::error_code& ec) {
  std::string msg = absl::StrCat(what, ": ", ec.message());
  if (ec == std::errc::no_space_on_device) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

absl::Status SyncPath(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("open ", p.string(), ": ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("fsync ", p.string(), ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

// Files of a backup that belong to the backup, not to a data directory.
// Not copied into a data directory; a private key never goes there.
bool IsBackupOnlyFile(const std::string& name) {
  return name == kBackupManifestFile || name == kBackupVerifierKeyFile ||
         name == kBackupPublicKeyFile || name == kSigningKeyFile;
}

// The manifest of the backup at `from`; FailedPrecondition if it is not a
// finished backup.
absl::StatusOr<json> ReadManifest(const fs::path& from) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return absl::NotFoundError(absl::StrCat(from.string(), ": no such directory"));
  }
  std::ifstream in(from / kBackupManifestFile);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        from.string(), " is not a finished backup (no ", kBackupManifestFile,
        "; an unfinished one is named ", kBackupTempPrefix, "...)"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json m = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object() || !m["tenants"].is_array()) {
    return absl::FailedPreconditionError(
        absl::StrCat(kBackupManifestFile, " in ", from.string(), " is not valid"));
  }
  if (m.value("format", "") != kBackupManifestFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        from.string(), " holds backup format \"", m.value("format", ""), "\", want \"",
        kBackupManifestFormat, "\""));
  }
  return m;
}

// Refuses anything but a missing or empty directory; creates it if missing.
absl::Status PrepareDestination(const fs::path& to) {
  std::error_code ec;
  if (fs::exists(to, ec)) {
    if (!fs::is_directory(to, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat(to.string(), " exists and is not a directory"));
    }
    if (!fs::is_empty(to, ec) || ec) {
      const bool locked = fs::exists(to / "LOCK", ec);
      return absl::FailedPreconditionError(absl::StrCat(
          to.string(), " is not empty",
          locked ? " (it holds a data directory, perhaps a running daemon's)" : "",
          "; restore only into a new or empty directory"));
    }
    return absl::OkStatus();
  }
  fs::create_directories(to, ec);
  if (ec) return IoError("create " + to.string(), ec);
  return absl::OkStatus();
}

// Copies the data directory files of `from` into `to` and syncs them.
absl::StatusOr<uint64_t> CopyFiles(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  uint64_t files = 0;
  for (const auto& e : fs::directory_iterator(from, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || IsBackupOnlyFile(name)) continue;
    const fs::path dst = to / name;
    fs::copy_file(e.path(), dst, fs::copy_options::none, ec);
    if (ec) return IoError("copy " + e.path().string(), ec);
    if (auto s = SyncPath(dst); !s.ok()) return s;
    ++files;
  }
  if (ec) return IoError("list " + from.string(), ec);
  if (auto s = SyncPath(to); !s.ok()) return s;
  return files;
}

// Opens the copy as indelible-verify does and compares its heads with the
// manifest's.
absl::Status VerifyCopy(const fs::path& to, const json& manifest) {
  auto reader = Reader::Open(to.string());
  if (!reader.ok()) return reader.status();
  std::map<std::string, std::pair<uint64_t, std::string>> heads;
  for (auto rows = (*reader)->NewRows(kHeadsCf); rows->Valid(); rows->Next()) {
    Head h;
    if (!DecodeHead(rows->value(), &h)) {
      return absl::DataLossError(absl::StrCat("malformed head of tenant ", std::string(rows->key())));
    }
    heads[std::string(rows->key())] = {h.seq, chain::ToHex(h.entry_hash)};
  }
  std::map<std::string, std::pair<uint64_t, std::string>> want;
  for (const json& t : manifest["tenants"]) {
    want[t.value("tenant", "")] = {t.value("seq", uint64_t{0}), t.value("head_hash", "")};
  }
  if (heads != want) {
    return absl::DataLossError(
        "the restored heads differ from the backup's manifest: the backup is damaged");
  }
  return absl::OkStatus();
}

// Applies the purge register of the backup's directory (its parent) to the
// restored copy, under the backup's verifier key.
absl::StatusOr<std::vector<std::string>> ApplyPurges(const fs::path& from, const fs::path& to,
                                                     const json& manifest) {
  std::vector<chain::NoteVerifierKey> keys;
  if (auto k = chain::ParseNoteVerifierKey(manifest.value("verifier_key", "")); k.ok()) {
    keys.push_back(*k);
  }
  return ApplyPurgeRegister(from.lexically_normal().parent_path().string(), to.string(), keys);
}

}  // namespace

absl::StatusOr<RestoreResult> RestoreBackup(const std::string& from_dir,
                                            const std::string& data_dir) {
  const fs::path from(from_dir), to(data_dir);
  absl::StatusOr<json> manifest = ReadManifest(from);
  if (!manifest.ok()) return manifest.status();
  if (absl::Status s = PrepareDestination(to); !s.ok()) return s;
  std::error_code key_ec;
  const bool old_key = fs::exists(from / kSigningKeyFile, key_ec);
  absl::StatusOr<uint64_t> files = CopyFiles(from, to);
  absl::Status status = files.status();
  if (status.ok()) status = VerifyCopy(to, *manifest);
  // The purge register beside the backups wins over the backup's content.
  absl::StatusOr<std::vector<std::string>> purged = std::vector<std::string>{};
  if (status.ok()) {
    purged = ApplyPurges(from, to, *manifest);
    status = purged.status();
  }
  if (!status.ok()) {
    // Leave the destination as it was found: empty.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(to, ec)) fs::remove_all(e.path(), ec);
    return status;
  }
  RestoreResult r;
  r.backup = manifest->value("name", "");
  r.created_at = manifest->value("created_at", "");
  r.verifier_key = manifest->value("verifier_key", "");
  r.tenants = (*manifest)["tenants"].size();
  r.files = *files;
  r.private_key_left_out = old_key;
  r.purged_from_register = *std::move(purged);
  return r;
}

}  // namespace indelible::store
