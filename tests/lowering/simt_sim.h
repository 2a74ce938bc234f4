// A lock-step SIMT simulator for the front half's output (gpu.func kernels of per-thread
// arith/scf/gpu/llvm/nvvm code), so the lowering's numerics can be checked on the CPU.
//
// All threads of a block run together, one op at a time, with an active mask for divergent
// scf.if branches. Shared-memory races are still detected: a read of another thread's write (or
// a write over another thread's read, or a different value over its write) is an error unless
// a barrier or an mbarrier arrive -> wait chain orders the two (simt_async.h, Order), as is
// touching a cp.async destination before its thread waited for the copy's group. Warp-level ops (shuffle, ldmatrix, mma.sync) are
// evaluated per warp from the PTX ISA's definitions. Global memory is a set of host buffers; any
// access outside them is reported as an error, so masking bugs show up. TMA copies, mbarriers
// and tensor maps made in the kernel (lowering/passes/async_ptx.h) are modelled in
// simt_async.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlir/IR/BuiltinOps.h"

namespace tile::lowering::sim {

struct Buffer {
  std::vector<uint8_t> bytes;
};

// One kernel argument: a buffer (pointer argument) or an i32 / f32 value.
struct Arg {
  enum Kind { kBuffer, kI32, kF32 } kind;
  int buffer = -1;
  int32_t i = 0;
  float f = 0;
  static Arg buf(int index) { return {kBuffer, index, 0, 0}; }
  static Arg i32(int32_t v) { return {kI32, -1, v, 0}; }
  static Arg f32(float v) { return {kF32, -1, 0, v}; }
};

// Runs gpu.func `kernel` of the lowered module `m` over `grid` program ids. Returns "" on
// success, else the first error (unsupported op, out-of-bounds access, ...). A kernel with the
// tile.tma_templates attribute gets its hidden workspace argument from here: `args` leave it
// out, and the workspace is a buffer appended to `buffers` for the run and removed after it.
std::string run(mlir::ModuleOp m, const std::string& kernel, const std::vector<Arg>& args,
                std::vector<Buffer>& buffers, int gridX, int gridY = 1, int gridZ = 1);

// bf16 / f16 helpers for building inputs and reading outputs.
uint16_t toBf16(float f);
float fromBf16(uint16_t h);
uint16_t toF16(float f);
float fromF16(uint16_t h);

}  // namespace tile::lowering::sim
