// tile-opt: parses, verifies, transforms and prints tile-dialect IR, like mlir-opt.
// Every lowering pass is registered here so each can run alone (`--tile-assign-layouts`,
// `--tile-convert-to-gpu`), the whole list runs as `--tile-to-gpu`, and the IR can be dumped
// between stages (`--mlir-print-ir-after-all`).
#include "dsl/ir/TileDialect.h"
#include "lowering/pipeline.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  tile::ir::registerTileDialects(registry);
  tile::lowering::registerLowering(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tile-opt: tile dialect optimizer and lowering driver\n", registry));
}
