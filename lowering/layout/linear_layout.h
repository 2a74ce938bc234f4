// A layout as a linear map: which thread holds which tensor element in which register.
//
// Every layout the lowering uses (blocked, mma, dot operand, slice) is, for power-of-two shapes,
// a map from the bits of (register index, lane id, warp id) to tensor coordinates that is linear
// over XOR: coordinate(r, l, w) = XOR of the bases of the set bits. All our bases have one
// non-zero component, a power of two, and no two bases share a bit, so XOR is plain addition.
// A zero base means replication: the threads differing in that bit hold the same elements.
// Code generation only ever asks this structure questions (coordinates of a register, which
// register holds a coordinate, which lanes share a row), so a new layout (e.g. Hopper's wgmma
// accumulator) only needs a new constructor here.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"

namespace tile::lowering {

using Coord = llvm::SmallVector<int64_t, 4>;

struct LinearLayout {
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<Coord> reg;   // one base per register-index bit (never zero)
  std::vector<Coord> lane;  // 5 bases (lane bits 0..4); zero = replicated across that bit
  std::vector<Coord> warp;  // log2(num_warps) bases

  int64_t rank() const { return int64_t(shape.size()); }
  int64_t numRegs() const { return int64_t(1) << reg.size(); }
  // Coordinate contributed by the register part of the index (thread part excluded).
  Coord regCoord(int64_t r) const;
  // Register holding register-coordinate `c`, or -1.
  int64_t regAt(llvm::ArrayRef<int64_t> c) const;
  bool sameThreadBases(const LinearLayout& o) const { return lane == o.lane && warp == o.warp; }
  std::string str() const;
};

// Layout of a tensor type carrying a tilegpu encoding; fails (with `why`) for other types or
// shapes that are not powers of two.
mlir::FailureOr<LinearLayout> layoutOf(mlir::RankedTensorType type, std::string* why = nullptr);
mlir::FailureOr<LinearLayout> layoutOf(mlir::Attribute encoding, llvm::ArrayRef<int64_t> shape,
                                       std::string* why = nullptr);

// The component of a single-dimension base: (dim, value); dim = -1 for a zero base.
std::pair<int, int64_t> baseDim(const Coord& base);

// Number of elements per thread that are contiguous along `dim` starting at register 0
// (the leading register bases are 1, 2, 4, ... along `dim`).
int64_t contiguityAlong(const LinearLayout& l, int dim);

}  // namespace tile::lowering
