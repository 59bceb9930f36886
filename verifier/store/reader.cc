#include "verifier/store/reader.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"
#include "verifier/store/rocks_status.h"

namespace indelible::store {
namespace {

using chain::ToAbsl;

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ToView(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

// The smallest key greater than every key starting with `prefix`, or "" if
// there is none (the prefix is all 0xff bytes).
std::string PrefixUpperBound(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

absl::StatusOr<std::string> MakeScratchDir(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string tmpl = base + "/indelible-verify-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a scratch directory in ", base));
  }
  return tmpl;
}

// A key up to its tenant's 0x00 and one byte more: the rows of one tenant
// (and, in the tree, of one level) that a WAL holds in key order.
class TenantHintPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "indelible.TenantHintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), ToView(key).find('\0') + 2);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    const size_t zero = ToView(key).find('\0');
    return zero != std::string_view::npos && zero + 2 <= key.size();
  }
};

}  // namespace

Rows::Rows() = default;
Rows::~Rows() = default;
bool Rows::Valid() const { return it_ != nullptr && it_->Valid(); }
void Rows::Next() { it_->Next(); }
std::string_view Rows::key() const { return ToView(it_->key()); }
std::string_view Rows::value() const { return ToView(it_->value()); }
bool Rows::ok() const { return it_ == nullptr || it_->status().ok(); }
absl::Status Rows::status() const {
  if (it_ == nullptr) return absl::OkStatus();
  return FromRocksDb(it_->status(), "read");
}

RecordRows::~RecordRows() = default;

std::string_view RecordRows::skeleton() const { return skeletons_->value(); }
bool RecordRows::skeleton_damaged() const { return skeletons_->damaged(); }
std::string_view RecordRows::body() const { return bodies_->value(); }

rocksdb::Iterator* Rows::iterator() const { return it_.get(); }

void RecordRows::Settle() {
  const bool s = skeletons_->Valid(), b = bodies_->Valid();
  // A valid iterator's status is OK (rocksdb::Iterator::Valid()): only an
  // exhausted side can hold an error, and asking a merging iterator for its
  // status asks every table under it.
  valid_ = (s || b) && (s || skeletons_->status().ok()) && (b || bodies_->status().ok());
  if (!valid_) return;
  const int cmp = !s ? 1 : !b ? -1 : skeletons_->key().compare(bodies_->key());
  has_skeleton_ = cmp <= 0;
  has_body_ = cmp >= 0;
  key_ = has_skeleton_ ? skeletons_->key() : bodies_->key();
}

void RecordRows::Next() {
  if (has_skeleton_) skeletons_->Next();
  if (has_body_) bodies_->Next();
  Settle();
}

absl::Status RecordRows::status() const {
  if (auto s = FromRocksDb(skeletons_->status(), "read"); !s.ok()) return s;
  return FromRocksDb(bodies_->status(), "read");
}

