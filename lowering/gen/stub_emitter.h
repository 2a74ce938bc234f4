// Writes the C++ that embeds generated kernels (cubin + optionally PTX as byte arrays) and gives each a
// typed launch stub over the runtime (dsl/runtime): no MLIR in what it writes.
#pragma once

#include <string>
#include <vector>

#include "lowering/gen/generated_kernel.h"

namespace tile::gen {

struct EmitOptions {
  std::string library;        // the tile_kernel target name; prefixes library-wide symbols
  std::string header_path;    // include path of the generated header, e.g. "pkg/name.h"
  std::string cpp_namespace = "tile::kernels";
  std::string origin;         // the Bazel label, for the "generated from" comment
  // The PTX is the JIT fallback for a GPU the cubin does not run on. sm_90a PTX only JITs for
  // sm_90a itself, so libraries of many large sm_90a kernels leave it out (image.ptx = nullptr):
  // it is over half the embedded bytes.
  bool embed_ptx = true;
};

// Throws std::invalid_argument when a name or C type cannot be emitted safely (not an
// identifier, duplicate instance, a C type outside [A-Za-z0-9_:* ]).
void check_emittable(const EmitOptions& options, const std::vector<GeneratedKernel>& kernels);

std::string emit_header(const EmitOptions& options, const std::vector<GeneratedKernel>& kernels);
std::string emit_source(const EmitOptions& options, const std::vector<GeneratedKernel>& kernels);

}  // namespace tile::gen
