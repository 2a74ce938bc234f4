// AttentionStepBackend on the CPU in float64, on top of attention/reference: the forward is the
// fp64 reference itself; the backward is FlashAttention-2's backward with the given (global)
// out and LSE, evaluated in float64. Results are rounded once to partial_dtype() (the input dtype,
// as flash-attn kernels write them), so the ring sees the same rounding points as on the GPU.
// Varlen steps: the forward is the reference's varlen form; the backward runs the batched one on
// each sequence's rows (views, no copies).
// Runs in CI; the ground truth against which the ring algorithm itself is tested.
#pragma once

#include "distributed/cpu_tensor_ops.h"
#include "distributed/step_backend.h"

namespace tile {
namespace dist {

class ReferenceStepBackend : public AttentionStepBackend {
 public:
  // num_threads <= 0: hardware_concurrency. Virtual ranks run concurrently, so they pass 1.
  explicit ReferenceStepBackend(int num_threads = 0) : num_threads_(num_threads) {}

  std::string name() const override { return "reference"; }
  TensorOps& ops() override { return ops_; }
  void forward(const StepForwardArgs& args) override;
  void backward(const StepBackwardArgs& args) override;

 private:
  void backward_batched(const StepBackwardArgs& args);

  int num_threads_;
  CpuTensorOps ops_;
};

}  // namespace dist
}  // namespace tile
