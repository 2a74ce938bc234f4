// Placement of the kernel's long-lived shared-memory regions (software-pipelining buffers,
// staged dot operands). Each region is live over an interval of the kernel's top-level ops;
// regions whose intervals do not meet may share bytes (two loops one after the other reuse the
// same buffers). First fit, in the order regions are offered.
#pragma once

#include <cstdint>
#include <vector>

namespace tile::lowering {

class SmemAllocator {
 public:
  explicit SmemAllocator(int64_t align) : align_(align) {}
  // Lowest `align`-ed offset where `bytes` fit beside every placed region live at the same
  // time, with the region ending at or below `limit`; -1 (nothing placed) when there is none.
  int64_t place(int64_t bytes, int first, int last, int64_t limit);
  // Whether a region live before op number `first` shares bytes with [offset, offset + bytes):
  // whoever writes those bytes from `first` on must wait until that region's users are done.
  bool usedBefore(int64_t offset, int64_t bytes, int first) const;
  // End of the highest placed region: where the short-lived scratch area starts.
  int64_t end() const;

 private:
  struct Region {
    int64_t offset, bytes;
    int first, last;
  };
  int64_t align_;
  std::vector<Region> placed_;
};

}  // namespace tile::lowering
