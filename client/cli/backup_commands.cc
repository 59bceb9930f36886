// `indelible backup` and `indelible restore` (docs/OPERATIONS.md).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/cli/time_text.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/hash.h"
#include "verifier/store/backup_layout.h"
#include "verifier/store/layout.h"
#include "verifier/store/purge_register.h"
#include "verifier/store/reader.h"

namespace indelible::cli {
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
  return name == store::kBackupManifestFile || name == store::kBackupVerifierKeyFile ||
         name == store::kBackupPublicKeyFile || name == store::kSigningKeyFile;
}

// The manifest of the backup at `from`; FailedPrecondition if it is not a
// finished backup.
absl::StatusOr<json> ReadManifest(const fs::path& from) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return absl::NotFoundError(absl::StrCat(from.string(), ": no such directory"));
  }
  std::ifstream in(from / store::kBackupManifestFile);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        from.string(), " is not a finished backup (no ", store::kBackupManifestFile,
        "; an unfinished one is named ", store::kBackupTempPrefix, "...)"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json m = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object() || !m["tenants"].is_array()) {
    return absl::FailedPreconditionError(
        absl::StrCat(store::kBackupManifestFile, " in ", from.string(), " is not valid"));
  }
  if (m.value("format", "") != store::kBackupManifestFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        from.string(), " holds backup format \"", m.value("format", ""), "\", want \"",
        store::kBackupManifestFormat, "\""));
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
  auto reader = store::Reader::Open(to.string());
  if (!reader.ok()) return reader.status();
  std::map<std::string, std::pair<uint64_t, std::string>> heads;
  for (auto rows = (*reader)->NewRows(store::kHeadsCf); rows->Valid(); rows->Next()) {
    store::Head h;
    if (!store::DecodeHead(rows->value(), &h)) {
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
  return store::ApplyPurgeRegister(from.lexically_normal().parent_path().string(), to.string(),
                                   keys);
}

}  // namespace

int RunBackup(client::AdminClient& admin, const BackupFlags& flags, std::ostream& out,
              std::ostream& err) {
  absl::StatusOr<v1::BackupResponse> r = admin.Backup(flags.label, flags.reason);
  if (!r.ok()) return ReportError(err, "backup", r.status());
  if (flags.json) {
    out << JsonLine(BackupToJson(*r)) << "\n";
  } else {
    out << "path:        " << r->path() << "\n"
        << "created_at:  " << FormatTimestamp(r->created_at_ns()) << "\n"
        << "tenants:     " << r->heads_size() << "\n";
    for (const v1::BackupHead& h : r->heads()) {
      out << "  " << h.tenant() << " seq=" << h.seq()
          << " head=" << chain::ToHex(h.head_hash())
          << " checkpoint_seq=" << h.checkpoint_seq() << "\n";
    }
    out << "files:       " << r->files() << "\n"
        << "size_bytes:  " << r->size_bytes() << "\n";
    for (const std::string& p : r->pruned()) out << "pruned:      " << p << "\n";
  }
  out.flush();
  return kExitOk;
}

int RunRestore(const RestoreFlags& flags, std::ostream& out, std::ostream& err) {
  const fs::path from(flags.from), to(flags.data_dir);
  absl::StatusOr<json> manifest = ReadManifest(from);
  if (!manifest.ok()) return ReportError(err, "restore", manifest.status());
  if (absl::Status s = PrepareDestination(to); !s.ok()) {
    return ReportError(err, "restore", s);
  }
  std::error_code key_ec;
  const bool old_key = fs::exists(from / store::kSigningKeyFile, key_ec);
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
    return ReportError(err, "restore", status);
  }
  const size_t tenants = (*manifest)["tenants"].size();
  if (flags.json) {
    out << JsonLine(json{{"from", flags.from},
                         {"data_dir", flags.data_dir},
                         {"backup", manifest->value("name", "")},
                         {"created_at", manifest->value("created_at", "")},
                         {"tenants", tenants},
                         {"files", *files},
                         {"purged_from_register", *purged},
                         {"verifier_key", manifest->value("verifier_key", "")}})
        << "\n";
  } else {
    out << "restored " << flags.from << " (taken " << manifest->value("created_at", "")
        << ", " << tenants << " tenants) into " << flags.data_dir << "\n"
        << "verified: the copy opens and its heads match the backup's manifest\n"
        << "next: start indelibled with --data-dir " << flags.data_dir
        << " (or data_dir: in its config) and signing_key_file: or signer_socket: set to "
           "the key of verifier key "
        << manifest->value("verifier_key", "") << "\n";
    for (const std::string& t : *purged) {
      out << "purged: tenant " << t << " (in the purge register beside the backups; "
          << "its content was deleted from the restored copy)\n";
    }
    if (old_key) {
      out << "note: the backup holds a private key (" << store::kSigningKeyFile
          << ", written by an earlier version); it was not copied into the data directory\n";
    }
  }
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