absl::StatusOr<std::unique_ptr<Reader>> Reader::Open(
    const std::string& data_dir, const ReaderOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return absl::NotFoundError(absl::StrCat(data_dir, ": no such directory"));
  }
  if (!std::filesystem::exists(std::filesystem::path(data_dir) / "CURRENT",
                               ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " is not an Indelible data directory (no "
                               "RocksDB database in it)"));
  }
  std::unique_ptr<Reader> r(new Reader());
  r->data_dir_ = data_dir;

  rocksdb::Options opts;
  opts.create_if_missing = false;
  // A secondary must keep every table file open: the primary may delete a
  // compacted file while we still read it.
  opts.max_open_files = -1;
  opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::Status st =
      rocksdb::DB::ListColumnFamilies(opts, data_dir, &r->cf_names_);
  if (!st.ok()) {
    return FromRocksDb(st, absl::StrCat("list column families of ", data_dir));
  }
  // Skeletons and bodies are in runs, or, in a store the daemon has not
  // opened since runs, in the legacy column families.
  const char* bodies = r->HasColumnFamily(kLegacyBodiesCf) ? kLegacyBodiesCf : kBodiesCf;
  const char* skeletons =
      r->HasColumnFamily(kLegacySkeletonsCf) ? kLegacySkeletonsCf : kSkeletonsCf;
  for (const char* required : {skeletons, bodies, kHeadsCf}) {
    if (!r->HasColumnFamily(required)) {
      return absl::FailedPreconditionError(absl::StrCat(
          data_dir, " is not an Indelible store: no \"", required,
          "\" column family"));
    }
  }

  auto scratch = MakeScratchDir(options.scratch_dir);
  if (!scratch.ok()) return scratch.status();
  r->secondary_dir_ = *scratch;

  // Opening replays the daemon's unflushed WAL into memtables; skeletons
  // arrive in key order per tenant, so each insert starts where the
  // tenant's last one ended instead of searching the skip list from the
  // top. Only skeletons, as in the daemon (docs/ARCHITECTURE.md): RocksDB
  // 7.8 shares a prefix's hint with range tombstones, which a purge writes
  // for bodies and event ids and the tree upgrade for tree rows.
  rocksdb::ColumnFamilyOptions hinted;
  hinted.memtable_insert_with_hint_prefix_extractor = std::make_shared<TenantHintPrefix>();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : r->cf_names_) {
    cfs.emplace_back(name, name == kSkeletonsCf || name == kLegacySkeletonsCf
                               ? hinted
                               : rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* raw = nullptr;
  st = rocksdb::DB::OpenAsSecondary(opts, data_dir, r->secondary_dir_, cfs,
                                    &r->handles_, &raw);
  if (!st.ok()) return FromRocksDb(st, absl::StrCat("open ", data_dir));
  r->db_.reset(raw);
  st = r->db_->TryCatchUpWithPrimary();
  if (!st.ok()) {
    return FromRocksDb(st, absl::StrCat("catch up with ", data_dir));
  }

  auto format = r->Get(rocksdb::kDefaultColumnFamilyName, kFormatKey);
  if (!format.ok()) return format.status();
  if (!format->has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        data_dir, " is not an Indelible store: no format marker"));
  }
  if (**format != kFormatValue) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " holds format \"", **format, "\", want \"",
                     kFormatValue, "\""));
  }
  return r;
}

Reader::~Reader() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    db_.reset();
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

bool Reader::HasColumnFamily(std::string_view name) const {
  for (const auto& n : cf_names_) {
    if (n == name) return true;
  }
  return false;
}

rocksdb::ColumnFamilyHandle* Reader::Handle(std::string_view cf) const {
  for (auto* h : handles_) {
    if (h->GetName() == cf) return h;
  }
  return nullptr;
}

std::unique_ptr<Rows> Reader::NewRowsWithBounds(rocksdb::ColumnFamilyHandle* h,
                                                std::string lower, std::string upper,
                                                size_t readahead) const {
  std::unique_ptr<Rows> rows(new Rows());
  if (h == nullptr) return rows;
  rows->upper_bound_ = std::move(upper);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // one sequential pass: do not churn the cache
  ro.readahead_size = readahead;
  if (!rows->upper_bound_.empty()) {
    rows->upper_slice_ = std::make_unique<rocksdb::Slice>(rows->upper_bound_);
    ro.iterate_upper_bound = rows->upper_slice_.get();
  }
  rows->it_.reset(db_->NewIterator(ro, h));
  if (lower.empty()) {
    rows->it_->SeekToFirst();
  } else {
    rows->it_->Seek(ToSlice(lower));
  }
  return rows;
}

std::unique_ptr<Rows> Reader::NewRows(std::string_view cf,
                                      std::string_view key_prefix) const {
  std::string lower(key_prefix);
  std::string upper = PrefixUpperBound(lower);
  // RocksDB's own readahead, which starts small and grows while the reads
  // stay sequential: these are mostly short scans (one tenant's tree level,
  // its checkpoints), and a fixed readahead reads that much for each.
  return NewRowsWithBounds(Handle(cf), std::move(lower), std::move(upper), 0);
}

