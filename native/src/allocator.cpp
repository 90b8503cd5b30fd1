// Distill's CPU tensor allocator: large blocks from a BlockCache, the rest from libtorch's own CPU allocator.
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "block_cache.h"
#include "common.h"

namespace dt {

namespace {

// Never destroyed: tensors freed while the process exits still find it.
BlockCache& cache() {
  static auto* c = new BlockCache();
  return *c;
}

// Frees a block of either origin: the cache's, or (through raw_allocate) the C allocator's.
void release(void* p) {
  if (p != nullptr && !cache().release(p)) c10::free_cpu(p);
}

// libtorch 2.3 made Allocator::allocate non-const and added copy_data; both spellings are defined without override so
// that the one the headers declare is the one that overrides.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(c10::Allocator* fallback) : fallback_(fallback) {}

  c10::DataPtr allocate(size_t n) const { return allocate_block(n); }
  c10::DataPtr allocate(size_t n) { return allocate_block(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

 private:
  c10::DataPtr allocate_block(size_t n) const {
    if (n < BlockCache::kMinBytes) return fallback_->allocate(n);
    void* p = cache().allocate(n);
    // Worded as libtorch's own allocator words it, so callers that recognise running out of memory still do.
    if (p == nullptr) throw std::runtime_error("Distill's CPU allocator: can't allocate memory: you tried to allocate " + std::to_string(n) + " bytes");
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::Allocator* fallback_;
};

}  // namespace

}  // namespace dt

int32_t dt_use_tensor_cache(int32_t* applied) {
  return dt::guard("use_tensor_cache", [&] {
    static auto* allocator = new dt::CachingCpuAllocator(c10::GetDefaultCPUAllocator());
    // Priority 1 outranks libtorch's default CPU allocator (registered at 0); tensors made before keep their deleters.
    c10::SetCPUAllocator(allocator, 1);
    *applied = c10::GetCPUAllocator() == allocator ? 1 : 0;
  });
}

int32_t dt_tensor_cache_stats(int64_t* live, int64_t* cached, int64_t* peak, int64_t* hits, int64_t* misses) {
  return dt::guard("tensor_cache_stats", [&] {
    auto s = dt::cache().stats();
    *live = s.live;
    *cached = s.cached;
    *peak = s.peak;
    *hits = s.hits;
    *misses = s.misses;
  });
}

int32_t dt_tensor_cache_trim() {
  return dt::guard("tensor_cache_trim", [&] { dt::cache().trim(); });
}
