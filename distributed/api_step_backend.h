// AttentionStepBackend over the single-device flash-attn API (attention/host/api.h), on whichever
// attention::Backend runs its kernels: forward = flash_attn_func (out in q's dtype, LSE in f32),
// backward = flash_attn_backward with the globally merged out/LSE, exactly the "backward with the
// given out and softmax_lse" a ring step needs. The step's mask maps onto the API's causal flag
// (the ring asks for it only on the diagonal block, where seqlen_q == seqlen_k); zigzag's
// half-block plans arrive as strided sub-views, which the API takes as they are except the LSE:
// the API wants it contiguous, so a strided LSE goes through a contiguous scratch tensor.
#pragma once

#include <memory>
#include <string>

#include "attention/host/backend.h"
#include "distributed/step_backend.h"

namespace tile {
namespace dist {

class ApiStepBackend : public AttentionStepBackend {
 public:
  // `ops` works on the memory `backend` computes on. `stream` is the backend's native stream, if
  // any (compute_stream()). A Backend's workspace bookkeeping is not made for concurrent
  // callers: each rank (thread) needs its own backend (gpu_rank.h gives each GPU rank one).
  ApiStepBackend(std::string name, std::shared_ptr<attention::Backend> backend, std::unique_ptr<TensorOps> ops,
                 void* stream = nullptr);

  std::string name() const override { return name_; }
  TensorOps& ops() override { return *ops_; }
  void* compute_stream() override { return stream_; }
  void forward(const StepForwardArgs& args) override;
  void backward(const StepBackwardArgs& args) override;

  attention::Backend& attention_backend() { return *backend_; }

 private:
  std::string name_;
  std::shared_ptr<attention::Backend> backend_;
  std::unique_ptr<TensorOps> ops_;
  void* stream_;
};

}  // namespace dist
}  // namespace tile
