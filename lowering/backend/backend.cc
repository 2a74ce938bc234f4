#include "lowering/backend/backend.h"

#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

namespace tile::backend {
namespace {

// Collects what a launch needs to know about each kernel, before the lowering erases the
// gpu.func attributes. Returns an error message, empty on success.
std::string collect_kernels(mlir::ModuleOp module, const BackendOptions& options,
                            std::vector<CompiledModule>& modules) {
  std::string error;
  module.walk([&](mlir::gpu::GPUModuleOp gpu_module) {
    CompiledModule compiled;
    compiled.name = gpu_module.getName().str();
    gpu_module.walk([&](mlir::gpu::GPUFuncOp func) {
      if (!func.isKernel() || !error.empty()) return;
      CompiledKernel kernel;
      kernel.name = func.getName().str();
      kernel.module_name = compiled.name;
      const std::string where = "kernel @" + kernel.name + ": ";
      auto warps = func->getAttrOfType<mlir::IntegerAttr>("tile.num_warps");
      if (!warps || warps.getInt() <= 0 || warps.getInt() > 32) {
        error = where + "needs a `tile.num_warps` attribute between 1 and 32";
        return;
      }
      kernel.num_warps = static_cast<int>(warps.getInt());
      if (auto smem = func->getAttrOfType<mlir::IntegerAttr>("tile.smem_bytes")) {
        kernel.smem_bytes = static_cast<int>(smem.getInt());
      }
      if (kernel.smem_bytes < 0 || kernel.smem_bytes > 227 * 1024) {
        error = where + "tile.smem_bytes = " + std::to_string(kernel.smem_bytes) +
                " is outside 0..227 KiB (the sm_90 per-block limit)";
        return;
      }
      for (unsigned i = 0; i < func.getNumArguments(); ++i) {
        mlir::Type type = func.getArgument(i).getType();
        KernelArg arg;
        if (mlir::isa<mlir::LLVM::LLVMPointerType>(type)) {
          arg.kind = ArgKind::kPointer;
          arg.c_type = "void*";
        } else if (type.isInteger(32)) {
          arg.kind = ArgKind::kI32;
          arg.c_type = "int32_t";
        } else if (type.isInteger(64)) {
          arg.kind = ArgKind::kI64;
          arg.c_type = "int64_t";
        } else if (type.isF32()) {
          arg.kind = ArgKind::kF32;
          arg.c_type = "float";
        } else if (type.isF64()) {
          arg.kind = ArgKind::kF64;
          arg.c_type = "double";
        } else {
          std::string printed;
          llvm::raw_string_ostream os(printed);
          type.print(os);
          error = where + "argument " + std::to_string(i) + " has type " + os.str() +
                  "; kernel arguments must be !llvm.ptr, i32, i64, f32 or f64 (one PTX "
                  "parameter each)";
          return;
        }
        arg.name = "arg" + std::to_string(i);
        if (auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "tile.arg_name")) {
          arg.name = name.str();
        }
        if (auto c_type = func.getArgAttrOfType<mlir::StringAttr>(i, "tile.arg_ctype")) {
          arg.c_type = c_type.str();
        }
        kernel.args.push_back(arg);
      }
      if (auto consumers = func->getAttrOfType<mlir::IntegerAttr>("tile.consumer_warps"))
        kernel.consumer_warps = static_cast<int>(consumers.getInt());
      if (auto refused = func->getAttrOfType<mlir::StringAttr>("tile.warp_roles_refused"))
        kernel.warp_roles_refused = refused.str();
      if (auto split = func->getAttrOfType<mlir::DenseI32ArrayAttr>("tile.register_split")) {
        if (split.size() != 2) {
          error = where + "tile.register_split must be array<i32: producer, consumer>";
          return;
        }
        kernel.register_split = RegisterSplit{split[0], split[1]};
      }
      if (auto templates = func->getAttrOfType<mlir::ArrayAttr>("tile.tma_templates")) {
        for (mlir::Attribute a : templates) {
          auto t = mlir::dyn_cast<mlir::DenseI32ArrayAttr>(a);
          if (!t || t.size() != 3) {
            error = where + "tile.tma_templates entries must be array<i32: elem, box cols, box rows>";
            return;
          }
          kernel.tma_templates.push_back(TmaTemplate{t[0], t[1], t[2]});
        }
        // The hidden workspace argument is the runtime's, not the caller's.
        if (!kernel.tma_templates.empty()) {
          if (kernel.args.empty() || kernel.args.back().kind != ArgKind::kPointer) {
            error = where + "has TMA templates but no workspace pointer as its last argument";
            return;
          }
          kernel.args.pop_back();
        }
      }
      const int threads = kernel.num_warps * 32;
      if (auto known = func.getKnownBlockSize()) {
        if ((*known)[0] != threads || (*known)[1] != 1 || (*known)[2] != 1) {
          error = where + "known_block_size disagrees with tile.num_warps = " +
                  std::to_string(kernel.num_warps);
          return;
        }
      } else if (options.declare_block_size) {
        func.setKnownBlockSize(llvm::ArrayRef<int32_t>{threads, 1, 1});
      }
      compiled.kernels.push_back(kernel);
    });
    if (!compiled.kernels.empty()) modules.push_back(std::move(compiled));
  });
  if (error.empty() && modules.empty()) error = "no gpu.module with a kernel gpu.func found";
  return error;
}

// Marks every float arith op in the gpu.modules `contract`, so that instruction selection may
// fuse a multiply with the add that consumes it.
void allow_float_contraction(mlir::ModuleOp module) {
  module.walk([](mlir::arith::ArithFastMathInterface op) {
    mlir::arith::FastMathFlags flags = mlir::arith::FastMathFlags::contract;
    if (mlir::arith::FastMathFlagsAttr old = op.getFastMathFlagsAttr()) flags = flags | old.getValue();
    op->setAttr(op.getFastMathAttrName(), mlir::arith::FastMathFlagsAttr::get(op->getContext(), flags));
  });
}

// Runs MLIR's GPU -> NVVM -> PTX pipeline; gpu.modules become gpu.binary ops holding PTX.
std::string lower_to_ptx(mlir::ModuleOp module, const BackendOptions& options) {
  if (options.contract_float_ops) allow_float_contraction(module);
  mlir::MLIRContext* context = module.getContext();
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(context, [&](mlir::Diagnostic& diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << diag.getLocation() << ": " << diag << "\n";
    for (const mlir::Diagnostic& note : diag.getNotes()) {
      os << "  note: " << note.getLocation() << ": " << note << "\n";
    }
    return mlir::success();
  });

  mlir::gpu::GPUToNVVMPipelineOptions pipeline;
  pipeline.cubinChip = options.chip;
  pipeline.cubinFeatures = options.ptx_features;
  pipeline.cubinFormat = "isa";  // PTX text; ptxas runs separately so its report is ours
  pipeline.optLevel = options.llvm_opt_level;
  mlir::PassManager pm(context);
  mlir::gpu::buildLowerToNVVMPassPipeline(pm, pipeline);
  if (mlir::failed(pm.run(module))) {
    return "NVVM lowering failed:\n" + (diagnostics.empty() ? "(no diagnostics)" : diagnostics);
  }
  return "";
}

int spill_bytes(const ResourceUsage& usage) { return usage.spill_store_bytes + usage.spill_load_bytes; }

// Assembles `compiled`'s PTX; for each warp-specialised kernel that spills, tries the other
// register splits one by one and keeps a split only where it spills less. The module's PTX,
// cubin, log and resources end as those of its best splits.
std::string assemble(CompiledModule& compiled, const PtxasOptions& ptxas, int split_levels) {
  PtxasResult best = run_ptxas(compiled.ptx, ptxas);
  if (!best.ok) {
    compiled.ptxas_log = best.log;
    return "ptxas failed for gpu.module @" + compiled.name + " (" + best.command + "):\n" + best.log;
  }
  for (CompiledKernel& kernel : compiled.kernels) {
    auto usage = best.usage.find(kernel.name);
    if (usage == best.usage.end() || kernel.consumer_warps == 0 || kernel.register_split.producer == 0 ||
        spill_bytes(usage->second) == 0)
      continue;
    const int producer_threads = (kernel.num_warps - kernel.consumer_warps) * 32;
    for (const RegisterSplit& split :
         register_split_candidates(producer_threads, kernel.consumer_warps * 32, split_levels)) {
      if (split == kernel.register_split) continue;
      std::string ptx = compiled.ptx;
      if (!rewrite_register_split(ptx, kernel.name, kernel.register_split, split)) break;
      PtxasResult tried = run_ptxas(ptx, ptxas);
      auto tried_usage = tried.usage.find(kernel.name);
      if (!tried.ok || tried_usage == tried.usage.end() ||
          spill_bytes(tried_usage->second) >= spill_bytes(best.usage[kernel.name]))
        continue;
      compiled.ptx = std::move(ptx);
      kernel.register_split = split;
      best = std::move(tried);
      if (spill_bytes(best.usage[kernel.name]) == 0) break;
    }
  }
  compiled.ptxas_log = best.log;
  compiled.cubin = std::move(best.cubin);
  for (CompiledKernel& kernel : compiled.kernels) {
    auto it = best.usage.find(kernel.name);
    if (it != best.usage.end()) kernel.resources = it->second;
  }
  return "";
}

}  // namespace

