// Defining, building and registering kernels.
//
// A kernel is a C++ function over a KernelBuilder and its compile-time Params:
//
//   void vector_add(KernelBuilder& k, const Params& p) {
//     Ptr x = k.arg_ptr("x", DType::f32), y = k.arg_ptr("y", DType::f32), out = ...;
//     Int n = k.arg_i32("n");
//     int block = p.get_int("BLOCK");
//     Tile offs = program_id(0) * block + arange(0, block);
//     Tile mask = offs < n;
//     store(out, offs, load(x, offs, mask) + load(y, offs, mask), mask);
//   }
//   TILE_REGISTER_KERNEL(vector_add, "vector_add", {{"BLOCK", 1024}});
//
// While the function runs it is the current kernel: the DSL's ops are free functions that add to
// it. Building gives a module with one func.func carrying tile.kernel, tile.num_warps and
// tile.params, verified (errors become tile::BuildError).
#pragma once

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/errors.h"
#include "dsl/params.h"
#include "dsl/signature.h"
#include "dsl/values.h"

namespace mlir {
class MLIRContext;
class ModuleOp;
template <typename OpTy>
class OwningOpRef;
}  // namespace mlir

namespace tile {

class KernelBuilder {
 public:
  struct State;  // the MLIR builder state (defined in the implementation)
  explicit KernelBuilder(State* state) : state_(state) {}

  // Arguments, in launch order. `assume`: what the kernel may take for granted of the value
  // (signature.h: a pointer aligned to `divisor` bytes; an i32 a multiple of `divisor`, > 0 with
  // `positive`), checked at every launch.
  Ptr arg_ptr(const std::string& name, DType pointee, ArgAssumption assume = {});
  template <class T> Ptr arg_ptr(const std::string& name) { return arg_ptr(name, T::dtype); }
  Int arg_i32(const std::string& name, ArgAssumption assume = {});
  Float arg_f32(const std::string& name);

  // Warps per program (default 4).
  void set_num_warps(int n);
  // Programs that should run side by side on one multiprocessor (1..32). ptxas then limits
  // registers per thread so that they fit; a kernel whose loop waits on memory latency gains
  // from a second resident program more than it loses to a tighter register budget.
  void set_min_blocks_per_sm(int n);
  // Warpgroups take turns at the dots of each pipelined loop (FlashAttention-3's ping-pong:
  // one warpgroup's dots run while the others do their elementwise work). Off by default: it
  // also ties the warpgroups to each other's pace (bench/RESULTS.md measured the forward 3-7 %
  // slower with it).
  void set_warpgroup_turns(bool on);
  // A producer warpgroup of its own issues the TMA copies of the pipelined loops while the
  // kernel's `num_warps` warps compute (warp specialisation; the block gets 4 more warps and
  // `setmaxnreg` moves registers from them to the computing warps). The lowering does it where
  // every pipelined load of a loop is on TMA and falls back to the plain pipeline elsewhere.
  void set_warp_specialized(bool on);

  const std::string& name() const;
  const Params& params() const;

 private:
  State* state_;
};

using KernelFn = std::function<void(KernelBuilder&, const Params&)>;

struct KernelSpec {
  std::string name;  // also the func.func symbol
  Params params;
  KernelFn define;

  // Builds and verifies the kernel; throws BuildError("kernel 'NAME' (PARAMS): ...").
  mlir::OwningOpRef<mlir::ModuleOp> build(mlir::MLIRContext& ctx) const;
  // The argument list (builds the kernel in a private context).
  KernelSignature signature() const;
  // Same spec with some parameters replaced ("NAME=VALUE" each).
  KernelSpec with(const std::vector<std::string>& assignments) const;
};

// The registry: every registered (name, params) pair, in registration order.
bool register_kernel(KernelSpec spec);
const std::vector<KernelSpec>& registered_kernels();
// Specs with this name (several parameter sets may share a name). A name nothing registered
// is offered to the resolvers: families of kernels whose names are built from parts (attention
// variants and their combinations) are made on demand instead of being enumerated.
std::vector<KernelSpec> find_kernels(const std::string& name);
using KernelResolver = std::function<std::optional<KernelSpec>(const std::string& name)>;
bool register_kernel_resolver(KernelResolver resolver);

}  // namespace tile

#define TILE_DSL_CONCAT_INNER(a, b) a##b
#define TILE_DSL_CONCAT(a, b) TILE_DSL_CONCAT_INNER(a, b)
// TILE_REGISTER_KERNEL(function, "name", {{"PARAM", value}, ...}): one line per parameter set.
// The library holding registrations must be `alwayslink = True` so the linker keeps them.
#define TILE_REGISTER_KERNEL(fn, kernel_name, ...)                                   \
  static const bool TILE_DSL_CONCAT(tile_registered_kernel_, __COUNTER__) =          \
      ::tile::register_kernel(::tile::KernelSpec{kernel_name, ::tile::Params __VA_ARGS__, fn})
