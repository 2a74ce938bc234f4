// The per-step attention backends by name, as the CLIs select them.
//   reference  fp64 CPU reference (always available)
//   interp     the DSL attention kernels on the CPU interpreter (dsl/interp) — not built yet
//   gpu        the flash-attn API on the GPU (attention/api) — not built yet
// When those libraries land, their constructors go into make_step_backend and
// step_backend_available(); nothing else in distributed/ changes.
#pragma once

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

// True for the names above (available or not).
bool is_step_backend_name(const std::string& name);

// True when make_step_backend(name) would succeed; otherwise `why` says what is missing.
bool step_backend_available(const std::string& name, std::string* why = nullptr);

// num_threads: CPU threads one backend instance may use (0: all cores).
// Throws BackendUnavailable naming the backend.
std::unique_ptr<AttentionStepBackend> make_step_backend(const std::string& name, int num_threads = 0);

}  // namespace dist
}  // namespace tile
