// The "mlir:" kernel source: a hand-written gpu.module in a .mlir file, "mlir:<file>#<kernel>".
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "lowering/gen/generated_kernel.h"
#include "lowering/gen/kernel_source.h"
#include "mlir/Parser/Parser.h"

namespace tile::gen {
namespace {

SourcedKernel load_mlir_file(mlir::MLIRContext& context, const std::string& spec,
                             const SourceEnv& env) {
  const size_t hash = spec.find('#');
  if (hash == std::string::npos) {
    throw std::runtime_error("kernel spec 'mlir:" + spec + "': expected mlir:<file>#<kernel>");
  }
  const std::string file = spec.substr(0, hash);
  auto it = env.mlir_files.find(file);
  if (it == env.mlir_files.end()) {
    throw std::runtime_error("kernel spec 'mlir:" + spec + "': " + file +
                             " is not among the rule's mlir_srcs");
  }
  std::ifstream in(it->second);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw std::runtime_error("cannot read " + it->second);

  SourcedKernel kernel;
  kernel.gpu_module = mlir::parseSourceString<mlir::ModuleOp>(text.str(), &context);
  if (!kernel.gpu_module) {
    throw std::runtime_error("kernel spec 'mlir:" + spec + "': " + it->second +
                             " does not parse (diagnostics above)");
  }
  kernel.entry = spec.substr(hash + 1);
  kernel.ir_hash = fnv1a64_hex(text.str());
  return kernel;
}

const bool registered = register_kernel_source("mlir", load_mlir_file);

}  // namespace
}  // namespace tile::gen
