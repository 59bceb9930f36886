#include "verifier/store/purge_register.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "verifier/chain/deletion.h"
#include "verifier/chain/hash.h"
#include "verifier/store/event_ids.h"
#include "verifier/store/layout.h"

namespace indelible::store {
namespace fs = std::filesystem;
namespace {

absl::Status Sync(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("open ", p.string(), ": ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("fsync ", p.string(), ": ", std::strerror(e)));
  return absl::OkStatus();
}

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace

absl::Status RegisterPurge(const std::string& backup_dir, const std::string& tenant,
                           const std::string& certificate) {
  if (!chain::IsValidTenantId(tenant)) return absl::InvalidArgumentError("invalid tenant id");
  const fs::path dir = fs::path(backup_dir) / kPurgeRegisterDir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", dir.string(), ": ", ec.message()));
  const fs::path file = dir / (tenant + kPurgeRegisterSuffix);
  if (fs::exists(file, ec)) return absl::OkStatus();
  const fs::path tmp = dir / (".tmp-" + tenant + kPurgeRegisterSuffix);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << certificate;
    if (!out.flush()) return absl::InternalError("write " + tmp.string());
  }
  if (auto s = Sync(tmp, false); !s.ok()) return s;
  fs::rename(tmp, file, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", tmp.string(), ": ", ec.message()));
  if (auto s = Sync(dir, true); !s.ok()) return s;
  return Sync(fs::path(backup_dir), true);
}

absl::StatusOr<std::vector<std::string>> ApplyPurgeRegister(
    const std::string& backup_dir, const std::string& data_dir,
    const std::vector<chain::NoteVerifierKey>& keys) {
  const fs::path dir = fs::path(backup_dir) / kPurgeRegisterDir;
  std::error_code ec;
  std::map<std::string, std::pair<fs::path, std::string>> entries;  // tenant -> (file, note)
  if (!fs::is_directory(dir, ec)) return std::vector<std::string>{};
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string suffix = kPurgeRegisterSuffix;
    if (name.empty() || name[0] == '.' || name.size() <= suffix.size() ||
        name.substr(name.size() - suffix.size()) != suffix) {
      continue;
    }
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return absl::InternalError("read " + e.path().string());
    entries[name.substr(0, name.size() - suffix.size())] = {e.path(), ss.str()};
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", dir.string(), ": ", ec.message()));
  if (entries.empty()) return std::vector<std::string>{};

  std::vector<std::string> cf_names;
  rocksdb::Options options;
  if (auto s = FromRocks(rocksdb::DB::ListColumnFamilies(options, data_dir, &cf_names),
                         "list column families");
      !s.ok()) {
    return s;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : cf_names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto s = FromRocks(rocksdb::DB::Open(rocksdb::DBOptions(), data_dir, cfs, &handles, &raw),
                         "open " + data_dir);
      !s.ok()) {
    return s;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  auto close = [&] {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    handles.clear();
    db.reset();
  };
  auto handle = [&](std::string_view name) -> rocksdb::ColumnFamilyHandle* {
    for (size_t i = 0; i < cf_names.size(); ++i) {
      if (cf_names[i] == name) return handles[i];
    }
    return nullptr;
  };
  // The trusted keys: the backup's, and the store's own key history (a
  // certificate may be signed by a key rotated to later).
  std::vector<chain::NoteVerifierKey> trusted = keys;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    const std::string prefix = kSigningKeyPrefix;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      auto k = chain::ParseNoteVerifierKey(it->value().ToString());
      if (k.ok()) trusted.push_back(*k);
    }
  }
  rocksdb::WriteBatch batch;
  std::vector<std::string> applied;
  for (const auto& [tenant, entry] : entries) {
    const auto& [file, note] = entry;
    auto c = chain::VerifyDeletionCertificate(note, trusted);
    if (!c.ok() || c->tenant != tenant) {
      close();
      return absl::FailedPreconditionError(absl::StrCat(
          "purge register ", file.string(), ": not a deletion certificate of tenant ", tenant,
          " signed by the backup's key or a key of its history",
          c.ok() ? "" : ": ", c.ok() ? "" : std::string(c.status().message())));
    }
    const std::string key = std::string(kPurgedPrefix) + tenant;
    std::string stored;
    const rocksdb::Status got = db->Get(rocksdb::ReadOptions(), key, &stored);
    if (got.ok()) continue;  // purged in the backup already
    if (!got.IsNotFound()) {
      close();
      return FromRocks(got, "read " + key);
    }
    const std::string begin = TenantPrefix(tenant);
    std::string end(tenant);
    end.push_back('\x01');
    // A backup from before the index was keyed id first keeps it keyed by
    // tenant, and one from before bodies were kept in runs has them one per
    // row (the daemon moves both when it opens the store).
    for (const char* cf : {kBodiesCf, kLegacyBodiesCf, kLegacyEventIdsCf}) {
      if (auto* h = handle(cf)) batch.DeleteRange(h, begin, end);
    }
    batch.Put(key, note);
    applied.push_back(tenant);
  }
  // Every certificate holds. The event ids of these tenants, and of purges
  // the backup caught before the daemon had deleted their ids (a
  // store::kPurgingEventIdsPrefix mark), go in one scan of the index, in
  // synced writes of their own, before the purges are written.
  std::vector<std::string> ids_of = applied;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    const std::string prefix = kPurgingEventIdsPrefix;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      ids_of.push_back(it->key().ToString().substr(prefix.size()));
      batch.Delete(it->key());
    }
  }
  if (auto* h = handle(kEventIdsCf)) {
    if (auto s = DeleteTenantsEventIds(db.get(), h, ids_of); !s.ok()) {
      close();
      return s;
    }
  }
  if (!ids_of.empty()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (auto s = FromRocks(db->Write(wo, &batch), "write the purges"); !s.ok()) {
      close();
      return s;
    }
    // The content goes from the files too.
    rocksdb::FlushOptions fo;
    fo.wait = true;
    absl::Status s = FromRocks(db->Flush(fo, handles), "flush");
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* h : handles) {
      if (s.ok()) s = FromRocks(db->CompactRange(co, h, nullptr, nullptr), "compact");
    }
    if (s.ok()) s = FromRocks(db->FlushWAL(true), "flush WAL");
    if (!s.ok()) {
      close();
      return s;
    }
  }
  close();
  return applied;
}

}  // namespace indelible::store
