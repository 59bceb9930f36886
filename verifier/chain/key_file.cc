#include "verifier/chain/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace indelible::chain {

std::string SecretModeProblem(uid_t owner, gid_t group, mode_t mode, uid_t euid,
                              const std::vector<gid_t>& groups) {
  if ((mode & S_IRWXO) != 0) return "others must have no access";
  if ((mode & (S_IWGRP | S_IXGRP)) != 0) return "the group may at most read";
  if ((mode & S_IRGRP) == 0) return "";
  if (owner != euid && owner != 0) {
    return absl::StrFormat(
        "group read is allowed only on a file owned by this user (uid %d) or root, "
        "not uid %d", euid, owner);
  }
  if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
    return absl::StrFormat(
        "group read is allowed only for a group this process is in, not gid %d", group);
  }
  return "";
}

std::string SecretModeProblem(uid_t owner, gid_t group, mode_t mode) {
  std::vector<gid_t> groups(1, getegid());
  const int n = getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> more(static_cast<size_t>(n));
    const int got = getgroups(n, more.data());
    if (got > 0) groups.insert(groups.end(), more.begin(), more.begin() + got);
  }
  return SecretModeProblem(owner, group, mode, geteuid(), groups);
}

absl::StatusOr<Ed25519PrivateKey> LoadSigningKey(
    const std::string& path, bool create_if_missing, bool* created) {
  *created = false;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create_if_missing) {
      return absl::FailedPreconditionError(absl::StrCat(
          "signing key ", path, ": ", std::strerror(errno)));
    }
    auto key = Ed25519PrivateKey::Generate();
    if (!key.ok()) return key.status();
    const std::string pem = key->PrivateKeyPem();
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create signing key ", path, ": ", std::strerror(errno)));
    }
    bool ok = write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) &&
              fsync(fd) == 0;
    close(fd);
    if (!ok) {
      unlink(path.c_str());
      return absl::InternalError(absl::StrCat("cannot write signing key ", path));
    }
    *created = true;
    return key;
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("signing key ", path, ": not a regular file"));
  }
  if (const std::string problem = SecretModeProblem(st.st_uid, st.st_gid, st.st_mode);
      !problem.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "signing key %s has mode %04o: %s (chmod 600 %s)", path, st.st_mode & 07777,
        problem, path));
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read signing key ", path));
  }
  auto key = Ed25519PrivateKey::FromPem(ss.str());
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key ", path, ": ", key.status().message()));
  }
  return key;
}

absl::Status CheckPrivateFile(const std::string& path, std::string_view what) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(std::string(what), ": cannot read ", path));
  }
  if (const std::string problem = SecretModeProblem(st.st_uid, st.st_gid, st.st_mode);
      !problem.empty()) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s: %s has mode %04o; %s (chmod 600)", std::string(what), path,
        st.st_mode & 07777, problem));
  }
  return absl::OkStatus();
}

}  // namespace indelible::chain
