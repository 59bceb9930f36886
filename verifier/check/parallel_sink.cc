#include "verifier/check/parallel_sink.h"

#include <algorithm>
#include <string>
#include <utility>

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
  struct Step {
    uint32_t ordinal = 0;
    uint32_t flags = 0;
    OrderedStep* step = nullptr;
    RecordView record;  // body as in Item
    size_t body_offset = 0;
    size_t body_size = 0;
  };
  struct Numbered {
    uint32_t ordinal;
    Finding finding;
  };

  std::vector<std::string> tenants;
  std::string arena;
  std::vector<Item> items;
  std::vector<Step> steps;
  std::vector<Numbered> sequential;  // written by the reader
  std::vector<Numbered> content;     // written by the worker
  std::vector<Numbered> ordered;     // written by the step thread
  std::string output;                // written by the worker: formatted records
  uint64_t output_rows = 0;
  uint32_t next_ordinal = 0;
  bool done = false;        // guarded by ParallelSink::mu_
  bool steps_done = false;  // guarded by ParallelSink::mu_

  std::string_view Body(size_t offset, size_t size) const {
    return std::string_view(arena).substr(offset, size);
  }

  void Clear() {
    tenants.clear();
    arena.clear();
    items.clear();
    steps.clear();
    sequential.clear();
    content.clear();
    ordered.clear();
    output.clear();
    output_rows = 0;
    next_ordinal = 0;
    done = false;
    steps_done = false;
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
  step_cv_.notify_all();
  for (auto& t : workers_) t.join();
  if (stepper_.joinable()) stepper_.join();
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

void ParallelSink::SubmitIfFull() {
  const Chunk& c = *current_;
  if (c.items.size() >= options_.chunk_records ||
      c.steps.size() >= options_.chunk_records ||
      c.arena.size() >= options_.chunk_bytes) {
    Submit();
  }
}

void ParallelSink::CheckContent(std::string_view tenant, const RecordView& r,
                                const chain::Digest* prev) {
  // Checked before, not after, adding: the record stays in the current
  // chunk for a Follow() of it to share its body.
  SubmitIfFull();
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
}

void ParallelSink::Follow(OrderedStep* step, std::string_view tenant,
                          const RecordView& r, uint32_t flags) {
  const Chunk::Item* last = current_->items.empty() ? nullptr : &current_->items.back();
  const size_t body_size = r.has_body ? r.body.size() : 0;
  const bool shared = last != nullptr && last->record.seq == r.seq &&
                      last->record.has_body == r.has_body && last->body_size == body_size &&
                      current_->tenants[last->tenant] == tenant;
  if (!shared) SubmitIfFull();
  Chunk& c = *current_;
  Chunk::Step s;
  s.ordinal = c.next_ordinal++;
  s.flags = flags;
  s.step = step;
  s.record = r;
  s.record.body = {};
  s.body_size = body_size;
  if (shared) {
    s.body_offset = last->body_offset;
  } else {
    s.body_offset = c.arena.size();
    c.arena.append(r.body.substr(0, body_size));
  }
  c.steps.push_back(s);
}

void ParallelSink::Run(Chunk* c, const RecordFormatter* formatter) {
  std::vector<Finding> found;
  chain::EventFields event;
  for (const Chunk::Item& item : c->items) {
    RecordView r = item.record;
    r.body = c->Body(item.body_offset, item.body_size);
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

void ParallelSink::RunSteps(Chunk* c) {
  // The findings of a step, numbered with its place in the stream.
  class Numbering final : public Reporter {
   public:
    explicit Numbering(Chunk* c) : c_(c) {}
    void Report(const Finding& f) override { c_->ordered.push_back({ordinal, f}); }
    uint32_t ordinal = 0;

   private:
    Chunk* c_;
  };
  Numbering out(c);
  for (const Chunk::Step& s : c->steps) {
    RecordView r = s.record;
    r.body = c->Body(s.body_offset, s.body_size);
    out.ordinal = s.ordinal;
    s.step->Step(r, s.flags, &out);
  }
}

void ParallelSink::Submit() {
  if (current_->items.empty() && current_->sequential.empty() && current_->steps.empty()) {
    return;
  }
  Chunk* c = current_.get();
  in_flight_.push_back(std::move(current_));
  current_ = NewChunk();
  const bool has_steps = !c->steps.empty();
  if (workers_.empty()) {
    Run(c, options_.formatter);
    RunSteps(c);
    c->done = c->steps_done = true;
  } else {
    if (has_steps && !stepper_.joinable()) stepper_ = std::thread([this] { StepLoop(); });
    {
      std::lock_guard<std::mutex> l(mu_);
      c->steps_done = !has_steps;
      queue_.push_back(c);
      if (has_steps) step_queue_.push_back(c);
    }
    work_cv_.notify_one();
    if (has_steps) step_cv_.notify_one();
  }
  while (in_flight_.size() > static_cast<size_t>(options_.max_in_flight)) {
    DeliverOldest();
  }
}

void ParallelSink::DeliverOldest() {
  Chunk* c = in_flight_.front().get();
  if (!workers_.empty()) {
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [c] { return c->done && c->steps_done; });
  }
  // Each list is in ordinal order; no two lists share an ordinal.
  using Iter = std::vector<Chunk::Numbered>::const_iterator;
  std::pair<Iter, Iter> lists[] = {{c->sequential.begin(), c->sequential.end()},
                                   {c->content.begin(), c->content.end()},
                                   {c->ordered.begin(), c->ordered.end()}};
  for (;;) {
    std::pair<Iter, Iter>* next = nullptr;
    for (auto& l : lists) {
      if (l.first != l.second && (next == nullptr || l.first->ordinal < next->first->ordinal)) {
        next = &l;
      }
    }
    if (next == nullptr) break;
    reporter_->Report((next->first++)->finding);
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

void ParallelSink::StepLoop() {
  for (;;) {
    Chunk* c;
    {
      std::unique_lock<std::mutex> l(mu_);
      step_cv_.wait(l, [this] { return stop_ || !step_queue_.empty(); });
      if (step_queue_.empty()) return;
      c = step_queue_.front();
      step_queue_.pop_front();
    }
    RunSteps(c);
    {
      std::lock_guard<std::mutex> l(mu_);
      c->steps_done = true;
    }
    done_cv_.notify_all();
  }
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
