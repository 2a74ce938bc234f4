// Placement of long-lived shared-memory regions by live range (lowering/passes/smem_allocator.h).
#include "lowering/passes/smem_allocator.h"

#include <catch2/catch.hpp>

using tile::lowering::SmemAllocator;

TEST_CASE("regions live at the same time never overlap; regions of disjoint ranges share bytes") {
  SmemAllocator a(1024);
  // The attention forward: loop 1 (ops 10-20) and loop 2 (ops 30-40) pipeline K/V; Q lives across
  // both (ops 5-40).
  CHECK(a.place(64 * 1024, 10, 20, 227 * 1024) == 0);
  CHECK(a.place(64 * 1024, 30, 40, 227 * 1024) == 0);            // after loop 1: same bytes
  CHECK(a.place(32 * 1024, 5, 40, 227 * 1024) == 64 * 1024);      // beside both loops
  CHECK(a.place(16 * 1024, 21, 29, 227 * 1024) == 0);             // between the loops: free again
  CHECK(a.end() == 96 * 1024);
}

TEST_CASE("offsets are aligned and the lowest gap that fits is taken") {
  SmemAllocator a(1024);
  CHECK(a.place(1000, 0, 10, 1 << 20) == 0);
  CHECK(a.place(100, 0, 10, 1 << 20) == 1024);       // after the first, rounded up
  CHECK(a.place(4096, 11, 20, 1 << 20) == 0);        // not live with either
  CHECK(a.place(2048, 5, 15, 1 << 20) == 4096);      // live with all three: above the highest end
  CHECK(a.end() == 6144);
}

TEST_CASE("a region that does not fit under the limit is refused and changes nothing") {
  SmemAllocator a(1024);
  CHECK(a.place(200 * 1024, 0, 5, 227 * 1024) == 0);
  CHECK(a.place(64 * 1024, 3, 8, 227 * 1024) == -1);
  CHECK(a.place(64 * 1024, 6, 8, 227 * 1024) == 0);  // not live with the first
  CHECK(a.end() == 200 * 1024);
}

TEST_CASE("usedBefore: bytes an earlier region held are not free to write at a loop's start") {
  SmemAllocator a(1024);
  CHECK(a.place(16 * 1024, 0, 9, 227 * 1024) == 0);          // staged before the loop
  CHECK(a.place(64 * 1024, 10, 20, 227 * 1024) == 0);        // the loop's stages: same bytes
  CHECK(a.place(8 * 1024, 0, 40, 227 * 1024) == 64 * 1024);  // live over everything, other bytes
  CHECK(a.usedBefore(0, 64 * 1024, 10));                     // the first region's bytes
  CHECK_FALSE(a.usedBefore(0, 64 * 1024, 0));                // nothing starts before op 0
  CHECK_FALSE(a.usedBefore(16 * 1024, 48 * 1024, 10));       // above it: fresh
  CHECK(a.usedBefore(64 * 1024, 1024, 10));                  // the long region started at op 0
}
