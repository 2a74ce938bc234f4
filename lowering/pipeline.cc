#include "lowering/pipeline.h"

#include "lowering/ir/TilegpuDialect.h"
#include "lowering/passes/passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace tile::lowering {

void buildTileToGpuPipeline(mlir::OpPassManager& pm) {
  pm.addPass(createAssignLayoutsPass());
  pm.addPass(createPipelineLoopsPass());
  pm.addPass(createConvertToGpuPass());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

mlir::LogicalResult lower_tile_to_gpu(mlir::ModuleOp m) {
  mlir::PassManager pm(m.getContext());
  buildTileToGpuPipeline(pm);
  return pm.run(m);
}

void registerLoweringPasses() {
  mlir::registerPass([] { return createAssignLayoutsPass(); });
  mlir::registerPass([] { return createPipelineLoopsPass(); });
  mlir::registerPass([] { return createConvertToGpuPass(); });
}

void registerLowering(mlir::DialectRegistry& registry) {
  registry.insert<tile::gpu::TilegpuDialect, mlir::gpu::GPUDialect, mlir::LLVM::LLVMDialect,
                  mlir::NVVM::NVVMDialect, mlir::vector::VectorDialect>();
  static bool once = [] {
    registerLoweringPasses();
    mlir::registerCanonicalizerPass();
    mlir::registerCSEPass();
    mlir::PassPipelineRegistration<>("tile-to-gpu", "Lower tile kernels to a gpu.module (layouts, per-thread code)",
                                     buildTileToGpuPipeline);
    return true;
  }();
  (void)once;
}

}  // namespace tile::lowering
