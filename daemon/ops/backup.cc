#include "daemon/ops/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/version.h"
#include "nlohmann/json.hpp"
#include "rocksdb/utilities/checkpoint.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"
#include "verifier/store/backup_layout.h"
#include "verifier/store/reader.h"

namespace indelible {
namespace {

namespace fs = std::filesystem;

absl::Status IoError(const std::string& what, const std::error_code& ec) {
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

absl::Status Errno(const std::string& what) {
  const int e = errno;
  std::string msg = absl::StrCat(what, ": ", std::strerror(e));
  if (e == ENOSPC || e == EDQUOT) return absl::ResourceExhaustedError(msg);
  return absl::UnavailableError(msg);
}

absl::Status SyncPath(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + p.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync " + p.string());
  return absl::OkStatus();
}

// Creates `p` (which must not exist) with `mode`, writes `data` and syncs.
absl::Status WriteNewFile(const fs::path& p, std::string_view data, mode_t mode) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create " + p.string());
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("write " + p.string());
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  absl::Status s = ::fsync(fd) == 0 ? absl::OkStatus() : Errno("fsync " + p.string());
  ::close(fd);
  return s;
}

// Reads the heads and each tenant's newest checkpoint seq from the finished
// checkpoint at `dir`, which nothing else writes. It is opened as every
// reader opens a store (store::Reader: a secondary instance, whose info log
// and other files stay in a scratch directory under `scratch_parent`, so
// nothing is added to the backup).
absl::StatusOr<std::vector<BackupHeadInfo>> ReadBackupHeads(
    const std::string& dir, const std::string& scratch_parent) {
  auto reader = store::Reader::Open(dir, {.scratch_dir = scratch_parent});
  if (!reader.ok()) return reader.status();
  std::vector<BackupHeadInfo> out;
  auto rows = (*reader)->NewRows(store::kHeadsCf);
  for (; rows->Valid(); rows->Next()) {
    BackupHeadInfo info;
    info.tenant = std::string(rows->key());
    if (!store::DecodeHead(rows->value(), &info.head)) {
      return absl::DataLossError("malformed head in the backup for tenant " + info.tenant);
    }
    auto last = (*reader)->LastRow(store::kCheckpointsCf, store::TenantPrefix(info.tenant));
    if (!last.ok()) return last.status();
    std::string_view tenant;
    uint64_t seq = 0;
    if (last->has_value() && store::ParseSeqKey((*last)->first, &tenant, &seq)) {
      info.checkpoint_seq = seq;
    }
    out.push_back(std::move(info));
  }
  if (auto s = rows->status(); !s.ok()) return s;
  return out;
}

std::string Rfc3339(uint64_t ns) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                          absl::FromUnixNanos(static_cast<int64_t>(ns)),
                          absl::UTCTimeZone());
}

}  // namespace

Backuper::Backuper(Deps deps, BackupOptions options, std::chrono::milliseconds poll)
    : deps_(std::move(deps)), options_(std::move(options)), poll_(poll),
      schedule_(deps_.clock, options_.interval_seconds * 1000000000ull),
      task_({.name = "backup", .interval = poll_, .run_at_start = true},
            [this, started = false]() mutable {
              uint64_t now = 0;
              if (!started) {
                started = true;
                ResumeSchedule();
              } else if (schedule_.Due(&now)) {
                (void)Create("", deps_.record_scheduled);  // logs its outcome
              }
            }) {}

Backuper::~Backuper() { Stop(); }

absl::StatusOr<BackupResult> Backuper::Create(std::string_view label,
                                              const Recorder& record) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "backups are off: set backup.dir in the daemon's config (docs/CONFIG.md)");
  }
  if (!IsValidBackupLabel(label)) {
    return absl::InvalidArgumentError("label: must match [a-z0-9._-]{0,64}");
  }
  std::lock_guard<std::mutex> l(create_mu_);
  auto r = CreateLocked(label, record);
  if (!r.ok()) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("event=backup_failed dir={} status=\"{}\"", options_.dir,
                  r.status().ToString());
    return r;
  }
  succeeded_.fetch_add(1, std::memory_order_relaxed);
  last_success_ns_.store(r->created_at_ns, std::memory_order_relaxed);
  spdlog::info("event=backup_created path={} tenants={} files={} size_bytes={}", r->path,
               r->heads.size(), r->files, r->size_bytes);
  return r;
}

