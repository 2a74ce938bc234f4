#include "dsl/runtime/kernel_image.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "dsl/runtime/context.h"
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

CUfunction load_kernel(const KernelImage& image) {
  CUcontext context = ensure_current_context();
  static std::mutex mutex;
  // Modules stay loaded for the life of the process (leaked on purpose: unloading at exit
  // would race with the driver's own teardown).
  static auto* loaded = new std::map<std::pair<CUcontext, const KernelImage*>, CUfunction>();
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(context, &image);
  auto it = loaded->find(key);
  if (it != loaded->end()) return it->second;

  auto* module = new Module(Module::load(image.cubin, image.cubin_size, image.ptx));
  CUfunction function = module->function(image.entry);
  if (image.smem_bytes > kDefaultDynamicSmemLimit) {
    set_max_dynamic_shared_memory(function, image.smem_bytes);
  }
  loaded->emplace(key, function);
  return function;
}

void launch_kernel(const KernelImage& image, Stream& stream, Dim3 grid, void** args) {
  CUfunction function = load_kernel(image);
  if (image.num_tma_templates > 0) {
    // The hidden last parameter: the TMA workspace.
    CUdeviceptr workspace = tma_workspace(image, stream, grid);
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
    launch(function, grid, Dim3(block_threads(image)), static_cast<unsigned>(image.smem_bytes), stream,
           with_workspace);
    return;
  }
  launch(function, grid, Dim3(block_threads(image)), static_cast<unsigned>(image.smem_bytes),
         stream, args);
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
