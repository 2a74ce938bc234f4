#include "distributed/gpu_step_backend.h"

#include "distributed/api_step_backend.h"
#include "distributed/backend_factory.h"
#include "distributed/gpu_tensor_ops.h"

namespace tile {
namespace dist {
namespace {

// The API step backend on one rank's GPU; tells the rank which ring step it queues, so the
// step's attention kernels carry it on the timeline. Only those: element-wise work between steps
// stays unlabelled, so a label never outlives its step.
class GpuStepBackend : public ApiStepBackend {
 public:
  explicit GpuStepBackend(std::shared_ptr<GpuRank> rank)
      : ApiStepBackend("gpu", std::shared_ptr<attention::Backend>(rank, &rank->timed_gpu()),
                       std::make_unique<GpuTensorOps>(rank), static_cast<void*>(rank->compute_stream().handle())),
        rank_(std::move(rank)) {}

  void forward(const StepForwardArgs& args) override {
    Labelled label(*rank_, args.step);
    ApiStepBackend::forward(args);
  }
  void backward(const StepBackwardArgs& args) override {
    Labelled label(*rank_, args.step);
    ApiStepBackend::backward(args);
  }

 private:
  struct Labelled {
    Labelled(GpuRank& r, int step) : rank(r) { rank.set_step(step); }
    ~Labelled() { rank.set_step(-1); }
    GpuRank& rank;
  };

  std::shared_ptr<GpuRank> rank_;
};

}  // namespace

std::unique_ptr<AttentionStepBackend> make_gpu_step_backend(std::shared_ptr<GpuRank> rank) {
  if (!rank) throw std::invalid_argument("make_gpu_step_backend: no GpuRank");
  return std::make_unique<GpuStepBackend>(std::move(rank));
}

std::unique_ptr<AttentionStepBackend> make_gpu_step_backend(int ordinal) {
  return make_gpu_step_backend(std::make_shared<GpuRank>(ordinal));
}

namespace {
const bool registered =
    register_step_backend("gpu", [](const StepBackendOptions& o) { return make_gpu_step_backend(o.device); });
}  // namespace

}  // namespace dist
}  // namespace tile
