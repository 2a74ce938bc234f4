#include "tests/interp/kernel_text.h"

#include <stdexcept>

#include "dsl/ir/TileDialect.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

namespace tile::interp::testing {
namespace {

struct Parsed {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func;
};

std::unique_ptr<Parsed> parse(const std::string& text, const std::string& name) {
  auto p = std::make_unique<Parsed>();
  mlir::DialectRegistry registry;
  tile::ir::registerTileDialects(registry);
  p->context.appendDialectRegistry(registry);
  p->context.loadAllAvailableDialects();
  std::string diags;
  {
    mlir::ScopedDiagnosticHandler handler(&p->context, [&](mlir::Diagnostic& d) {
      llvm::raw_string_ostream os(diags);
      os << d.getLocation() << ": " << d << "\n";
      return mlir::success();
    });
    p->module = mlir::parseSourceString<mlir::ModuleOp>(text, &p->context, "kernel.mlir");
  }
  if (!p->module) throw std::runtime_error("MLIR does not parse:\n" + diags);
  for (auto f : p->module->getOps<mlir::func::FuncOp>()) {
    if (name.empty() || f.getName() == name) {
      p->func = f;
      break;
    }
  }
  if (!p->func) throw std::runtime_error("no function '" + name + "' in the module");
  return p;
}

}  // namespace

std::shared_ptr<const Program> compileText(const std::string& mlir, const std::string& name) {
  auto p = parse(mlir, name);
  return compile(p->func);  // the Program does not refer to the MLIR afterwards
}

void runText(const std::string& mlir, Grid grid, const std::vector<Arg>& args, const Options& options) {
  auto p = parse(mlir, "");
  run(p->func, grid, args, options);
}

std::string subst(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

}  // namespace tile::interp::testing
