// The `tile` dialect: ops, types and registration. See TileOps.td for the op semantics.
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dsl/ir/TileDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dsl/ir/TileTypes.h.inc"

#define GET_OP_CLASSES
#include "dsl/ir/TileOps.h.inc"

namespace tile::ir {

// Registers the tile dialect and the upstream dialects tile programs use (arith, math, scf,
// func) in `registry`.
void registerTileDialects(mlir::DialectRegistry& registry);

// Attribute names shared by the DSL, the interpreter and the lowering.
inline constexpr const char* kKernelAttr = "tile.kernel";      // unit attr on a kernel func.func
inline constexpr const char* kStagesAttr = "tile.stages";      // i32 on a pipelined scf.for
inline constexpr const char* kParamsAttr = "tile.params";      // dictionary of compile-time params
inline constexpr const char* kNumWarpsAttr = "tile.num_warps";  // i32 on a kernel func.func
// i32 on a kernel func.func: blocks that should fit on one multiprocessor (CUDA's
// __launch_bounds__ second argument); ptxas caps registers to make room for them.
inline constexpr const char* kMinBlocksPerSmAttr = "tile.min_blocks_per_sm";
// unit attr on a kernel func.func: the warpgroups of its pipelined loops take turns at their
// dots (lowering/README.md, "Warpgroup turns").
inline constexpr const char* kWarpgroupTurnsAttr = "tile.warpgroup_turns";
// unit attr on a kernel func.func: a producer warpgroup issues its pipelined loops' TMA copies
// (lowering/README.md, "Warp specialisation").
inline constexpr const char* kWarpSpecializedAttr = "tile.warp_specialized";
// On a kernel argument (func.func arg attrs), what the kernel may assume of its value
// (KernelBuilder's ArgAssumption): i64, the power of two dividing an i32's value or a
// pointer's address; unit, an i32 that is > 0.
inline constexpr const char* kDivisorAttr = "tile.divisor";
inline constexpr const char* kPositiveAttr = "tile.positive";

}  // namespace tile::ir
