// lower_to_ptx: tile-dialect .mlir file -> PTX text, through the front half (lowering/pipeline.h)
// and MLIR's NVVM pipeline (sm_90a, PTX 8.0). Used by the ptxas tests of tests/lowering.
//   lower_to_ptx IN.mlir OUT.ptx
#include <fstream>
#include <iostream>

#include "dsl/ir/TileDialect.h"
#include "lowering/pipeline.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/SourceMgr.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: lower_to_ptx IN.mlir OUT.ptx\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  tile::ir::registerTileDialects(registry);
  tile::lowering::registerLowering(registry);
  mlir::registerAllPasses();
  mlir::gpu::registerGPUToNVVMPipeline();
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &ctx);
  if (!module) return 1;
  if (mlir::failed(tile::lowering::lower_tile_to_gpu(*module))) return 1;
  mlir::PassManager pm(&ctx);
  if (mlir::failed(mlir::parsePassPipeline(
          "gpu-lower-to-nvvm-pipeline{cubin-chip=sm_90a cubin-features=+ptx83 cubin-format=isa opt-level=3}", pm)))
    return 1;
  if (mlir::failed(pm.run(*module))) return 1;
  std::ofstream out(argv[2]);
  int objects = 0;
  module->walk([&](mlir::gpu::BinaryOp bin) {
    for (mlir::Attribute a : bin.getObjects()) {
      out << llvm::cast<mlir::gpu::ObjectAttr>(a).getObject().getValue().str();
      ++objects;
    }
  });
  if (objects == 0) {
    std::cerr << "lower_to_ptx: no gpu.binary produced\n";
    return 1;
  }
  return 0;
}
