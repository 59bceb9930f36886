#include "tests/verifier/raw_store.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "rocksdb/options.h"

namespace indelible::testing {
namespace {

rocksdb::Slice S(std::string_view s) { return {s.data(), s.size()}; }

void Check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "RawStore: %s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

}  // namespace

RawStore::RawStore(const std::string& dir, bool create) {
  rocksdb::Options opts;
  opts.create_if_missing = create;
  opts.create_missing_column_families = true;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(opts, dir, &names).ok()) names.clear();
  for (const char* cf :
       {rocksdb::kDefaultColumnFamilyName.c_str(), store::kSkeletonsCf,
        store::kBodiesCf, store::kHeadsCf, store::kEventIdsCf,
        store::kCheckpointsCf}) {
    if (std::find(names.begin(), names.end(), cf) == names.end()) {
      names.push_back(cf);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(opts, dir, cfs, &handles_, &raw), "open");
  db_.reset(raw);
  if (create) Put(rocksdb::kDefaultColumnFamilyName, store::kFormatKey,
                  store::kFormatValue);
}

RawStore::~RawStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  Check(db_->Close(), "close");
}

rocksdb::ColumnFamilyHandle* RawStore::Handle(std::string_view cf) {
  for (auto* h : handles_) {
    if (h->GetName() == cf) return h;
  }
  std::abort();
}

void RawStore::Put(std::string_view cf, std::string_view key,
                   std::string_view value) {
  Check(db_->Put(rocksdb::WriteOptions(), Handle(cf), S(key), S(value)), "put");
}

void RawStore::Delete(std::string_view cf, std::string_view key) {
  Check(db_->Delete(rocksdb::WriteOptions(), Handle(cf), S(key)), "delete");
}

std::optional<std::string> RawStore::Get(std::string_view cf,
                                         std::string_view key) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(cf), S(key), &v);
  if (s.IsNotFound()) return std::nullopt;
  Check(s, "get");
  return v;
}

void RawStore::Flush() {
  Check(db_->Flush(rocksdb::FlushOptions(), handles_), "flush");
}

void RawStore::WriteRecord(const std::string& tenant, const TestRecord& r) {
  const std::string key = store::SeqKey(tenant, r.seq);
  Put(store::kSkeletonsCf, key, store::EncodeSkeleton(r.skeleton));
  if (r.has_body) {
    Put(store::kBodiesCf, key, r.body);
  } else {
    Delete(store::kBodiesCf, key);
  }
}

void RawStore::WriteHead(const std::string& tenant, const store::Head& h) {
  Put(store::kHeadsCf, tenant, store::EncodeHead(h));
}

void RawStore::WriteChain(const std::string& tenant,
                          const std::vector<TestRecord>& records, bool head) {
  rocksdb::WriteBatch batch;
  for (const TestRecord& r : records) {
    const std::string key = store::SeqKey(tenant, r.seq);
    batch.Put(Handle(store::kSkeletonsCf), key,
              store::EncodeSkeleton(r.skeleton));
    if (r.has_body) batch.Put(Handle(store::kBodiesCf), key, r.body);
  }
  if (head && !records.empty()) {
    batch.Put(Handle(store::kHeadsCf), tenant,
              store::EncodeHead(HeadOf(records)));
  }
  Check(db_->Write(rocksdb::WriteOptions(), &batch), "write");
}

TestRecord RawStore::ReadRecord(const std::string& tenant, uint64_t seq) {
  const std::string key = store::SeqKey(tenant, seq);
  TestRecord r;
  r.seq = seq;
  auto sk = Get(store::kSkeletonsCf, key);
  if (!sk || !store::DecodeSkeleton(*sk, &r.skeleton)) std::abort();
  auto body = Get(store::kBodiesCf, key);
  r.has_body = body.has_value();
  if (body) r.body = *body;
  return r;
}

void RawStore::DeleteRecord(const std::string& tenant, uint64_t seq) {
  const std::string key = store::SeqKey(tenant, seq);
  Delete(store::kSkeletonsCf, key);
  Delete(store::kBodiesCf, key);
}

void CopyTree(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

}  // namespace indelible::testing
