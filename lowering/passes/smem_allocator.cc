#include "lowering/passes/smem_allocator.h"

#include <algorithm>

namespace tile::lowering {

int64_t SmemAllocator::place(int64_t bytes, int first, int last, int64_t limit) {
  auto alignUp = [&](int64_t v) { return (v + align_ - 1) / align_ * align_; };
  std::vector<const Region*> live;
  for (const Region& r : placed_)
    if (r.first <= last && first <= r.last) live.push_back(&r);
  // The lowest fitting offset is 0 or the (aligned) end of a live region.
  std::vector<int64_t> candidates{0};
  for (const Region* r : live) candidates.push_back(alignUp(r->offset + r->bytes));
  std::sort(candidates.begin(), candidates.end());
  for (int64_t off : candidates) {
    if (off + bytes > limit) break;
    bool clash = std::any_of(live.begin(), live.end(),
                             [&](const Region* r) { return off < r->offset + r->bytes && r->offset < off + bytes; });
    if (clash) continue;
    placed_.push_back({off, bytes, first, last});
    return off;
  }
  return -1;
}

bool SmemAllocator::usedBefore(int64_t offset, int64_t bytes, int first) const {
  return std::any_of(placed_.begin(), placed_.end(), [&](const Region& r) {
    return r.first < first && offset < r.offset + r.bytes && r.offset < offset + bytes;
  });
}

int64_t SmemAllocator::end() const {
  int64_t e = 0;
  for (const Region& r : placed_) e = std::max(e, r.offset + r.bytes);
  return (e + align_ - 1) / align_ * align_;
}

}  // namespace tile::lowering
