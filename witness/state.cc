#include "witness/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::witness {
namespace {

constexpr char kTmpSuffix[] = ".tmp";

std::string Errno(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(Errno("cannot open", path));
  const int rc = fsync(fd);
  const int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) return absl::InternalError(Errno("cannot fsync", path));
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(Errno("cannot write", path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string Magic(const std::string& kind) {
  return absl::StrCat("indelible-", kind, "-state/v1");
}

std::string OriginFileName(const std::string& origin) {
  return chain::ToHex(chain::Sha256(origin));
}

}  // namespace

std::string StateFileText(const std::string& origin, const OriginState& state,
                          const std::string& kind) {
  return absl::StrCat(Magic(kind), "\n", origin, "\n", state.size, "\n",
                      chain::Base64Encode(chain::AsBytes(state.root)), "\n");
}

absl::Status ParseStateFile(std::string_view text, std::string* origin,
                            OriginState* state, const std::string& kind) {
  const std::vector<std::string_view> lines = chain::Split(text, '\n');
  // Four lines, each with its newline: the split leaves an empty fifth.
  if (lines.size() != 5 || !lines[4].empty() || lines[0] != Magic(kind) ||
      lines[1].empty()) {
    return absl::DataLossError(absl::StrCat("not a ", kind, " state file"));
  }
  OriginState s;
  std::string root;
  if (!chain::ParseDecimal(lines[2], &s.size)) {
    return absl::DataLossError("bad size line");
  }
  if (!chain::Base64Decode(lines[3], &root) || root.size() != s.root.size()) {
    return absl::DataLossError("bad root line");
  }
  std::memcpy(s.root.data(), root.data(), root.size());
  *origin = std::string(lines[1]);
  *state = s;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir,
                                                             const std::string& kind) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/origins", ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("state_dir: cannot create ", dir, ": ", ec.message()));
  }
  chmod(dir.c_str(), 0700);
  const std::string lock_path = dir + "/LOCK";
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(Errno("state_dir: cannot open", lock_path));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "state_dir: ", dir, " is locked by another process (is another ", kind, " running?)"));
  }
  std::unique_ptr<StateStore> store(new StateStore(dir, std::string(kind), fd));
  if (auto s = store->Load(); !s.ok()) return s;
  return store;
}

StateStore::~StateStore() { close(lock_fd_); }

absl::Status StateStore::Load() {
  const std::string origins = dir_ + "/origins";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(origins, ec)) {
    const std::string path = entry.path().string();
    const std::string name = entry.path().filename().string();
    if (name.size() > sizeof(kTmpSuffix) - 1 &&
        name.compare(name.size() - (sizeof(kTmpSuffix) - 1), std::string::npos, kTmpSuffix) == 0) {
      // An interrupted Put: its rename never happened, the old file stands.
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof()) return absl::InternalError("cannot read " + path);
    std::string origin;
    OriginState state;
    if (auto s = ParseStateFile(ss.str(), &origin, &state, kind_); !s.ok()) {
      return absl::DataLossError(absl::StrCat("state file ", path, ": ", s.message()));
    }
    if (OriginFileName(origin) != name) {
      return absl::DataLossError(absl::StrCat(
          "state file ", path, ": its name is not the SHA-256 of its origin ", origin));
    }
    states_[origin] = state;
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", origins, ": ", ec.message()));
  return absl::OkStatus();
}

std::mutex& StateStore::OriginMutex(const std::string& origin) {
  std::lock_guard<std::mutex> l(mu_);
  auto& m = origin_mutexes_[origin];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

std::optional<OriginState> StateStore::Get(const std::string& origin) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = states_.find(origin);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

absl::Status StateStore::Put(const std::string& origin, const OriginState& state) {
  if (failed_.load()) {
    return absl::InternalError(absl::StrCat(
        "an earlier state write failed after its rename; restart the ", kind_, " to reload"));
  }
  if (auto cur = Get(origin); cur && state.size < cur->size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state of ", origin, " would go back from ", cur->size, " to ", state.size));
  }
  const std::string dir = dir_ + "/origins";
  const std::string path = dir + "/" + OriginFileName(origin);
  const std::string tmp = path + kTmpSuffix;
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    last_failed_.store(true);
    return absl::InternalError(Errno("cannot create", tmp));
  }
  absl::Status s = WriteAll(fd, StateFileText(origin, state, kind_), tmp);
  if (s.ok() && fsync(fd) != 0) s = absl::InternalError(Errno("cannot fsync", tmp));
  if (close(fd) != 0 && s.ok()) s = absl::InternalError(Errno("cannot close", tmp));
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::InternalError(Errno("cannot rename", tmp));
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    last_failed_.store(true);
    return s;
  }
  // The rename is durable only once the directory is.
  // If that fails the file may hold either state: stop writing (health
  // turns bad) until a restart reloads what is on disk.
  if (auto d = FsyncPath(dir, O_RDONLY | O_DIRECTORY); !d.ok()) {
    failed_.store(true);
    return d;
  }
  std::lock_guard<std::mutex> l(mu_);
  states_[origin] = state;
  last_failed_.store(false);
  return absl::OkStatus();
}

std::vector<std::pair<std::string, OriginState>> StateStore::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return {states_.begin(), states_.end()};
}

}  // namespace indelible::witness
