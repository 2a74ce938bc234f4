#include "dsl/runtime/kernel_image.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "dsl/runtime/context.h"
#include "dsl/runtime/override_meta.h"
#include "dsl/runtime/stream.h"
#include "dsl/runtime/tma_workspace.h"

namespace tile::rt {

// Without opting in, a launch may use at most 48 KiB of dynamic shared memory.
constexpr int kDefaultDynamicSmemLimit = 48 * 1024;

const char* param_kind_name(ParamKind kind) {
  switch (kind) {
    case ParamKind::kPointer: return "pointer";
    case ParamKind::kI32: return "i32";
    case ParamKind::kI64: return "i64";
    case ParamKind::kF32: return "f32";
    case ParamKind::kF64: return "f64";
  }
  return "unknown";
}

size_t param_kind_size(ParamKind kind) {
  switch (kind) {
    case ParamKind::kI32:
    case ParamKind::kF32: return 4;
    default: return 8;
  }
}

namespace {
// A cubin built outside this binary for `image` (same entry, parameters, warps and shared
// memory: what the generator writes for the same instance after a change to the lowering), so
// a kernel change can be timed against the built-in one in the same process. Empty when
// TILE_KERNEL_OVERRIDE_DIR is unset or holds no <instance name>.cubin.
struct OverrideCubin {
  std::vector<char> bytes;  // empty: no override
  int smem_bytes = 0;       // what it launches with
  std::vector<TmaTemplate> tma_templates;  // the boxes its tensor maps are encoded with
};

OverrideCubin override_cubin(const KernelImage& image) {
  const char* dir = std::getenv("TILE_KERNEL_OVERRIDE_DIR");
  if (dir == nullptr || *dir == '\0') return {};
  const std::string path = std::string(dir) + "/" + image.name + ".cubin";
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  OverrideCubin found;
  found.smem_bytes = image.smem_bytes;
  found.tma_templates = image_tma_templates(image);
  std::vector<char>& bytes = found.bytes;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw std::runtime_error("TILE_KERNEL_OVERRIDE_DIR: " + path + " is empty");
  const std::string meta_path = std::string(dir) + "/" + image.name + ".meta";
  std::ifstream meta(meta_path);
  if (meta) {
    const std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
    const std::string why = override_mismatch(image, text);
    if (!why.empty())
      throw std::runtime_error("TILE_KERNEL_OVERRIDE_DIR: " + path + " " + why + " (" + meta_path + ")");
    found.smem_bytes = override_smem_bytes(image, text);
    found.tma_templates = override_tma_templates(image, text);
    std::fprintf(stderr, "kernel %s: cubin from %s (%d B dynamic smem)\n", image.name, path.c_str(), found.smem_bytes);
  } else {
    std::fprintf(stderr, "kernel %s: cubin from %s (no %s.meta beside it: shared memory and TMA templates unchecked)\n",
                 image.name, path.c_str(), image.name);
  }
  return found;
}

// The overriding cubin must launch like the image. The generator gives every entry a .maxntid
// of its block size, so a cubin built for another number of warps shows here.
void check_override(const KernelImage& image, CUfunction function) {
  int max_threads = 0;
  TILE_CU_CHECK(cuFuncGetAttribute(&max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, function));
  if (max_threads != int(block_threads(image)))
    throw std::runtime_error(std::string("TILE_KERNEL_OVERRIDE_DIR: the cubin of ") + image.name + " allows " +
                             std::to_string(max_threads) + " threads per block, the image launches exactly " +
                             std::to_string(block_threads(image)));
}

// A loaded kernel and the dynamic shared memory it launches with (an override's may differ).
struct LoadedKernel {
  CUfunction function;
  int smem_bytes;
  std::vector<TmaTemplate> tma_templates;  // the image's, or an override's own boxes
};

const LoadedKernel& load(const KernelImage& image) {
  CUcontext context = ensure_current_context();
  static std::mutex mutex;
  // Modules stay loaded for the life of the process (leaked on purpose: unloading at exit
  // would race with the driver's own teardown).
  static auto* loaded = new std::map<std::pair<CUcontext, const KernelImage*>, LoadedKernel>();
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(context, &image);
  auto it = loaded->find(key);
  if (it != loaded->end()) return it->second;

  const OverrideCubin replacement = override_cubin(image);
  const bool replaced = !replacement.bytes.empty();
  auto* module = replaced ? new Module(Module::load(replacement.bytes.data(), replacement.bytes.size(), nullptr))
                          : new Module(Module::load(image.cubin, image.cubin_size, image.ptx));
  CUfunction function = module->function(image.entry);
  if (replaced) check_override(image, function);
  const int smem_bytes = replaced ? replacement.smem_bytes : image.smem_bytes;
  if (smem_bytes > kDefaultDynamicSmemLimit) set_max_dynamic_shared_memory(function, smem_bytes);
  std::vector<TmaTemplate> templates = replaced ? replacement.tma_templates : image_tma_templates(image);
  return loaded->emplace(key, LoadedKernel{function, smem_bytes, std::move(templates)}).first->second;
}

}  // namespace

CUfunction load_kernel(const KernelImage& image) { return load(image).function; }

void check_param_assumptions(const KernelImage& image, void** args) {
  for (int i = 0; i < image.num_params; ++i) {
    const KernelParam& p = image.params[i];
    if (!p.assume.any()) continue;
    int64_t value = 0;
    switch (p.kind) {
      case ParamKind::kPointer: value = int64_t(*static_cast<const CUdeviceptr*>(args[i])); break;
      case ParamKind::kI32: value = *static_cast<const int32_t*>(args[i]); break;
      case ParamKind::kI64: value = *static_cast<const int64_t*>(args[i]); break;
      default: continue;  // floats carry no assumptions
    }
    if (meets(p.assume, value)) continue;
    std::ostringstream msg;
    msg << "kernel " << image.name << ": argument '" << p.name << "' must be "
        << (p.kind == ParamKind::kPointer ? "an address aligned to " + std::to_string(p.assume.divisor) + " bytes"
                                          : std::string(p.assume.positive ? "positive and " : "") + "a multiple of " +
                                                std::to_string(p.assume.divisor))
        << " (the kernel was compiled assuming so), got " << value;
    throw std::invalid_argument(msg.str());
  }
}

void launch_kernel(const KernelImage& image, Stream& stream, Dim3 grid, void** args) {
  check_param_assumptions(image, args);
  const LoadedKernel& kernel = load(image);
  const unsigned smem_bytes = static_cast<unsigned>(kernel.smem_bytes);
  if (image.num_tma_templates > 0) {
    // The hidden last parameter: the TMA workspace.
    CUdeviceptr workspace = tma_workspace(image, kernel.tma_templates, stream, grid);
    // On the stack for the usual parameter counts: this runs on every launch.
    constexpr int kOnStack = 64;
    void* on_stack[kOnStack + 1];
    std::vector<void*> on_heap;
    void** with_workspace = on_stack;
    if (image.num_params > kOnStack) {
      on_heap.resize(size_t(image.num_params) + 1);
      with_workspace = on_heap.data();
    }
    std::copy(args, args + image.num_params, with_workspace);
    with_workspace[image.num_params] = &workspace;
    launch(kernel.function, grid, Dim3(block_threads(image)), smem_bytes, stream, with_workspace);
    return;
  }
  launch(kernel.function, grid, Dim3(block_threads(image)), smem_bytes, stream, args);
}

std::string describe(const KernelImage& image) {
  std::ostringstream out;
  out << image.name << " (entry " << image.entry << ", " << image.target << ", "
      << image.num_warps << " warps, " << image.smem_bytes << " B dynamic smem, "
      << image.registers << " registers, " << image.spill_bytes << " B spills, params (";
  for (int i = 0; i < image.num_params; ++i) {
    out << (i ? ", " : "") << param_kind_name(image.params[i].kind) << " "
        << image.params[i].name;
  }
  out << "), IR hash " << image.ir_hash << ")";
  return out.str();
}

}  // namespace tile::rt