std::unique_ptr<RecordRows> Reader::NewRecordRows(
    std::string_view tenant) const {
  std::unique_ptr<RecordRows> r(new RecordRows());
  std::string lower = tenant.empty() ? "" : TenantPrefix(tenant);
  std::string upper = PrefixUpperBound(lower);
  // The one long pass over the store: large reads.
  constexpr size_t kReadahead = 2 << 20;
  r->skeleton_runs_ = NewRowsWithBounds(Handle(kSkeletonsCf), lower, upper, kReadahead);
  r->legacy_skeletons_ =
      NewRowsWithBounds(Handle(kLegacySkeletonsCf), lower, upper, kReadahead);
  r->skeletons_ = std::make_unique<SkeletonRecords>(r->skeleton_runs_->iterator(),
                                                    r->legacy_skeletons_->iterator());
  r->runs_ = NewRowsWithBounds(Handle(kBodiesCf), lower, upper, kReadahead);
  r->legacy_bodies_ = NewRowsWithBounds(Handle(kLegacyBodiesCf), lower, upper, kReadahead);
  r->bodies_ = std::make_unique<BodyRecords>(r->runs_->iterator(), r->legacy_bodies_->iterator());
  if (lower.empty()) {
    r->skeletons_->SeekToFirst();
    r->bodies_->SeekToFirst();
  } else {
    // No row of the tenant starts before its prefix: a forward seek reads
    // nothing of the tenant before it (Seek would read its last table).
    r->skeletons_->SeekFrom(lower, lower);
    r->bodies_->SeekFrom(lower, lower);
  }
  r->Settle();
  return r;
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>> Reader::LastRow(
    std::string_view cf, std::string_view key_prefix) const {
  using Row = std::optional<std::pair<std::string, std::string>>;
  rocksdb::ColumnFamilyHandle* h = Handle(cf);
  if (h == nullptr) return Row();
  const std::string upper = PrefixUpperBound(std::string(key_prefix));
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, h));
  it->SeekToLast();
  if (!it->Valid()) {
    if (auto st = FromRocksDb(it->status(), absl::StrCat("read ", ToAbsl(cf))); !st.ok()) {
      return st;
    }
    return Row();
  }
  if (!ToView(it->key()).starts_with(key_prefix)) return Row();
  return Row(std::in_place, it->key().ToString(), it->value().ToString());
}

absl::StatusOr<std::optional<std::string>> Reader::Get(
    std::string_view cf, std::string_view key) const {
  rocksdb::ColumnFamilyHandle* h = Handle(cf);
  if (h == nullptr) return std::optional<std::string>();
  std::string value;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), h, ToSlice(key), &value);
  if (st.IsNotFound()) return std::optional<std::string>();
  if (!st.ok()) return FromRocksDb(st, absl::StrCat("read ", ToAbsl(cf)));
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::optional<std::string>> Reader::GetSkeleton(std::string_view tenant,
                                                               uint64_t seq) const {
  // Rows from SkeletonRunFloor up to seq, none after it (as the daemon's
  // Storage::GetSkeleton).
  const std::string above = SeqKeyAbove(tenant, seq);
  const rocksdb::Slice above_slice(above);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &above_slice;
  std::unique_ptr<rocksdb::Iterator> runs, legacy;
  if (auto* h = Handle(kSkeletonsCf)) runs.reset(db_->NewIterator(ro, h));
  if (auto* h = Handle(kLegacySkeletonsCf)) legacy.reset(db_->NewIterator(ro, h));
  SkeletonRecords skeletons(runs.get(), legacy.get());
  const std::string key = SeqKey(tenant, seq);
  skeletons.SeekFrom(SkeletonRunFloor(tenant, seq), key);
  if (skeletons.Valid() && skeletons.key() <= key) {
    if (skeletons.damaged() || skeletons.key() != key) {
      return absl::DataLossError(absl::StrCat("the row of skeletons that holds seq ", seq,
                                              " does not decode"));
    }
    return std::optional<std::string>(std::string(skeletons.value()));
  }
  if (auto s = FromRocksDb(skeletons.status(), "read skeletons"); !s.ok()) return s;
  return std::optional<std::string>();
}

}  // namespace indelible::store
