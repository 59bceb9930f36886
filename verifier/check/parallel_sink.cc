#include "verifier/check/parallel_sink.h"

#include <algorithm>
#include <string>

namespace indelible::check {

// A run of consecutive work: records to check and sequential findings, each
// numbered by its position (ordinal) in the stream, so the findings of both
// can be merged back into stream order.
struct ParallelSink::Chunk {
  struct Item {
    uint32_t ordinal = 0;
    uint32_t tenant = 0;  // index into tenants
    bool has_prev = false;
    RecordView record;  // body is empty here: see body_offset/body_size
    size_t body_offset = 0;
    size_t body_size = 0;
    chain::Digest prev{};
  };
  struct Numbered {
    uint32_t ordinal;
    Finding finding;
  };

  std::vector<std::string> tenants;
  std::string arena;
  std::vector<Item> items;
  std::vector<Numbered> sequential;  // written by the reader
  std::vector<Numbered> content;     // written by the worker
  std::string output;                // written by the worker: formatted records
  uint64_t output_rows = 0;
  uint32_t next_ordinal = 0;
  bool done = false;  // guarded by ParallelSink::mu_

  void Clear() {
    tenants.clear();
    arena.clear();
    items.clear();
    sequential.clear();
    content.clear();
    output.clear();
    output_rows = 0;
    next_ordinal = 0;
    done = false;
  }
};

ParallelSink::ParallelSink(const ParallelSinkOptions& options,
                           Reporter* reporter)
    : options_(options), reporter_(reporter) {
  if (options_.chunk_records == 0) options_.chunk_records = 1;
  current_ = NewChunk();
  if (options_.max_in_flight <= 0) {
    options_.max_in_flight = std::max(options_.threads, 0) + 2;
  }
  for (int i = 0; i < options_.threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ParallelSink::~ParallelSink() {
  Flush();
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

std::unique_ptr<ParallelSink::Chunk> ParallelSink::NewChunk() {
  if (!spare_.empty()) {
    std::unique_ptr<Chunk> c = std::move(spare_.back());
    spare_.pop_back();
    c->Clear();
    return c;
  }
  auto c = std::make_unique<Chunk>();
  c->items.reserve(options_.chunk_records);
  // The arena never grows (a copy of all it holds) but for a body that
  // ends past chunk_bytes + kArenaSlack.
  constexpr size_t kArenaSlack = 64 << 10;
  c->arena.reserve(options_.chunk_bytes + kArenaSlack);
  return c;
}

void ParallelSink::Report(Finding finding) {
  Chunk& c = *current_;
  c.sequential.push_back({c.next_ordinal++, std::move(finding)});
}

void ParallelSink::CheckContent(std::string_view tenant, const RecordView& r,
                                const chain::Digest* prev) {
  Chunk& c = *current_;
  if (c.tenants.empty() || c.tenants.back() != tenant) {
    c.tenants.emplace_back(tenant);
  }
  Chunk::Item item;
  item.ordinal = c.next_ordinal++;
  item.tenant = static_cast<uint32_t>(c.tenants.size() - 1);
  item.record = r;
  item.record.body = {};  // the arena may still move: see Run()
  item.body_offset = c.arena.size();
  if (r.has_body) {
    c.arena.append(r.body);
    item.body_size = r.body.size();
  }
  if (prev != nullptr) {
    item.has_prev = true;
    item.prev = *prev;
  }
  c.items.push_back(item);
  if (c.items.size() >= options_.chunk_records ||
      c.arena.size() >= options_.chunk_bytes) {
    Submit();
  }
}

void ParallelSink::Run(Chunk* c, const RecordFormatter* formatter) {
  std::vector<Finding> found;
  chain::EventFields event;
  for (const Chunk::Item& item : c->items) {
    RecordView r = item.record;
    r.body = std::string_view(c->arena).substr(item.body_offset,
                                               item.body_size);
    found.clear();
    const std::string_view tenant = c->tenants[item.tenant];
    const bool decoded = CheckRecordContent(tenant, r, item.has_prev ? &item.prev : nullptr,
                                            &found, formatter ? &event : nullptr);
    if (formatter != nullptr && found.empty() && item.has_prev) {
      c->output_rows +=
          formatter->Format(tenant, r, item.prev, decoded ? &event : nullptr, &c->output);
    }
    for (Finding& f : found) c->content.push_back({item.ordinal, std::move(f)});
  }
}

void ParallelSink::Submit() {
  if (current_->items.empty() && current_->sequential.empty()) return;
  Chunk* c = current_.get();
  in_flight_.push_back(std::move(current_));
  current_ = NewChunk();
  if (workers_.empty()) {
    Run(c, options_.formatter);
    c->done = true;
  } else {
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back(c);
    }
    work_cv_.notify_one();
  }
  while (in_flight_.size() > static_cast<size_t>(options_.max_in_flight)) {
    DeliverOldest();
  }
}

void ParallelSink::DeliverOldest() {
  Chunk* c = in_flight_.front().get();
  if (!workers_.empty()) {
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [c] { return c->done; });
  }
  // Both lists are in ordinal order and never share an ordinal.
  auto s = c->sequential.begin(), t = c->content.begin();
  while (s != c->sequential.end() || t != c->content.end()) {
    if (t == c->content.end() ||
        (s != c->sequential.end() && s->ordinal < t->ordinal)) {
      reporter_->Report((s++)->finding);
    } else {
      reporter_->Report((t++)->finding);
    }
  }
  if (options_.formatter != nullptr) {
    options_.formatter->Deliver(c->output, c->output_rows);
  }
  delivered_ += c->items.size();
  spare_.push_back(std::move(in_flight_.front()));
  in_flight_.pop_front();
  if (progress_) progress_(delivered_);
}

void ParallelSink::Flush() {
  Submit();
  while (!in_flight_.empty()) DeliverOldest();
}

void ParallelSink::WorkerLoop() {
  for (;;) {
    Chunk* c;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      c = queue_.front();
      queue_.pop_front();
    }
    Run(c, options_.formatter);
    {
      std::lock_guard<std::mutex> l(mu_);
      c->done = true;
    }
    done_cv_.notify_all();
  }
}

}  // namespace indelible::check
