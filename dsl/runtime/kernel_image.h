// A compiled kernel as the generated code embeds it (cubin + PTX + metadata), and its launch.
//
// The generator (lowering/gen) writes one constant KernelImage per kernel and a typed launch stub
// that calls launch_kernel(). Images are plain data: no MLIR, no static constructors.
#pragma once

#include <vector>

#include <cstddef>
#include <cstdint>
#include <string>

#include "dsl/runtime/module.h"
#include "dsl/signature.h"

namespace tile::rt {

class Stream;

// The kinds of kernel parameters the lowering produces (one PTX parameter each).
enum class ParamKind : uint8_t { kPointer, kI32, kI64, kF32, kF64 };

const char* param_kind_name(ParamKind kind);
size_t param_kind_size(ParamKind kind);

struct KernelParam {
  const char* name;    // as written in the kernel (e.g. "q"), for messages
  ParamKind kind;
  // What the kernel assumes of the value (a pointer's address or an integer): checked by
  // launch_kernel.
  ArgAssumption assume;
};


// A tensor map the kernel makes per block from a template (TMA copies of pipelined loads):
// element type (0 bf16, 1 f16), box extents in elements. The runtime encodes the templates
// into a per-(kernel, stream) workspace passed as a hidden last parameter, with room for
// each block's own maps after them (lowering/passes/async_ptx.h has the layout).
struct TmaTemplate {
  int elem;
  int box_cols;
  int box_rows;
};

struct KernelImage {
  const char* name;    // the instance name the stub is called by (launch_<name>)
  const char* entry;   // PTX entry point (the gpu.func symbol)
  const unsigned char* cubin;
  size_t cubin_size;
  const char* ptx;     // NUL-terminated PTX text, the JIT fallback
  int num_warps;       // block = num_warps * 32 threads
  int smem_bytes;      // dynamic shared memory per block
  const KernelParam* params;
  int num_params;
  const char* ir_hash;   // hash of the IR the kernel was generated from
  const char* target;    // e.g. "sm_90a"
  int registers;         // ptxas -v: registers per thread
  int spill_bytes;       // ptxas -v: spill stores + loads (bytes)
  const TmaTemplate* tma_templates = nullptr;  // none: no hidden workspace parameter
  int num_tma_templates = 0;
};

// The image's TMA templates as a list (what an override without boxes of its own encodes too).
inline std::vector<TmaTemplate> image_tma_templates(const KernelImage& image) {
  return std::vector<TmaTemplate>(image.tma_templates, image.tma_templates + image.num_tma_templates);
}

// Threads per block of `image`.
inline unsigned block_threads(const KernelImage& image) {
  return static_cast<unsigned>(image.num_warps) * 32u;
}

// The image's module loaded in the current context, its function, and the smem limit raised.
// Loaded once per (context, image) and kept for the life of the process; thread-safe.
CUfunction load_kernel(const KernelImage& image);

// Throws std::invalid_argument naming the kernel and the parameter when a value in `args` (one
// pointer per parameter, as launch_kernel takes them) breaks what the kernel assumes of it.
void check_param_assumptions(const KernelImage& image, void** args);

// Launches `image` over `grid` with its block size and dynamic shared memory. `args` holds one
// pointer per parameter, in order (what cuLaunchKernel takes).
void launch_kernel(const KernelImage& image, Stream& stream, Dim3 grid, void** args);

// A one-line description: "vector_add (entry vector_add, 4 warps, 0 B smem, 12 regs, ...)".
std::string describe(const KernelImage& image);

}  // namespace tile::rt
