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

}  // namespace tile::lowering