namespace {

// The backup directory as an absolute path, created if missing, without the
// .tmp- directories of backups that did not finish.
absl::StatusOr<fs::path> PrepareBackupDir(const std::string& configured) {
  std::error_code ec;
  const fs::path dir = fs::absolute(configured, ec);
  if (ec) return IoError("backup.dir " + configured, ec);
  fs::create_directories(dir, ec);
  if (ec) return IoError("create " + dir.string(), ec);

  // A .tmp- directory now is left from a backup that did not finish (they
  // are serialised): it is not a backup, and would only take space.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(store::kBackupTempPrefix, 0) == 0) {
      std::error_code rm;
      fs::remove_all(e.path(), rm);
      spdlog::warn("event=backup_incomplete_removed path={} ok={}", e.path().string(),
                   !rm);
    }
  }
  if (ec) return IoError("list " + dir.string(), ec);
  return dir;
}

// BackupName, with "-2", "-3", ... appended while a backup (finished or
// not) of that name is in `dir`.
std::string UniqueBackupName(const fs::path& dir, uint64_t created_at_ns,
                             std::string_view label) {
  std::error_code ec;
  const std::string base = BackupName(created_at_ns, label);
  std::string name = base;
  for (int n = 2; fs::exists(dir / name, ec) ||
                  fs::exists(dir / (store::kBackupTempPrefix + name), ec);
       ++n) {
    name = absl::StrCat(base, "-", n);
  }
  return name;
}

// The RocksDB checkpoint into `tmp`; counts its files into *result.
absl::Status CheckpointStore(rocksdb::Checkpoint* checkpoint, const fs::path& tmp,
                             BackupResult* result) {
  absl::Status status = FromRocksDb(checkpoint->CreateCheckpoint(tmp.string()),
                                    "create checkpoint " + tmp.string());
  if (!status.ok()) return status;

  // What is in the RocksDB part: count it before adding our own files.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tmp, ec)) {
    if (!e.is_regular_file()) continue;
    ++result->files;
    result->size_bytes += e.file_size();
  }
  if (ec) return IoError("list " + tmp.string(), ec);
  return absl::OkStatus();
}

// The heads of the copy at `tmp` into result->heads.
absl::Status ReadHeadsOfCopy(const fs::path& dir, const fs::path& tmp,
                             BackupResult* result) {
  // The scratch directory of the read is a .tmp- entry too: a crash leaves
  // it for the next backup to remove.
  std::error_code ec;
  const fs::path scratch = dir / (store::kBackupTempPrefix + result->name + ".read");
  fs::create_directory(scratch, ec);
  if (ec) return IoError("create " + scratch.string(), ec);
  auto heads = ReadBackupHeads(tmp.string(), scratch.string());
  std::error_code rm;
  fs::remove_all(scratch, rm);
  if (!heads.ok()) return heads.status();
  result->heads = *std::move(heads);
  return absl::OkStatus();
}

// The public key files, the manifest, and a sync of `tmp`.
absl::Status WriteKeysAndManifest(const fs::path& tmp, const LogSigner& signer,
                                  std::string_view label, const BackupResult& result) {
  const std::string verifier_key = chain::NoteVerifierKeyString(signer.verifier_key());
  absl::Status status =
      WriteNewFile(tmp / store::kBackupVerifierKeyFile, verifier_key + "\n", 0644);
  if (status.ok()) {
    status = WriteNewFile(tmp / store::kBackupPublicKeyFile, signer.PublicKeyPem(), 0644);
  }
  if (!status.ok()) return status;

  nlohmann::ordered_json m;
  m["format"] = store::kBackupManifestFormat;
  m["name"] = result.name;
  m["created_at"] = Rfc3339(result.created_at_ns);
  m["created_at_ns"] = result.created_at_ns;
  m["indelible_version"] = kIndelibleVersion;
  m["store_format"] = store::kFormatValue;
  m["label"] = std::string(label);
  m["verifier_key"] = verifier_key;
  m["tenants"] = nlohmann::ordered_json::array();
  for (const auto& h : result.heads) {
    nlohmann::ordered_json t;
    t["tenant"] = h.tenant;
    t["seq"] = h.head.seq;
    t["head_hash"] = chain::ToHex(h.head.entry_hash);
    t["received_at_ns"] = h.head.received_at_ns;
    t["checkpoint_seq"] = h.checkpoint_seq;
    m["tenants"].push_back(std::move(t));
  }
  m["files"] = result.files;
  m["size_bytes"] = result.size_bytes;
  status = WriteNewFile(tmp / store::kBackupManifestFile, m.dump(2) + "\n", 0644);
  if (status.ok()) status = SyncPath(tmp);
  return status;
}

}  // namespace

