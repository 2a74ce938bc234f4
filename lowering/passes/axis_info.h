// What is known statically about an i32 offset tile along its last dimension: runs of
// contiguous values (x, x+1, ...), runs of equal values, and a power of two dividing the first
// value of every run. Enough to turn gathers like `ptr[pid*B + arange(0, B)]` into vector loads.
#pragma once

#include <cstdint>

#include "mlir/IR/Value.h"

namespace tile::lowering {

struct AxisInfo {
  int64_t contiguity = 1;  // length of the runs x, x+1, ... (aligned at multiples of the length)
  int64_t constancy = 1;   // length of the runs of equal values
  int64_t divisibility = 1;  // power of two dividing the first value of each run
};

AxisInfo axisInfo(mlir::Value v);

// Facts about tile-IR scalars and pointers that constants and the kernel's argument assumptions
// (tile.divisor, tile.positive: the DSL's ArgAssumption) decide at compile time.
// The largest power of two known to divide an integer (1 when nothing is known).
int64_t knownDivisor(mlir::Value v);
// Whether an integer is known to be > 0.
bool knownPositive(mlir::Value v);
// Whether an integer is the constant `c`.
bool knownEqual(mlir::Value v, int64_t c);
// The alignment in bytes a !tile.ptr is known to have: its argument's assumed alignment, advanced
// by offsets of known divisibility (at least its element size).
int64_t knownAlignment(mlir::Value ptr);

}  // namespace tile::lowering
