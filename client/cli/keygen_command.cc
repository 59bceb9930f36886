// `keygen`: a new Ed25519 signing key (for the daemon's signing_key_file or
// the signer of indelible-verify export) and its public PEM. Key files are
// created by chain::LoadSigningKey only, so every key Indelible writes gets
// the same mode and the same exclusive creation.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/event_id.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/signing.h"

namespace indelible::cli {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

absl::Status AlreadyExists(const std::string& path) {
  return absl::AlreadyExistsError(
      absl::StrCat(path, " exists; pass --force to replace it"));
}

// Creates `path` (which must not exist) holding `text`, synced.
absl::Status WriteNewFile(const std::string& path, std::string_view text,
                          mode_t mode) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int e = errno;
    if (e == EEXIST) return AlreadyExists(path);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(e)));
  }
  bool ok = true;
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok) {
    unlink(path.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::Status Rename(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot rename ", from, " to ", to, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Without --force: both files are created in place, with O_EXCL.
absl::StatusOr<chain::Ed25519PrivateKey> CreateNew(
    const std::string& key_path, const std::string& pub_path) {
  for (const std::string& p : {key_path, pub_path}) {
    if (Exists(p)) return AlreadyExists(p);
  }
  bool created = false;
  absl::StatusOr<chain::Ed25519PrivateKey> key =
      chain::LoadSigningKey(key_path, /*create_if_missing=*/true, &created);
  if (!key.ok()) return key.status();
  if (!created) return AlreadyExists(key_path);  // appeared meanwhile
  if (absl::Status s = WriteNewFile(pub_path, key->PublicKeyPem(), 0644);
      !s.ok()) {
    unlink(key_path.c_str());  // ours: leave nothing half done
    return s;
  }
  return key;
}

// With --force: both files are written beside their final names, then each
// is renamed over its name, so neither is ever seen half written.
absl::StatusOr<chain::Ed25519PrivateKey> Replace(const std::string& key_path,
                                                 const std::string& pub_path) {
  // 74 random bits after the time: no other run picks the same temporary
  // names.
  absl::StatusOr<std::string> suffix = client::NewEventId();
  if (!suffix.ok()) return suffix.status();
  const std::string key_tmp = absl::StrCat(key_path, ".tmp-", *suffix);
  const std::string pub_tmp = absl::StrCat(pub_path, ".tmp-", *suffix);
  bool created = false;
  absl::StatusOr<chain::Ed25519PrivateKey> key =
      chain::LoadSigningKey(key_tmp, /*create_if_missing=*/true, &created);
  if (!key.ok()) return key.status();
  if (!created) return AlreadyExists(key_tmp);
  absl::Status s = WriteNewFile(pub_tmp, key->PublicKeyPem(), 0644);
  if (s.ok()) s = Rename(key_tmp, key_path);
  if (!s.ok()) {
    unlink(key_tmp.c_str());
    unlink(pub_tmp.c_str());
    return s;
  }
  if (s = Rename(pub_tmp, pub_path); !s.ok()) {
    unlink(pub_tmp.c_str());
    return absl::Status(
        s.code(), absl::StrCat("the new key is in ", key_path,
                               " but its public PEM is not: ", s.message()));
  }
  return key;
}

}  // namespace

int RunKeygen(const KeygenFlags& flags, std::ostream& out, std::ostream& err) {
  const std::string pub_path = flags.out + ".pub";
  absl::StatusOr<chain::Ed25519PrivateKey> key =
      flags.force ? Replace(flags.out, pub_path)
                  : CreateNew(flags.out, pub_path);
  if (!key.ok()) return ReportError(err, "keygen", key.status());
  out << key->PublicKeyPem();
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
