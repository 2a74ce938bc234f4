#include "distributed/interp_step_backend.h"

#include "attention/interp_backend/interp_backend.h"
#include "distributed/api_step_backend.h"
#include "distributed/backend_factory.h"
#include "distributed/cpu_tensor_ops.h"

namespace tile {
namespace dist {

std::unique_ptr<AttentionStepBackend> make_interp_step_backend(int num_threads) {
  attention::InterpBackend::Options o;
  o.threads = num_threads;
  return std::make_unique<ApiStepBackend>("interp", std::make_shared<attention::InterpBackend>(o),
                                          std::make_unique<CpuTensorOps>());
}

namespace {
const bool registered = register_step_backend(
    "interp", [](const StepBackendOptions& o) { return make_interp_step_backend(o.num_threads); });
}  // namespace

}  // namespace dist
}  // namespace tile
