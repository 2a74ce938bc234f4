// The per-step attention backends by name, as the CLIs select them.
//   reference  fp64 CPU reference (always available)
//   interp     the flash-attn API on the DSL kernels run by the CPU interpreter (interp_step_backend)
//   gpu        the flash-attn API on the DSL kernels compiled for the GPU (gpu_step_backend)
// interp and gpu are available in a binary that links their library (each registers itself:
// interp needs MLIR at run time, gpu needs none, so the GPU machine's binary links gpu only).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "distributed/step_backend.h"

namespace tile {
namespace dist {

class BackendUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StepBackendOptions {
  int num_threads = 0;  // CPU threads one backend instance may use (0: all cores)
  int device = 0;       // GPU ordinal (gpu only)
};

using StepBackendMaker = std::function<std::unique_ptr<AttentionStepBackend>(const StepBackendOptions&)>;

// Called from a static initialiser of the library that provides `name`. Returns true.
bool register_step_backend(const std::string& name, StepBackendMaker maker);

// True for the names above (available or not).
bool is_step_backend_name(const std::string& name);

// True when make_step_backend(name) can construct it in this binary; otherwise `why` says what is
// missing. (Whether a GPU is present is checked by the caller: probing it here would initialise
// CUDA before the launcher forks.)
bool step_backend_available(const std::string& name, std::string* why = nullptr);

// Throws BackendUnavailable naming the backend.
std::unique_ptr<AttentionStepBackend> make_step_backend(const std::string& name, const StepBackendOptions& options = {});

}  // namespace dist
}  // namespace tile