absl::StatusOr<BackupResult> Backuper::CreateLocked(std::string_view label,
                                                    const Recorder& record) {
  auto prepared = PrepareBackupDir(options_.dir);
  if (!prepared.ok()) return prepared.status();
  const fs::path dir = *std::move(prepared);

  BackupResult result;
  result.created_at_ns = deps_.clock->NowNanos();
  result.name = UniqueBackupName(dir, result.created_at_ns, label);
  // The read is on record before anything is copied, and the backup holds
  // its own record.
  if (record) {
    if (auto s = record(result.name); !s.ok()) return s;
  }

  // Sign the current heads, so the backup carries checkpoints as recent as
  // possible.
  if (deps_.checkpointer != nullptr) {
    if (auto s = deps_.checkpointer->RunOnce(); !s.ok()) {
      spdlog::warn("event=backup_checkpoint_failed status=\"{}\"", s.ToString());
    }
  }
  const fs::path tmp = dir / (store::kBackupTempPrefix + result.name);
  const fs::path final_path = dir / result.name;
  result.path = final_path.string();

  rocksdb::Checkpoint* raw = nullptr;
  if (auto s = FromRocksDb(rocksdb::Checkpoint::Create(deps_.storage->db(), &raw),
                         "backup");
      !s.ok()) {
    return s;
  }
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  auto cleanup = [&](absl::Status s) -> absl::Status {
    std::error_code rm;
    fs::remove_all(tmp, rm);
    return s;
  };
  absl::Status status = CheckpointStore(checkpoint.get(), tmp, &result);
  if (status.ok()) status = ReadHeadsOfCopy(dir, tmp, &result);
  if (status.ok()) status = WriteKeysAndManifest(tmp, *deps_.signer, label, result);
  if (!status.ok()) return cleanup(status);

  std::error_code ec;
  fs::rename(tmp, final_path, ec);
  if (ec) return cleanup(IoError("rename " + tmp.string(), ec));
  if (auto s = SyncPath(dir); !s.ok()) return s;

  auto pruned = PruneLocked(result.name);
  if (pruned.ok()) {
    result.pruned = *std::move(pruned);
  } else {
    spdlog::error("event=backup_prune_failed dir={} status=\"{}\"", dir.string(),
                  pruned.status().ToString());
  }
  return result;
}

std::vector<BackupEntry> Backuper::ListBackups() {
  std::vector<BackupEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.dir, ec)) {
    if (!e.is_directory()) continue;
    const std::string name = e.path().filename().string();
    auto t = ParseBackupTime(name);
    if (!t) continue;
    // Only finished backups: anything else in the directory is left alone.
    if (!fs::exists(e.path() / store::kBackupManifestFile, ec)) continue;
    out.push_back({name, *t});
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Backuper::Prune(std::string_view keep) {
  std::lock_guard<std::mutex> l(create_mu_);
  return PruneLocked(keep);
}

absl::StatusOr<std::vector<std::string>> Backuper::PruneLocked(std::string_view keep) {
  if (!enabled()) return std::vector<std::string>();
  const std::vector<std::string> names = SelectBackupsToPrune(
      ListBackups(), deps_.clock->NowNanos(), options_.retention, keep);
  std::vector<std::string> removed;
  for (const auto& name : names) {
    const fs::path p = fs::path(options_.dir) / name;
    // Remove the manifest first: a half-removed backup is then no longer
    // taken for a finished one.
    std::error_code ec;
    fs::remove(p / store::kBackupManifestFile, ec);
    if (!ec) fs::remove_all(p, ec);
    if (ec) return IoError("remove backup " + p.string(), ec);
    spdlog::info("event=backup_pruned path={}", p.string());
    removed.push_back(name);
  }
  return removed;
}

void Backuper::Start() {
  if (!enabled() || options_.interval_seconds == 0) return;
  task_.Start();
}

void Backuper::Stop() { task_.Stop(); }

void Backuper::ResumeSchedule() {
  uint64_t last = deps_.clock->NowNanos();
  std::lock_guard<std::mutex> l(create_mu_);
  uint64_t newest = 0;
  for (const auto& b : ListBackups()) newest = std::max(newest, b.time_ns);
  if (newest != 0) last = std::min(last, newest);
  schedule_.Reset(last);
}

}  // namespace indelible
