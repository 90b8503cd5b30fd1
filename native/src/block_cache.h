// A cache of large memory blocks for tensors. Blocks of at least kMinBytes come from mappings of their own and return
// to the cache when freed, to be handed out again for a request of the same size class. A training step asks for the
// same large sizes at every step, so after the first one its activations reuse pages already resident: no page faults
// of fresh mappings (glibc's default for large blocks) and no fragmentation of a long-lived heap (one phase's blocks
// scattered among another's, which keeps the heap at far more than is ever live).
//
// The cache's bound: live + cached bytes stay within ceiling_percent % (200 by default) of the high-water mark of live
// bytes. A request the cache cannot serve first unmaps the least recently freed blocks until it fits under that bound.
// With 100 % a step whose phases use different sizes (a teacher's forward, then the student's) would evict one phase's
// blocks for the other's at every step (measured on the KD step: misses at every step below 150 %, none after the first
// step from 150 % on); 200 % leaves room for two such phases. Header-only and free of libtorch.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

namespace dt {

class BlockCache {
 public:
  // Blocks below this size stay with the C allocator.
  static constexpr size_t kMinBytes = size_t{1} << 20;

  struct Stats {
    int64_t live;    // bytes of blocks handed out and not yet returned
    int64_t cached;  // bytes of returned blocks kept for reuse
    int64_t peak;    // high-water mark of live bytes (since the last trim)
    int64_t hits;    // requests served from the cache
    int64_t misses;  // requests that mapped a new block
  };

  explicit BlockCache(int64_t ceiling_percent = 200) : ceiling_percent_(std::max<int64_t>(ceiling_percent, 100)) {}

  // The size class of a request: rounded up to an eighth of its power of two (at most 12.5 % more), whole pages.
  static size_t class_of(size_t n) {
    size_t top = size_t{1} << (63 - __builtin_clzll(static_cast<unsigned long long>(n)));
    size_t step = std::max<size_t>(top >> 3, 4096);
    return (n + step - 1) / step * step;
  }

  // A page-aligned block of at least n bytes (n >= kMinBytes); nullptr when the system has no memory left.
  void* allocate(size_t n) {
    size_t size = class_of(n);
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = free_.find(size);
    if (found != free_.end() && !found->second.empty()) {
      // The most recently freed block of the class: its pages are the likeliest to be in the processor's caches.
      auto entry = found->second.back();
      found->second.pop_back();
      void* p = entry->ptr;
      lru_.erase(entry);
      cached_ -= static_cast<int64_t>(size);
      take(p, size);
      ++hits_;
      return p;
    }
    auto request = static_cast<int64_t>(size);
    int64_t ceiling = std::max(peak_ / 100 * ceiling_percent_, live_ + request);
    while (cached_ > 0 && live_ + cached_ + request > ceiling) evict_oldest();
    void* p = map(size);
    if (p == nullptr) {
      // Out of memory or address space: give back every cached block and try once more.
      while (cached_ > 0) evict_oldest();
      p = map(size);
      if (p == nullptr) return nullptr;
    }
    take(p, size);
    ++misses_;
    return p;
  }

  // Returns p to the cache; false when p is not one of the cache's blocks.
  bool release(void* p) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sizes_.find(p);
    if (it == sizes_.end()) return false;
    size_t size = it->second;
    live_ -= static_cast<int64_t>(size);
    lru_.push_back(Entry{p, size});
    free_[size].push_back(std::prev(lru_.end()));
    cached_ += static_cast<int64_t>(size);
    return true;
  }

  // The size of block p, 0 when p is not one of the cache's blocks.
  size_t size_of(void* p) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sizes_.find(p);
    return it == sizes_.end() ? 0 : it->second;
  }

  // Unmaps every cached block (live ones stay) and restarts the high-water mark from what is live now.
  void trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (cached_ > 0) evict_oldest();
    peak_ = live_;
  }

  Stats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return Stats{live_, cached_, peak_, hits_, misses_};
  }

 private:
  struct Entry {
    void* ptr;
    size_t size;
  };

  static void* map(size_t size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
    // Transparent huge pages where the kernel offers them on request ("madvise" mode): fewer faults, fewer TLB misses.
    if (size >= (size_t{2} << 20)) madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
  }

  void take(void* p, size_t size) {
    sizes_[p] = size;
    live_ += static_cast<int64_t>(size);
    peak_ = std::max(peak_, live_);
  }

  void evict_oldest() {
    Entry e = lru_.front();
    auto& list = free_[e.size];
    list.remove(lru_.begin());
    lru_.pop_front();
    sizes_.erase(e.ptr);
    cached_ -= static_cast<int64_t>(e.size);
    munmap(e.ptr, e.size);
  }

  const int64_t ceiling_percent_;
  std::mutex mutex_;
  std::list<Entry> lru_;                                          // cached blocks, least recently freed first
  std::map<size_t, std::list<std::list<Entry>::iterator>> free_;  // cached blocks by size class, most recent last
  std::unordered_map<void*, size_t> sizes_;                       // every block of the cache, live or cached
  int64_t live_ = 0, cached_ = 0, peak_ = 0, hits_ = 0, misses_ = 0;
};

}  // namespace dt
