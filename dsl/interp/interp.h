// CPU interpreter for tile-dialect kernels (see dsl/ir/TileOps.td for the op semantics).
//
// A kernel (a func.func with the `tile.kernel` attribute) is pre-walked once into a compact
// Program; `run` then executes one program instance per point of a launch grid, in a seeded
// shuffled order and optionally on several threads, so that tests see races and
// order-dependent atomics. Every global memory access is bounds-checked against the buffer
// passed for its kernel argument; violations throw InterpError, never crash.
//
// Numerics: f16/bf16 values are held as their exact float value and rounded (to nearest even)
// whenever an op produces a 16-bit result; f32 math is done in float, not double, so
// add/mul/div/fma match an IEEE GPU bit for bit; tile.dot forms exact products and accumulates
// them in f32 in the order k = 0..K-1, starting from the accumulator.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/core/tensor_view.h"

namespace mlir::func {
class FuncOp;
}

namespace tile::interp {

// Thrown for every error the interpreter detects: unsupported IR, bad arguments, out-of-bounds
// accesses, integer division by zero. Messages name the op, the argument and the program id.
class InterpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Grid {
  int x = 1, y = 1, z = 1;
};

struct Options {
  uint64_t seed = 0;    // seeds the order in which program instances run
  int threads = 1;      // worker threads; 0 means std::thread::hardware_concurrency()
  bool shuffle = true;  // false: run instances in order x fastest, then y, then z
};

// One kernel argument: a host buffer (for a `!tile.ptr<T>` parameter) or a scalar.
struct Arg {
  enum class Kind : uint8_t { buffer, i32, i64, f32 };
  Kind kind = Kind::i32;
  void* data = nullptr;  // buffer: first element
  DType dtype = DType::f32;
  int64_t numel = 0;     // buffer: accessible elements [0, numel)
  int64_t i = 0;         // i32 / i64 scalar
  float f = 0.0f;        // f32 scalar

  static Arg buffer(void* data, DType dtype, int64_t numel);
  // The elements a CPU view can reach: [0, 1 + sum((size-1)*stride)) from view.data. Throws
  // InterpError for CUDA views and negative strides.
  static Arg buffer(const TensorView& view);
  static Arg i32(int32_t v);
  static Arg i64(int64_t v);
  static Arg f32(float v);
  std::string describe() const;  // "buffer of 1024 bf16", "i32 7", ...
};

// A kernel pre-walked into instructions with resolved op kinds, operand slots and shapes.
// Immutable after compile(); one Program may run concurrently from several threads.
struct Program;

// Throws InterpError naming the op and its location for unsupported ops or types.
std::shared_ptr<const Program> compile(mlir::func::FuncOp kernel);

// Runs every program instance of `grid`. Checks the arguments against the kernel signature
// first (count and kinds; a message names the argument index and the expected type). The first
// exception raised by any instance stops the others and is rethrown here.
void run(const Program& program, Grid grid, const std::vector<Arg>& args, const Options& options = {});
void run(mlir::func::FuncOp kernel, Grid grid, const std::vector<Arg>& args, const Options& options = {});

// The kernel's name and its signature as text, e.g. "k(!tile.ptr<bf16>, i32)".
std::string signature(const Program& program);

}  // namespace tile::interp
