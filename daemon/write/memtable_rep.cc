#include "daemon/write/memtable_rep.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "rocksdb/slice.h"
#include "rocksdb/version.h"

// Get() reads the lookup key through LookupKeyView below: RocksDB declares
// LookupKey only in an internal header, and its base Get() leaks the
// iterator it makes. The layout is that of RocksDB 7.x's db/dbformat.h;
// every point read of the daemon goes through it, so the storage tests fail
// at once if it ever differs.
static_assert(ROCKSDB_MAJOR == 7, "check LookupKeyView against db/dbformat.h");

namespace indelible {
namespace {

using rocksdb::Slice;

struct LookupKeyView {
  const char* start;   // varint32 length || internal key
  const char* kstart;  // internal key
  const char* end;
};

constexpr int kMaxHeight = 12;
constexpr unsigned kBranching = 4;

// A node is its entry (the length-prefixed internal key and value that
// MemTable::Add writes), with the node's links stored just before it in
// reverse level order: link i of the entry at `e` is
// reinterpret_cast<Link*>(e)[-1 - i]. A node is named by its entry.
using Link = std::atomic<char*>;

Link* LinkOf(const char* e, int level) {
  return reinterpret_cast<Link*>(const_cast<char*>(e)) - 1 - level;
}

class AppendSkipList final : public rocksdb::MemTableRep {
 public:
  AppendSkipList(const KeyComparator& cmp, rocksdb::Allocator* allocator)
      : MemTableRep(allocator), cmp_(cmp) {
    head_ = AllocateNode(kMaxHeight, 0);
    for (int i = 0; i < kMaxHeight; ++i) LinkOf(head_, i)->store(nullptr, std::memory_order_relaxed);
    seq_splice_ = NewSplice();
  }

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override {
    const int height = RandomHeight();
    char* e = AllocateNode(height, len);
    // The height waits in link 0 until the node is linked.
    LinkOf(e, 0)->store(reinterpret_cast<char*>(static_cast<uintptr_t>(height)),
                        std::memory_order_relaxed);
    *buf = e;
    return e;
  }

  void Insert(rocksdb::KeyHandle handle) override { InsertKey(handle); }
  bool InsertKey(rocksdb::KeyHandle handle) override {
    return LinkNode(static_cast<char*>(handle), seq_splice_);
  }
  void InsertWithHint(rocksdb::KeyHandle handle, void** hint) override {
    InsertKeyWithHint(handle, hint);
  }
  bool InsertKeyWithHint(rocksdb::KeyHandle handle, void** hint) override {
    if (*hint == nullptr) *hint = NewSplice();
    return LinkNode(static_cast<char*>(handle), static_cast<Splice*>(*hint));
  }

  bool Contains(const char* entry) const override {
    const char* x = FindGreaterOrEqual(cmp_.decode_key(entry));
    return x != nullptr && cmp_(x, entry) == 0;
  }

  void Get(const rocksdb::LookupKey& k, void* callback_args,
           bool (*callback_func)(void* arg, const char* entry)) override {
    LookupKeyView view;
    std::memcpy(&view, &k, sizeof view);
    const Slice ikey(view.kstart, static_cast<size_t>(view.end - view.kstart));
    for (const char* x = FindGreaterOrEqual(ikey);
         x != nullptr && callback_func(callback_args, x); x = Next(x, 0)) {
    }
  }

  size_t ApproximateMemoryUsage() override { return 0; }  // all in the arena

  Iterator* GetIterator(rocksdb::Arena* arena) override;

  // Read side, safe from any thread while one writer links.
  const char* Next(const char* x, int level) const {
    return LinkOf(x, level)->load(std::memory_order_acquire);
  }
  const char* head() const { return head_; }
  int KeyCompare(const char* entry, const Slice& ikey) const { return cmp_(entry, ikey); }

  // The first entry >= `ikey`, or null.
  const char* FindGreaterOrEqual(const Slice& ikey) const {
    const char* x = head_;
    const char* bigger = nullptr;  // known >= ikey: not compared again
    for (int level = max_height_.load(std::memory_order_relaxed) - 1;;) {
      const char* next = Next(x, level);
      if (next != nullptr && next != bigger && cmp_(next, ikey) < 0) {
        x = next;
      } else if (level == 0) {
        return next;
      } else {
        bigger = next;
        --level;
      }
    }
  }

  // The last entry < `ikey`, or head().
  const char* FindLessThan(const Slice& ikey) const {
    const char* x = head_;
    for (int level = max_height_.load(std::memory_order_relaxed) - 1;;) {
      const char* next = Next(x, level);
      if (next != nullptr && cmp_(next, ikey) < 0) {
        x = next;
      } else if (level == 0) {
        return x;
      } else {
        --level;
      }
    }
  }