void register_backend_dialects(mlir::DialectRegistry& registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

const CompiledKernel* BackendResult::find_kernel(const std::string& name,
                                                 const CompiledModule** module) const {
  for (const CompiledModule& m : modules) {
    for (const CompiledKernel& k : m.kernels) {
      if (k.name == name) {
        if (module != nullptr) *module = &m;
        return &k;
      }
    }
  }
  return nullptr;
}

BackendResult compile_gpu_module(mlir::ModuleOp input, const BackendOptions& options) {
  BackendResult result;
  mlir::MLIRContext* context = input.getContext();
  {
    mlir::DialectRegistry registry;
    register_backend_dialects(registry);
    context->appendDialectRegistry(registry);
  }
  mlir::OwningOpRef<mlir::ModuleOp> module(input.clone());

  result.error = collect_kernels(*module, options, result.modules);
  if (!result.ok()) return result;
  result.error = lower_to_ptx(*module, options);
  if (!result.ok()) return result;

  // Read each module's PTX out of its gpu.binary.
  for (CompiledModule& compiled : result.modules) {
    auto binary = module->lookupSymbol<mlir::gpu::BinaryOp>(compiled.name);
    if (!binary || binary.getObjectsAttr().empty()) {
      result.error = "gpu.module @" + compiled.name + " produced no gpu.binary";
      return result;
    }
    auto object = mlir::cast<mlir::gpu::ObjectAttr>(binary.getObjectsAttr()[0]);
    if (object.getFormat() != mlir::gpu::CompilationTarget::Assembly) {
      result.error = "gpu.binary @" + compiled.name + " does not hold PTX text";
      return result;
    }
    compiled.ptx = object.getObject().str();
    for (const CompiledKernel& kernel : compiled.kernels) {
      if (compiled.ptx.find(".entry " + kernel.name + "(") == std::string::npos) {
        result.error = "PTX of gpu.module @" + compiled.name + " has no entry " + kernel.name;
        return result;
      }
    }
  }
  if (!options.run_ptxas) return result;

  PtxasOptions ptxas = options.ptxas;
  ptxas.arch = options.chip;
  for (CompiledModule& compiled : result.modules) {
    result.error = assemble(compiled, ptxas, options.register_split_levels);
    if (!result.ok()) return result;
  }
  return result;
}

}  // namespace tile::backend
