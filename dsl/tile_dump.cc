// Prints registered kernels' tile IR so tile-opt (and people) can read it.
//   tile_dump --list                          every registered kernel, its params and IR hash
//   tile_dump --kernel gemm [--param BLOCK_M=64 ...] [--index N] [--signature]
// --kernel picks the first registration of that name (or the N-th with --index); --param
// overrides its parameters. The IR goes to stdout, everything else to stderr.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "dsl/module.h"

namespace {

int usage(const char* msg) {
  std::cerr << "tile_dump: " << msg << "\nusage: tile_dump --list | --kernel NAME [--index N] "
               "[--param NAME=VALUE ...] [--signature]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string kernel;
  std::vector<std::string> params;
  bool list = false, signature = false;
  size_t index = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) return {};
      return argv[++i];
    };
    if (a == "--list") list = true;
    else if (a == "--signature") signature = true;
    else if (a == "--kernel") kernel = value();
    else if (a == "--param") params.push_back(value());
    else if (a == "--index") index = std::strtoul(value().c_str(), nullptr, 10);
    else if (a == "--help" || a == "-h") return usage("prints a registered kernel's tile IR"), 0;
    else return usage(("unknown argument " + a).c_str());
  }
  try {
    if (list) {
      for (const tile::KernelSpec& s : tile::registered_kernels()) {
        mlir::MLIRContext ctx;
        auto module = s.build(ctx);
        std::cout << s.name << " {" << s.params.str() << "} ir_hash=" << tile::hex64(tile::ir_hash(*module)) << "\n";
      }
      return 0;
    }
    if (kernel.empty()) return usage("--kernel or --list is required");
    std::vector<tile::KernelSpec> specs = tile::find_kernels(kernel);
    if (specs.empty()) return usage(("no kernel named '" + kernel + "' (see --list)").c_str());
    if (index >= specs.size()) return usage(("--index out of range for '" + kernel + "'").c_str());
    tile::KernelSpec spec = specs[index].with(params);
    mlir::MLIRContext ctx;
    auto module = spec.build(ctx);
    std::cout << tile::ir_text(*module) << "\n";
    std::cerr << "// " << spec.name << " {" << spec.params.str() << "} ir_hash=" << tile::hex64(tile::ir_hash(*module))
              << "\n";
    if (signature) {
      tile::KernelSignature sig = spec.signature();
      std::cerr << "// args:";
      for (const tile::KernelArg& a : sig.args) std::cerr << " " << a.name << ":" << tile::arg_kind_name(a);
      std::cerr << " num_warps=" << sig.num_warps << "\n";
    }
  } catch (const tile::BuildError& e) {
    std::cerr << "tile_dump: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
