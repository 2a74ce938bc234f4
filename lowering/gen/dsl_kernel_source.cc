// The default kernel source: a kernel from the DSL registry, "<name>[:PARAM=VALUE,...]".
// Builds its tile IR, lowers it with the front half (lowering/pipeline.h) to a gpu.module, and
// names the launch stub's arguments from the DSL signature, with `const` on the pointers the
// kernel never writes through.
#include <set>
#include <sstream>
#include <stdexcept>

#include "dsl/kernel.h"
#include "dsl/module.h"
#include "lowering/gen/kernel_source.h"
#include "lowering/pipeline.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace tile::gen {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, sep)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// True when something may write through memory reached from `arg`: follows the values derived
// from it (pointer arithmetic, splats, loop-carried pointers) and stops at reads, whose results
// are data, not addresses. Conservative: unknown region ops pass the pointer on to everything.
bool written_through(mlir::BlockArgument arg) {
  std::vector<mlir::Value> work = {arg};
  std::set<mlir::Operation*> seen;
  while (!work.empty()) {
    mlir::Value value = work.back();
    work.pop_back();
    for (mlir::Operation* user : value.getUsers()) {
      if (!seen.insert(user).second) continue;
      if (auto effects = mlir::dyn_cast<mlir::MemoryEffectOpInterface>(user)) {
        if (effects.hasEffect<mlir::MemoryEffects::Write>()) return true;
        if (effects.hasEffect<mlir::MemoryEffects::Read>()) continue;
      }
      for (mlir::Value result : user->getResults()) work.push_back(result);
      for (mlir::Region& region : user->getRegions()) {
        for (mlir::Block& block : region) {
          for (mlir::BlockArgument inner : block.getArguments()) work.push_back(inner);
        }
      }
      if (user->hasTrait<mlir::OpTrait::IsTerminator>() && user->getParentOp() != nullptr) {
        for (mlir::Value result : user->getParentOp()->getResults()) work.push_back(result);
      }
    }
  }
  return false;
}

std::string element_c_type(DType t) {
  switch (t) {
    case DType::f32: return "float";
    case DType::f64: return "double";
    case DType::i32: return "int32_t";
    case DType::i64: return "int64_t";
    case DType::f16:
    case DType::bf16: return "uint16_t";  // the bits; see dsl/core/dtype.h for conversions
    case DType::i1: return "uint8_t";
  }
  return "void";
}

std::vector<backend::KernelArg> stub_args(const KernelSignature& signature,
                                          mlir::ModuleOp tile_module) {
  mlir::func::FuncOp kernel;
  tile_module.walk([&](mlir::func::FuncOp f) {
    if (!kernel && f.getName() == signature.name) kernel = f;
  });
  std::vector<backend::KernelArg> args;
  for (size_t i = 0; i < signature.args.size(); ++i) {
    const tile::KernelArg& a = signature.args[i];
    backend::KernelArg arg;
    arg.name = a.name;
    arg.divisor = a.assume.divisor;
    arg.positive = a.assume.positive;
    switch (a.kind) {
      case ArgKind::ptr: {
        arg.kind = backend::ArgKind::kPointer;
        const bool written = !kernel || i >= kernel.getNumArguments() ||
                             written_through(kernel.getArgument(i));
        arg.c_type = (written ? "" : "const ") + element_c_type(a.pointee) + "*";
        break;
      }
      case ArgKind::i32:
        arg.kind = backend::ArgKind::kI32;
        arg.c_type = "int32_t";
        break;
      case ArgKind::f32:
        arg.kind = backend::ArgKind::kF32;
        arg.c_type = "float";
        break;
    }
    args.push_back(arg);
  }
  return args;
}

SourcedKernel load_dsl_kernel(mlir::MLIRContext& context, const std::string& spec,
                              const SourceEnv&) {
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  const std::vector<std::string> overrides =
      colon == std::string::npos ? std::vector<std::string>{} : split(spec.substr(colon + 1), ',');
  std::vector<KernelSpec> candidates = find_kernels(name);
  if (candidates.empty()) {
    std::set<std::string> known;
    for (const KernelSpec& s : registered_kernels()) known.insert(s.name);
    std::string list;
    for (const std::string& k : known) list += " " + k;
    throw std::runtime_error("kernel spec '" + spec + "': no DSL kernel named '" + name +
                             "' is registered (registered:" + (list.empty() ? " none" : list) +
                             "; is its library in the rule's deps?)");
  }
  // Overrides apply to the first registered parameter set. A name it does not have is a typo
  // that would otherwise build the defaults silently.
  const Params& defaults = candidates.front().params;
  for (const std::string& assignment : overrides) {
    const std::string param = assignment.substr(0, assignment.find('='));
    if (assignment.find('=') == std::string::npos || !defaults.has(param)) {
      throw std::runtime_error("kernel spec '" + spec + "': '" + assignment +
                               "' is not PARAM=VALUE for a parameter of " + name + " (" +
                               defaults.str() + ")");
    }
  }
  const KernelSpec kernel_spec = candidates.front().with(overrides);

  load_dialects(context);
  SourcedKernel out;
  out.gpu_module = kernel_spec.build(context);  // throws BuildError naming kernel and params
  out.entry = kernel_spec.name;
  out.ir_hash = hex64(ir_hash(*out.gpu_module));
  out.args = stub_args(kernel_spec.signature(), *out.gpu_module);

  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic& diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << diag.getLocation() << ": " << diag << "\n";
    return mlir::success();
  });
  if (mlir::failed(lowering::lower_tile_to_gpu(*out.gpu_module))) {
    throw std::runtime_error("kernel spec '" + spec + "' (" + kernel_spec.params.str() +
                             "): tile -> gpu lowering failed:\n" + diagnostics);
  }
  return out;
}

const bool registered = register_kernel_source("", load_dsl_kernel);

}  // namespace
}  // namespace tile::gen
