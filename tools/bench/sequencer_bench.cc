// SequencerClosedLoop/SYNC_US/CLIENTS: the write path without gRPC —
// Storage (RocksDB) and the Sequencer's group commit — with CLIENTS threads
// each appending one ~512-byte event at a time and waiting for its receipt.
// The write-ahead log's sync is the real one plus SYNC_US microseconds of
// sleep, so the group-commit design can be measured at a chosen fsync
// latency, whatever speed this machine's disk has at the moment (see
// docs/PERFORMANCE.md, "The machine"). items_per_second is durable appends/s.
//
// SequencerStreams/TENANTS: the same write path with the real sync at
// saturation, as the stream scenario loads it but without gRPC or a load
// generator: 8 threads each keep 16 requests of 100 events in flight, the
// events spread over TENANTS tenants round robin (event n of the run goes to
// tenant n mod TENANTS, as indelible-loadgen --tenants does, so a request
// mixes tenants). Events are built and their bodies hashed on the
// submitting threads, as PrepareEvent does on the RPC threads. The store
// keeps growing across iterations, so flushes and compactions are in it.
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "daemon/clock.h"
#include "daemon/write/sequencer.h"
#include "daemon/write/storage.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Adds a fixed delay to every sync of the write-ahead log (*.log).
class SlowSyncFs : public rocksdb::FileSystemWrapper {
 public:
  explicit SlowSyncFs(std::chrono::microseconds delay)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), delay_(delay) {}
  const char* Name() const override { return "SlowSyncFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = FileSystemWrapper::NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) {
      *r = std::make_unique<Wal>(std::move(*r), delay_);
    }
    return s;
  }

 private:
  class Wal : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Wal(std::unique_ptr<rocksdb::FSWritableFile> f, std::chrono::microseconds d)
        : FSWritableFileOwnerWrapper(std::move(f)), delay_(d) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* d) override {
      std::this_thread::sleep_for(delay_);
      return FSWritableFileOwnerWrapper::Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* d) override {
      std::this_thread::sleep_for(delay_);
      return FSWritableFileOwnerWrapper::Fsync(o, d);
    }

   private:
    const std::chrono::microseconds delay_;
  };

  const std::chrono::microseconds delay_;
};

PreparedEvent MakeEvent(uint64_t n, std::string tenant = "acme") {
  PreparedEvent e;
  e.tenant = std::move(tenant);
  e.event_id = "ev-" + std::to_string(n);
  e.category = "access";
  chain::Salt salt;
  salt.fill(7);
  const std::string ce = "ce:" + e.event_id + std::string(480, 'r');
  e.body = store::EncodeBody(0, salt, ce);
  e.body_digest = chain::BodyDigest(salt, ce);
  return e;
}

void BM_SequencerClosedLoop(benchmark::State& state) {
  const auto delay = std::chrono::microseconds(state.range(0));
  const int clients = static_cast<int>(state.range(1));
  constexpr int kPerClient = 40;
  const std::string dir =
      (std::filesystem::temp_directory_path() /
       ("indelible-seqbench-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  auto fs = std::make_shared<SlowSyncFs>(delay);
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  StorageOptions so;
  so.env = env.get();
  auto storage = Storage::Open(dir, so);
  if (!storage.ok()) {
    state.SkipWithError(storage.status().ToString().c_str());
    return;
  }
  SystemClock clock;
  {
    Sequencer seq(storage->get(), &clock, Sequencer::Options());
    if (!seq.Start().ok()) {
      state.SkipWithError("sequencer did not start");
      return;
    }
    std::atomic<uint64_t> next_id{0};
    std::atomic<bool> failed{false};
    for (auto _ : state) {
      std::vector<std::thread> threads;
      for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
          for (int i = 0; i < kPerClient; ++i) {
            std::promise<bool> p;
            seq.Submit({MakeEvent(next_id++)},
                       [&p](absl::StatusOr<std::vector<Receipt>> r) {
                         p.set_value(r.ok());
                       });
            if (!p.get_future().get()) failed = true;
          }
        });
      }
      for (auto& t : threads) t.join();
    }
    if (failed) state.SkipWithError("an append failed");
  }
  state.SetItemsProcessed(state.iterations() * clients * kPerClient);
  storage->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SequencerClosedLoop)
    ->ArgNames({"sync_us", "clients"})
    ->ArgsProduct({{0, 1000, 4000}, {1, 64}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_SequencerStreams(benchmark::State& state) {
  const int tenants = static_cast<int>(state.range(0));
  constexpr int kThreads = 8, kWindow = 16, kBatch = 100, kRequestsPerThread = 40;
  const std::string dir =
      (std::filesystem::temp_directory_path() /
       ("indelible-seqstreams-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  auto storage = Storage::Open(dir, StorageOptions());
  if (!storage.ok()) {
    state.SkipWithError(storage.status().ToString().c_str());
    return;
  }
  SystemClock clock;
  const double cpu_start = ProcessCpuSeconds();
  {
    Sequencer::Options o;
    o.max_queued_events = size_t{1} << 30;  // the threads' windows bound it
    Sequencer seq(storage->get(), &clock, o);
    if (!seq.Start().ok()) {
      state.SkipWithError("sequencer did not start");
      return;
    }
    std::atomic<uint64_t> next_id{0};
    std::atomic<bool> failed{false};
    for (auto _ : state) {
      std::vector<std::thread> threads;
      for (int c = 0; c < kThreads; ++c) {
        threads.emplace_back([&] {
          std::mutex mu;
          std::condition_variable cv;
          int in_flight = 0;
          for (int r = 0; r < kRequestsPerThread; ++r) {
            std::vector<PreparedEvent> events;
            events.reserve(kBatch);
            for (int i = 0; i < kBatch; ++i) {
              const uint64_t id = next_id++;
              events.push_back(MakeEvent(id, "t" + std::to_string(id % tenants)));
            }
            std::unique_lock<std::mutex> l(mu);
            cv.wait(l, [&] { return in_flight < kWindow; });
            ++in_flight;
            l.unlock();
            seq.Submit(std::move(events), [&](absl::StatusOr<std::vector<Receipt>> res) {
              if (!res.ok()) failed = true;
              std::lock_guard<std::mutex> g(mu);
              --in_flight;
              cv.notify_one();
            });
          }
          std::unique_lock<std::mutex> l(mu);
          cv.wait(l, [&] { return in_flight == 0; });
        });
      }
      for (auto& t : threads) t.join();
    }
    if (failed) state.SkipWithError("an append failed");
  }
  const int64_t events = state.iterations() * kThreads * kRequestsPerThread * kBatch;
  // CPU of the whole process (every thread: submitters, sequencer,
  // committer, RocksDB's flushes and compactions) per event: steadier than
  // events/s on a shared machine.
  state.counters["cpu_us_per_event"] =
      (ProcessCpuSeconds() - cpu_start) * 1e6 / static_cast<double>(events);
  state.SetItemsProcessed(events);
  storage->reset();
  std::filesystem::remove_all(dir);
}
// A fixed count of iterations: each run's store grows to the same size,
// so runs meet the same flushes and compactions and their CPU per event
// compares.
BENCHMARK(BM_SequencerStreams)
    ->ArgNames({"tenants"})
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(30)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace indelible
