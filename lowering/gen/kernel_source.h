// Where the generator's kernels come from. A kernel is asked for by a spec string:
//   "mlir:<file>.mlir#<gpu.func>"  a hand-written gpu.module (the back end's input level)
//   "<dsl kernel>[:P=V,...]"       a kernel from the DSL registry with parameter overrides
// Each source turns a spec into a module the back end takes (gpu.container_module + gpu.module).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lowering/backend/kernel_info.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace tile::gen {

struct SourceEnv {
  // Hand-written MLIR inputs by base name ("vector_add.mlir" -> its path in the build).
  std::map<std::string, std::string> mlir_files;
};

struct SourcedKernel {
  mlir::OwningOpRef<mlir::ModuleOp> gpu_module;
  std::string entry;       // the gpu.func to launch
  std::string ir_hash;     // of the source IR (the DSL's tile IR, or the file's text)
  // Names and C types for the launch stub, in order; empty: take them from the gpu.func.
  std::vector<backend::KernelArg> args;
};

// `spec` is the text after "<prefix>:" (or all of it for the default source). Throws
// std::runtime_error with a message naming the spec on failure.
using KernelSourceFn =
    std::function<SourcedKernel(mlir::MLIRContext&, const std::string& spec, const SourceEnv&)>;

// Registers a source for specs starting with "<prefix>:"; prefix "" is the default source.
bool register_kernel_source(const std::string& prefix, KernelSourceFn fn);

SourcedKernel load_kernel(mlir::MLIRContext& context, const std::string& spec,
                          const SourceEnv& env);

}  // namespace tile::gen
