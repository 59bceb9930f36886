#include "tests/verifier/raw_store.h"

#include <algorithm>
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

namespace {

using Bodies = std::vector<std::pair<uint64_t, std::string>>;

// The tenant's row of bodies at or before seq, as (first seq, bodies);
// nullopt if there is none. Aborts on a row that does not decode.
std::optional<std::pair<uint64_t, Bodies>> RunAt(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                                 const std::string& tenant, uint64_t seq) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  it->SeekForPrev(store::SeqKey(tenant, seq));
  std::string_view t;
  uint64_t first;
  if (!it->Valid() || !store::ParseSeqKey(it->key().ToStringView(), &t, &first) ||
      t != tenant) {
    Check(it->status(), "seek bodies");
    return std::nullopt;
  }
  Bodies bodies;
  store::BodyRun run(first, it->value().ToStringView());
  uint64_t s;
  std::string_view b;
  while (run.Next(&s, &b)) bodies.emplace_back(s, std::string(b));
  if (run.malformed()) {
    std::fprintf(stderr, "RawStore: the bodies row of %s at %llu does not decode\n",
                 tenant.c_str(), static_cast<unsigned long long>(first));
    std::abort();
  }
  return std::make_pair(first, std::move(bodies));
}

void PutRun(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& tenant,
            uint64_t first, const Bodies& bodies) {
  const std::string key = store::SeqKey(tenant, first);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (bodies.empty()) {
    Check(db->Delete(wo, cf, key), "delete run");
    return;
  }
  std::string row;
  for (const auto& [seq, body] : bodies) store::AppendToBodyRun(&row, seq, body);
  Check(db->Put(wo, cf, key, row), "put run");
}

}  // namespace

std::optional<std::string> GetBody(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* bodies,
                                   const std::string& tenant, uint64_t seq) {
  auto run = RunAt(db, bodies, tenant, seq);
  if (!run) return std::nullopt;
  for (const auto& [s, body] : run->second) {
    if (s == seq) return body;
  }
  return std::nullopt;
}

void PutBody(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& tenant,
             uint64_t seq, std::string_view body) {
  auto run = RunAt(db, cf, tenant, seq);
  if (!run || run->second.empty() || run->second.back().first < seq) {
    PutRun(db, cf, tenant, seq, {{seq, std::string(body)}});
    return;
  }
  Bodies& bodies = run->second;
  auto at = std::lower_bound(bodies.begin(), bodies.end(), seq,
                             [](const auto& b, uint64_t s) { return b.first < s; });
  if (at != bodies.end() && at->first == seq) {
    at->second.assign(body);
  } else {
    bodies.insert(at, {seq, std::string(body)});
  }
  PutRun(db, cf, tenant, run->first, bodies);
}

void DeleteBody(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& tenant,
                uint64_t seq) {
  auto run = RunAt(db, cf, tenant, seq);
  if (!run) return;
  Bodies& bodies = run->second;
  const size_t before = bodies.size();
  bodies.erase(std::remove_if(bodies.begin(), bodies.end(),
                              [seq](const auto& b) { return b.first == seq; }),
               bodies.end());
  if (bodies.size() != before) PutRun(db, cf, tenant, run->first, bodies);
}

std::optional<std::string> RawStore::GetBody(const std::string& tenant, uint64_t seq) {
  return testing::GetBody(db_.get(), Handle(store::kBodiesCf), tenant, seq);
}

void RawStore::PutBody(const std::string& tenant, uint64_t seq, std::string_view body) {
  testing::PutBody(db_.get(), Handle(store::kBodiesCf), tenant, seq, body);
}

void RawStore::DeleteBody(const std::string& tenant, uint64_t seq) {
  testing::DeleteBody(db_.get(), Handle(store::kBodiesCf), tenant, seq);
}

std::optional<std::string> RawStore::GetSkeleton(const std::string& tenant, uint64_t seq) {
  return testing::GetBody(db_.get(), Handle(store::kSkeletonsCf), tenant, seq);
}

void RawStore::PutSkeleton(const std::string& tenant, uint64_t seq, std::string_view skeleton) {
  testing::PutBody(db_.get(), Handle(store::kSkeletonsCf), tenant, seq, skeleton);
}

void RawStore::DeleteSkeleton(const std::string& tenant, uint64_t seq) {
  testing::DeleteBody(db_.get(), Handle(store::kSkeletonsCf), tenant, seq);
}

void RawStore::WriteRecord(const std::string& tenant, const TestRecord& r) {
  PutSkeleton(tenant, r.seq, store::EncodeSkeleton(r.skeleton));
  if (r.has_body) {
    PutBody(tenant, r.seq, r.body);
  } else {
    DeleteBody(tenant, r.seq);
  }
}

void RawStore::WriteHead(const std::string& tenant, const store::Head& h) {
  Put(store::kHeadsCf, tenant, store::EncodeHead(h));
}

void RawStore::WriteChain(const std::string& tenant,
                          const std::vector<TestRecord>& records, bool head) {
  rocksdb::WriteBatch batch;
  std::string run_key, run, skeleton_key, skeleton_run;
  size_t run_records = 0, skeleton_records = 0;
  uint64_t next_seq = 0, next_skeleton_seq = 0;
  auto put_run = [&] {
    if (run_records != 0) batch.Put(Handle(store::kBodiesCf), run_key, run);
    run.clear();
    run_records = 0;
  };
  auto put_skeleton_run = [&] {
    if (skeleton_records != 0) {
      batch.Put(Handle(store::kSkeletonsCf), skeleton_key, skeleton_run);
    }
    skeleton_run.clear();
    skeleton_records = 0;
  };
  for (const TestRecord& r : records) {
    const std::string key = store::SeqKey(tenant, r.seq);
    if (skeleton_records == store::kBodyRunMaxRecords || r.seq != next_skeleton_seq) {
      put_skeleton_run();
    }
    if (skeleton_records == 0) skeleton_key = key;
    store::AppendToSkeletonRun(&skeleton_run, r.seq, store::EncodeSkeleton(r.skeleton));
    ++skeleton_records;
    next_skeleton_seq = r.seq + 1;
    if (!r.has_body) continue;
    if (run_records == store::kBodyRunMaxRecords || r.seq != next_seq) put_run();
    if (run_records == 0) run_key = key;
    store::AppendToBodyRun(&run, r.seq, r.body);
    ++run_records;
    next_seq = r.seq + 1;
  }
  put_run();
  put_skeleton_run();
  if (head && !records.empty()) {
    batch.Put(Handle(store::kHeadsCf), tenant,
              store::EncodeHead(HeadOf(records)));
  }
  Check(db_->Write(rocksdb::WriteOptions(), &batch), "write");
}

TestRecord RawStore::ReadRecord(const std::string& tenant, uint64_t seq) {
  TestRecord r;
  r.seq = seq;
  auto sk = GetSkeleton(tenant, seq);
  if (!sk || !store::DecodeSkeleton(*sk, &r.skeleton)) std::abort();
  auto body = GetBody(tenant, seq);
  r.has_body = body.has_value();
  if (body) r.body = *body;
  return r;
}

void RawStore::DeleteRecord(const std::string& tenant, uint64_t seq) {
  DeleteSkeleton(tenant, seq);
  DeleteBody(tenant, seq);
}

void CopyTree(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

}  // namespace indelible::testing