  // The last entry, or head().
  const char* FindLast() const {
    const char* x = head_;
    for (int level = max_height_.load(std::memory_order_relaxed) - 1;;) {
      const char* next = Next(x, level);
      if (next != nullptr) {
        x = next;
      } else if (level == 0) {
        return x;
      } else {
        --level;
      }
    }
  }

  Slice Decode(const char* entry) const { return cmp_.decode_key(entry); }

 private:
  // Where a key goes: at each level, the last node before it and the first
  // after it (null at the end). Kept per key prefix as an insert hint: a
  // tenant's next row goes right after its previous one, so the hint still
  // brackets it, and only the levels other rows have changed are searched.
  struct Splice {
    int height;  // levels valid; 0 = none
    char* prev[kMaxHeight + 1];
    char* next[kMaxHeight + 1];
  };

  char* AllocateNode(int height, size_t len) {
    const size_t links = sizeof(std::atomic<char*>) * height;
    char* raw = nullptr;
    MemTableRep::Allocate(links + len + alignof(std::atomic<char*>) - 1, &raw);
    auto p = reinterpret_cast<uintptr_t>(raw);
    p = (p + alignof(std::atomic<char*>) - 1) & ~uintptr_t{alignof(std::atomic<char*>) - 1};
    char* node = reinterpret_cast<char*>(p);
    for (int i = 0; i < height; ++i) new (node + i * sizeof(std::atomic<char*>)) std::atomic<char*>;
    return node + links;
  }

  Splice* NewSplice() {
    char* raw = nullptr;
    MemTableRep::Allocate(sizeof(Splice) + alignof(Splice) - 1, &raw);
    auto p = reinterpret_cast<uintptr_t>(raw);
    p = (p + alignof(Splice) - 1) & ~uintptr_t{alignof(Splice) - 1};
    auto* s = new (reinterpret_cast<void*>(p)) Splice;
    s->height = 0;
    return s;
  }

  int RandomHeight() {
    // xorshift64*: the writer's alone (Allocate runs on the writing thread).
    int height = 1;
    while (height < kMaxHeight) {
      rnd_ ^= rnd_ >> 12;
      rnd_ ^= rnd_ << 25;
      rnd_ ^= rnd_ >> 27;
      if (((rnd_ * 0x2545F4914F6CDD1Dull) >> 32) % kBranching != 0) break;
      ++height;
    }
    return height;
  }

  // True if the entry `x` sorts before `ikey`.
  bool Before(const char* x, const Slice& ikey) const { return cmp_(x, ikey) < 0; }

  // Moves from `before` along `level` to the last node before `ikey`;
  // `after` (or null) is known not to be before it.
  void FindSpliceForLevel(const Slice& ikey, char* before, const char* after, int level,
                          char** out_prev, char** out_next) const {
    for (;;) {
      char* next = LinkOf(before, level)->load(std::memory_order_relaxed);
      if (next == after || next == nullptr || !Before(next, ikey)) {
        *out_prev = before;
        *out_next = next;
        return;
      }
      before = next;
    }
  }

  // Links the node `x` (whose entry MemTable::Add has written), using and
  // updating `s`. False, linking nothing, if an equal entry is stored.
  bool LinkNode(char* x, Splice* s) {
    const Slice ikey = cmp_.decode_key(x);
    const int height = static_cast<int>(
        reinterpret_cast<uintptr_t>(LinkOf(x, 0)->load(std::memory_order_relaxed)));
    int max_height = max_height_.load(std::memory_order_relaxed);
    if (height > max_height) {
      // Readers that see the new height before the links find null there
      // and go down a level.
      max_height_.store(height, std::memory_order_relaxed);
      max_height = height;
    }
    // Levels [0, recompute) are searched again; levels above bracket ikey.
    int recompute = 0;
    if (s->height < max_height) {
      s->prev[max_height] = head_;
      s->next[max_height] = nullptr;
      s->height = max_height;
      recompute = max_height;
    } else {
      while (recompute < max_height) {
        char* p = s->prev[recompute];
        char* n = s->next[recompute];
        if (LinkOf(p, recompute)->load(std::memory_order_relaxed) != n) {
          ++recompute;  // another row went in between
        } else if (p != head_ && !Before(p, ikey)) {
          while (recompute < max_height && s->prev[recompute] == p) ++recompute;
        } else if (n != nullptr && Before(n, ikey)) {
          while (recompute < max_height && s->next[recompute] == n) ++recompute;
        } else {
          break;  // brackets ikey at this level, hence at those above
        }
      }
    }
    for (int i = recompute - 1; i >= 0; --i) {
      FindSpliceForLevel(ikey, s->prev[i + 1], s->next[i + 1], i, &s->prev[i], &s->next[i]);
    }
    for (int i = recompute; i < height; ++i) {
      if (LinkOf(s->prev[i], i)->load(std::memory_order_relaxed) != s->next[i]) {
        FindSpliceForLevel(ikey, s->prev[i], nullptr, i, &s->prev[i], &s->next[i]);
      }
    }
    if (s->next[0] != nullptr && cmp_(s->next[0], ikey) == 0) return false;
    for (int i = 0; i < height; ++i) {
      LinkOf(x, i)->store(s->next[i], std::memory_order_relaxed);
      // Release: a reader that finds x sees its entry and its links.
      LinkOf(s->prev[i], i)->store(x, std::memory_order_release);
      s->prev[i] = x;
    }
    return true;
  }

