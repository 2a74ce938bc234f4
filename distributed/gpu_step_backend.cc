#include "distributed/gpu_step_backend.h"

#include <map>
#include <mutex>

#include "distributed/api_step_backend.h"
#include "distributed/backend_factory.h"
#include "attention/gpu/gpu_backend.h"
#include "distributed/gpu_tensor_ops.h"
#include "dsl/runtime/context.h"

namespace tile {
namespace dist {
namespace {

struct SharedGpu {
  std::shared_ptr<attention::GpuBackend> backend;
  std::shared_ptr<std::mutex> api_lock;
};

// Kept for the life of the process (tensors free memory after waiting on its stream, and a
// stream destroyed during static destruction could outlive the driver).
SharedGpu shared_gpu(int ordinal) {
  static std::mutex mutex;
  static auto* gpus = new std::map<int, SharedGpu>();
  std::lock_guard<std::mutex> lock(mutex);
  SharedGpu& g = (*gpus)[ordinal];
  if (!g.backend) {
    g.backend = std::shared_ptr<attention::GpuBackend>(new attention::GpuBackend(ordinal), [](attention::GpuBackend*) {});
    g.api_lock = std::make_shared<std::mutex>();
  }
  return g;
}

}  // namespace

std::unique_ptr<AttentionStepBackend> make_gpu_step_backend(int ordinal) {
  rt::Context::primary(ordinal).make_current();
  SharedGpu g = shared_gpu(ordinal);
  rt::Stream& stream = g.backend->stream();
  return std::make_unique<ApiStepBackend>("gpu", g.backend, std::make_unique<GpuTensorOps>(ordinal, stream), g.api_lock,
                                          static_cast<void*>(stream.handle()));
}

namespace {
const bool registered =
    register_step_backend("gpu", [](const StepBackendOptions& o) { return make_gpu_step_backend(o.device); });
}  // namespace

}  // namespace dist
}  // namespace tile
