// The pre-walked form of a kernel: regions of instructions with resolved op codes, operand and
// result slots, element kinds and shapes. Internal header, no MLIR: the executor files only
// see this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/interp/interp.h"
#include "dsl/interp/values.h"
#include "dsl/signature.h"

namespace tile::interp {

enum class OpCode : uint16_t {
  // values
  constant, program_id, num_programs,
  // float elementwise (tile or scalar)
  addf, subf, mulf, divf, remf, maximumf, minimumf, maxnumf, minnumf, powf, copysign,
  negf, absf, exp2, log2, exp, log, tanh, sqrt, rsqrt, floor, ceil, sin, cos, erf, log1p, expm1,
  fma,
  // integer elementwise (tile or scalar)
  addi, subi, muli, divsi, divui, remsi, remui, ceildivsi, floordivsi, minsi, maxsi, minui, maxui,
  andi, ori, xori, shli, shrsi, shrui, absi,
  cmpf, cmpi, select,
  // casts
  truncf, extf, sitofp, uitofp, fptosi, fptoui, extsi, extui, trunci, index_cast, index_castui,
  bitcast,
  // tiles
  splat, arange, expand_dims, broadcast, trans, dot, reduce,
  // global memory
  addptr, load_scalar, load_block, store_block, atomic_add_block, load, store, atomic_add,
  // control flow
  for_loop, if_else, ret,
};

// Predicates, in arith's numbering (arith::CmpFPredicate / arith::CmpIPredicate).
enum class CmpF : uint8_t { alwaysfalse, oeq, ogt, oge, olt, ole, one, ord, ueq, ugt, uge, ult, ule, une, uno, alwaystrue };
enum class CmpI : uint8_t { eq, ne, slt, sle, sgt, sge, ult, ule, ugt, uge };
enum class ReduceKind : uint8_t { max, min, sum };

struct Instr {
  OpCode op;
  Elem elem = Elem::none;     // result element kind (for stores: the stored tile's)
  Elem src = Elem::none;      // first operand's element kind (casts, compares, reduce)
  bool tile = false;          // the result (or the stored value) is a tile
  bool srcTile = false;       // the first operand is a tile (select: the condition)
  int64_t numel = 1;          // elements of the result tile (or the stored tile)
  int32_t result = -1;        // slot of the single result, -1 if none
  std::vector<int32_t> operands;
  std::vector<int32_t> results;  // scf.for / scf.if results
  std::vector<int64_t> shape;    // result shape (stores: stored tile)
  std::vector<int64_t> srcShape; // first operand's shape
  int64_t attr = 0;   // axis, predicate, arange start, constant index, scf.for unsigned
  int64_t attr2 = 0;  // reduce: ReduceKind; load: has mask (bit 0) / has other (bit 1)
  double fattr = 0;   // load_block padding
  int32_t region0 = -1, region1 = -1;  // scf.for body / scf.if then, else
  DType mem = DType::f32;  // memory ops: pointee dtype
  std::string where;  // "tile.load_block at kernel.mlir:12:5", for error messages
};

struct Region {
  std::vector<Instr> body;
  std::vector<int32_t> args;    // block argument slots (scf.for: iv, then iter args)
  std::vector<int32_t> yields;  // slots passed by the terminator (scf.yield / func.return)
};

struct Param {
  Arg::Kind kind;
  DType dtype = DType::f32;  // buffer: element type; f32 scalar params may be f16/bf16 too
  Elem elem = Elem::none;
  std::string type;          // MLIR spelling, for messages
  // What the kernel assumes of the value (tile.divisor / tile.positive): a buffer's address or
  // an integer. Checked before a run, as the GPU runtime checks it before a launch.
  ArgAssumption assume;
};

struct Program {
  std::string name;
  std::vector<Param> params;
  std::vector<Region> regions;  // regions[0] is the kernel body
  std::vector<Value> constants;
  int32_t numSlots = 0;
};

// One program instance being executed.
struct Instance {
  const Program& program;
  const std::vector<Arg>& args;
  int pid[3];
  int grid[3];
  std::string pidText() const;  // "program (1, 0, 3)"
};

// Executors, one file per family of ops. `slots` is the instance's frame.
void runRegion(const Instance& inst, int region, Value* slots);
void execFloat(const Instr& in, Value* slots);
void execInt(const Instance& inst, const Instr& in, Value* slots);
void execCompareSelect(const Instr& in, Value* slots);
void execCast(const Instr& in, Value* slots);
void execShape(const Instr& in, Value* slots);
void execReduce(const Instr& in, Value* slots);
void execDot(const Instr& in, Value* slots);
void execMemory(const Instance& inst, const Instr& in, Value* slots);

// Rounds every element to `e` (f16/bf16; no-op for f32).
void roundFloats(Elem e, float* x, int64_t n);

}  // namespace tile::interp