  const KeyComparator& cmp_;
  char* head_ = nullptr;
  Splice* seq_splice_ = nullptr;
  std::atomic<int> max_height_{1};
  uint64_t rnd_ = 0x9E3779B97F4A7C15ull;
};

// Iterators that RocksDB places in an arena are destroyed by an explicit
// destructor call, and the arena's memory released with it; this library
// has no access to RocksDB's Arena, so those iterators live in storage of
// their own, reused per thread. The destructor puts its storage back on
// the destroying thread's list: nothing else can reuse it before the
// destructor has returned.
class IteratorStore {
 public:
  ~IteratorStore() {
    for (void* p : free_) ::operator delete(p);
    ::operator delete(pending_);
  }
  void* Take(size_t size) {
    if (free_.empty()) return ::operator new(size);
    void* p = free_.back();
    free_.pop_back();
    return p;
  }
  void Give(void* p) {
    if (free_.size() < kKeep) {
      free_.push_back(p);
      return;
    }
    // Too many kept: release the one given last time (its destructor has
    // returned by now) and keep this one in its place.
    ::operator delete(pending_);
    pending_ = p;
  }

 private:
  static constexpr size_t kKeep = 64;
  std::vector<void*> free_;
  void* pending_ = nullptr;
};

thread_local IteratorStore iterator_store;

class AppendSkipListIterator final : public rocksdb::MemTableRep::Iterator {
 public:
  AppendSkipListIterator(const AppendSkipList* list, bool stored)
      : list_(list), stored_(stored) {}
  ~AppendSkipListIterator() override {
    if (stored_) iterator_store.Give(this);
  }

  bool Valid() const override { return x_ != nullptr; }
  const char* key() const override { return x_; }
  void Next() override { x_ = list_->Next(x_, 0); }
  void Prev() override {
    x_ = list_->FindLessThan(list_->Decode(x_));
    if (x_ == list_->head()) x_ = nullptr;
  }
  void Seek(const Slice& internal_key, const char* memtable_key) override {
    x_ = list_->FindGreaterOrEqual(memtable_key != nullptr ? list_->Decode(memtable_key)
                                                           : internal_key);
  }
  void SeekForPrev(const Slice& internal_key, const char* memtable_key) override {
    const Slice target =
        memtable_key != nullptr ? list_->Decode(memtable_key) : internal_key;
    Seek(target, nullptr);
    if (!Valid()) SeekToLast();
    while (Valid() && list_->KeyCompare(x_, target) > 0) Prev();
  }
  void SeekToFirst() override { x_ = list_->Next(list_->head(), 0); }
  void SeekToLast() override {
    x_ = list_->FindLast();
    if (x_ == list_->head()) x_ = nullptr;
  }

 private:
  const AppendSkipList* const list_;
  const bool stored_;
  const char* x_ = nullptr;
};

rocksdb::MemTableRep::Iterator* AppendSkipList::GetIterator(rocksdb::Arena* arena) {
  if (arena == nullptr) return new AppendSkipListIterator(this, false);
  void* p = iterator_store.Take(sizeof(AppendSkipListIterator));
  return new (p) AppendSkipListIterator(this, true);
}

}  // namespace

rocksdb::MemTableRep* AppendSkipListFactory::CreateMemTableRep(
    const rocksdb::MemTableRep::KeyComparator& cmp, rocksdb::Allocator* allocator,
    const rocksdb::SliceTransform*, rocksdb::Logger*) {
  return new AppendSkipList(cmp, allocator);
}

}  // namespace indelible
