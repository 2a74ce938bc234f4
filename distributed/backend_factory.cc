#include "distributed/backend_factory.h"

#include "distributed/reference_step_backend.h"

namespace tile {
namespace dist {

bool is_step_backend_name(const std::string& name) {
  return name == "reference" || name == "interp" || name == "gpu";
}

bool step_backend_available(const std::string& name, std::string* why) {
  std::string reason;
  if (name == "reference") return true;
  if (name == "interp")
    reason = "backend 'interp' is not available yet: the DSL attention kernels for the CPU interpreter are not built "
             "into this binary (use --backend reference)";
  else if (name == "gpu")
    reason = "backend 'gpu' is not available yet: the flash-attn API (attention/api) is not built into this binary";
  else
    reason = "unknown backend '" + name + "' (expected gpu, interp or reference)";
  if (why) *why = reason;
  return false;
}

std::unique_ptr<AttentionStepBackend> make_step_backend(const std::string& name, int num_threads) {
  std::string why;
  if (!step_backend_available(name, &why)) throw BackendUnavailable(why);
  return std::make_unique<ReferenceStepBackend>(num_threads);
}

}  // namespace dist
}  // namespace tile
