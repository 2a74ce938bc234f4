#include "lowering/gen/kernel_source.h"

#include <stdexcept>

namespace tile::gen {
namespace {

std::map<std::string, KernelSourceFn>& sources() {
  static auto* table = new std::map<std::string, KernelSourceFn>();
  return *table;
}

}  // namespace

bool register_kernel_source(const std::string& prefix, KernelSourceFn fn) {
  sources()[prefix] = std::move(fn);
  return true;
}

SourcedKernel load_kernel(mlir::MLIRContext& context, const std::string& spec,
                          const SourceEnv& env) {
  const size_t colon = spec.find(':');
  if (colon != std::string::npos) {
    auto it = sources().find(spec.substr(0, colon));
    if (it != sources().end() && !it->first.empty()) {
      return it->second(context, spec.substr(colon + 1), env);
    }
  }
  auto fallback = sources().find("");
  if (fallback == sources().end()) {
    std::string known;
    for (const auto& entry : sources()) known += " " + entry.first + ":";
    throw std::runtime_error("kernel spec '" + spec +
                             "': no source handles it (known prefixes:" + known +
                             "; DSL kernels need the generator linked with "
                             "//lowering/gen:dsl_kernel_source)");
  }
  return fallback->second(context, spec, env);
}

}  // namespace tile::gen
