// The kernel generator run by the tile_kernel Bazel rule (lowering/gen/tile_kernel.bzl):
// builds each requested kernel, lowers it to PTX and a cubin, and writes
//   <out_dir>/<name>.h, <name>.cc            embedded images + typed launch stubs
//   <out_dir>/<name>_<instance>.ptx/.cubin   the same code, for inspection and ptxas checks
//
//   tile_kernel_gen --name=lib --out_dir=DIR --header_path=pkg/lib.h --origin=//pkg:lib
//       [--namespace=tile::kernels] [--ptxas=PATH] [--chip=sm_90a] [--ptx_features=+ptx83]
//       [--ptxas_flag=FLAG]... [--mlir_src=PATH]... [--embed_ptx=false] --kernel=INSTANCE=SPEC...
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowering/backend/backend.h"
#include "lowering/gen/kernel_source.h"
#include "lowering/gen/stub_emitter.h"
#include "mlir/IR/MLIRContext.h"

namespace tile::gen {
namespace {

struct Flags {
  std::string name, out_dir, header_path, origin, cpp_namespace = "tile::kernels";
  bool embed_ptx = true;
  backend::BackendOptions backend;
  SourceEnv env;
  std::vector<std::pair<std::string, std::string>> kernels;  // instance, spec
};

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      throw std::invalid_argument("unexpected argument '" + arg + "' (flags are --name=value)");
    }
    const std::string key = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
    if (key == "name") flags.name = value;
    else if (key == "out_dir") flags.out_dir = value;
    else if (key == "header_path") flags.header_path = value;
    else if (key == "origin") flags.origin = value;
    else if (key == "namespace") flags.cpp_namespace = value;
    else if (key == "ptxas") flags.backend.ptxas.ptxas_path = value;
    else if (key == "chip") flags.backend.chip = value;
    else if (key == "ptx_features") flags.backend.ptx_features = value;
    else if (key == "ptxas_flag") flags.backend.ptxas.extra_flags.push_back(value);
    else if (key == "embed_ptx") {
      if (value != "true" && value != "false")
        throw std::invalid_argument("--embed_ptx expects true or false, got '" + value + "'");
      flags.embed_ptx = value == "true";
    } else if (key == "mlir_src") flags.env.mlir_files[base_name(value)] = value;
    else if (key == "kernel") {
      const size_t sep = value.find('=');
      if (sep == std::string::npos) {
        throw std::invalid_argument("--kernel expects INSTANCE=SPEC, got '" + value + "'");
      }
      flags.kernels.emplace_back(value.substr(0, sep), value.substr(sep + 1));
    } else {
      throw std::invalid_argument("unknown flag --" + key);
    }
  }
  if (flags.name.empty() || flags.out_dir.empty() || flags.header_path.empty()) {
    throw std::invalid_argument("--name, --out_dir and --header_path are required");
  }
  return flags;
}

// Takes names and C types from the source (e.g. the DSL's signature) where it gives them,
// after checking they describe the same parameters the compiled kernel has.
void apply_arg_names(const std::string& instance, const std::vector<backend::KernelArg>& named,
                     std::vector<backend::KernelArg>& compiled) {
  if (named.empty()) return;
  if (named.size() != compiled.size()) {
    throw std::runtime_error(instance + ": the source declares " + std::to_string(named.size()) +
                             " arguments but the compiled kernel has " +
                             std::to_string(compiled.size()));
  }
  for (size_t i = 0; i < named.size(); ++i) {
    if (named[i].kind != compiled[i].kind) {
      throw std::runtime_error(instance + ": argument " + std::to_string(i) + " (" +
                               named[i].name + ") is " + backend::arg_kind_name(named[i].kind) +
                               " in the source but " + backend::arg_kind_name(compiled[i].kind) +
                               " in the compiled kernel");
    }
    compiled[i].name = named[i].name;
    compiled[i].c_type = named[i].c_type;
    compiled[i].divisor = named[i].divisor;
    compiled[i].positive = named[i].positive;
  }
}

GeneratedKernel generate(mlir::MLIRContext& context, const Flags& flags,
                         const std::string& instance, const std::string& spec) {
  SourcedKernel source = load_kernel(context, spec, flags.env);
  backend::BackendResult result = backend::compile_gpu_module(*source.gpu_module, flags.backend);
  if (!result.ok()) throw std::runtime_error(instance + " (" + spec + "): " + result.error);
  const backend::CompiledModule* module = nullptr;
  const backend::CompiledKernel* kernel = result.find_kernel(source.entry, &module);
  if (kernel == nullptr) {
    throw std::runtime_error(instance + " (" + spec + "): no kernel gpu.func @" + source.entry);
  }
  GeneratedKernel out;
  out.instance = instance;
  out.spec = spec;
  out.entry = kernel->name;
  out.target = flags.backend.chip;
  out.ptx = module->ptx;
  out.cubin = module->cubin;
  out.num_warps = kernel->num_warps;
  out.smem_bytes = kernel->smem_bytes;
  out.args = kernel->args;
  out.tma_templates = kernel->tma_templates;
  out.resources = kernel->resources;
  out.consumer_warps = kernel->consumer_warps;
  out.warp_roles_refused = kernel->warp_roles_refused;
  out.register_split = kernel->register_split;
  out.ir_hash = source.ir_hash;
  apply_arg_names(instance, source.args, out.args);
  return out;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out.good()) throw std::runtime_error("cannot write " + path);
}

int run(int argc, char** argv) {
  const Flags flags = parse_flags(argc, argv);
  mlir::DialectRegistry registry;
  backend::register_backend_dialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::vector<GeneratedKernel> kernels;
  for (const auto& [instance, spec] : flags.kernels) {
    kernels.push_back(generate(context, flags, instance, spec));
    const GeneratedKernel& k = kernels.back();
    std::cerr << "tile_kernel " << flags.origin << ": " << instance << " <- " << spec << ": "
              << k.resources.registers << " registers, "
              << k.resources.spill_store_bytes + k.resources.spill_load_bytes
              << " B spills, " << k.smem_bytes << " B smem";
    if (k.consumer_warps) {
      std::cerr << ", producer warpgroup + " << k.consumer_warps << " consumer warps (registers "
                << k.register_split.producer << "/" << k.register_split.consumer << ")";
    }
    if (!k.warp_roles_refused.empty()) std::cerr << ", not warp-specialised: " << k.warp_roles_refused;
    if (!k.resources.wgmma_serialized.empty()) std::cerr << ", wgmma serialised (" << k.resources.wgmma_serialized << ")";
    std::cerr << "\n";
  }
  EmitOptions emit;
  emit.library = flags.name;
  emit.header_path = flags.header_path;
  emit.cpp_namespace = flags.cpp_namespace;
  emit.origin = flags.origin.empty() ? flags.name : flags.origin;
  emit.embed_ptx = flags.embed_ptx;
  const std::string prefix = flags.out_dir + "/" + flags.name;
  write_file(prefix + ".h", emit_header(emit, kernels));
  write_file(prefix + ".cc", emit_source(emit, kernels));
  for (const GeneratedKernel& k : kernels) {
    write_file(prefix + "_" + k.instance + ".ptx", k.ptx);
    write_file(prefix + "_" + k.instance + ".cubin",
               std::string(k.cubin.begin(), k.cubin.end()));
  }
  return 0;
}

}  // namespace
}  // namespace tile::gen

int main(int argc, char** argv) {
  try {
    return tile::gen::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "tile_kernel generator: error: " << e.what() << "\n";
    return 1;
  }
}
