#include "tests/dsl/build_ir.h"

#include "dsl/module.h"
#include "mlir/Parser/Parser.h"

namespace tile::testing {

std::string build_ir(const KernelFn& fn, const Params& params, const std::string& name) {
  mlir::MLIRContext ctx;
  KernelSpec spec{name, params, fn};
  return ir_text(*spec.build(ctx));
}

std::string round_trip(const std::string& ir) {
  mlir::MLIRContext ctx;
  load_dialects(ctx);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(ir, &ctx);
  if (!module) return "<parse failed>";
  return ir_text(*module);
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

}  // namespace tile::testing
