// The compute of one ring step: attention of the local queries against one visiting K/V block,
// forward (partial out + LSE) and backward (block gradients from the globally merged out/LSE, as
// flash-attn's backward kernel takes them: P = exp(S - lse) uses the final LSE of each query row,
// so the per-block dq/dk/dv of all steps simply add up).
//
// Layouts (flash-attn): q/out/dout (b, s_q, h_q, d), k/v (b, s_k, h_k, d), lse (b, h_q, s_q) f32
// natural log; h_q % h_k == 0 (GQA). Views may be strided (zigzag passes half blocks).
// Causal here is flash-attn's bottom-right aligned mask; the ring only asks for it on the
// diagonal block, where s_q == s_k, so it is the plain i >= j mask.
//
// Implementations: reference_step_backend.h (fp64 CPU), and api_step_backend.h, the flash-attn API
// (attention/host/api.h) over either of its Backends — the DSL kernels on the CPU interpreter
// with CpuTensorOps (interp_step_backend.h), or compiled for the GPU with GpuTensorOps
// (gpu_step_backend.h). backend_factory.h constructs them by name.
#pragma once

#include <string>

#include "attention/variants/variant_spec.h"
#include "distributed/tensor_ops.h"

namespace tile {
namespace dist {

// flash-attn's variants beyond the causal mask: sliding window, softcap, ALiBi, and the
// registered variants (attention/variants). Only a step that sees whole rows of the attention
// (Ulysses: the full sequence on a slice of heads) may use one that reads positions; their
// positions are the step's own (bottom-right aligned, like the API).
struct StepVariant {
  int window_left = -1, window_right = -1;  // -1: unbounded
  double softcap = 0.0;                     // 0: off
  TensorView alibi_slopes;                  // f32 (h_q) or (b, h_q) of the step's heads; undefined: off
  std::string registered;                   // a registered variant (or chain "a+b"); empty: none
  attention::VariantArgs args;              // its arguments, shaped for the step's heads and rows
  bool any() const {
    return window_left >= 0 || window_right >= 0 || softcap > 0.0 || alibi_slopes.defined() || !registered.empty();
  }
};

// flash-attn's varlen form: q/k/v/out (total_tokens, h, d), lse (h_q, total_q) f32, sequences
// given by int32 cu_seqlens (batch + 1 prefix sums) on the backend's memory. Undefined: batched.
struct StepVarlen {
  TensorView cu_seqlens_q, cu_seqlens_k;
  int max_seqlen_q = 0, max_seqlen_k = 0;
  bool defined() const { return cu_seqlens_q.defined(); }
};

struct StepForwardArgs {
  TensorView q, k, v;
  bool causal = false;
  StepVariant variant;
  double softmax_scale = 1.0;
  TensorView out;  // written: (b, s_q, h_q, d) in partial_dtype()
  TensorView lse;  // written: (b, h_q, s_q) f32; -inf for rows that see no key
  StepVarlen varlen;  // when defined, the varlen layouts above
  int step = -1;      // the ring step (-1: not a ring step); traces label the step's work with it
};

struct StepBackwardArgs {
  TensorView dout, q, k, v;
  TensorView out, lse;  // the merged (global) forward results of these query rows
  bool causal = false;
  StepVariant variant;
  double softmax_scale = 1.0;
  TensorView dq, dk, dv;  // written (overwritten) in partial_dtype(), layouts of q, k, v
  StepVarlen varlen;      // when defined, the varlen layouts
  // Written (overwritten): d loss / d each trainable argument of variant.registered, f32,
  // contiguous, shaped like variant.args' tensor of that name (attention/host/api.h).
  attention::VariantArgs variant_grads;
  int step = -1;          // the ring step (-1: not a ring step), for traces
};

class AttentionStepBackend {
 public:
  virtual ~AttentionStepBackend() = default;

  virtual std::string name() const = 0;
  // Element-wise operations on this backend's memory.
  virtual TensorOps& ops() = 0;
  // The dtype of partial outputs and block gradients for inputs of dtype `io`. flash-attn kernels
  // write the input dtype; a backend that can write f32 partials merges more accurately.
  virtual DType partial_dtype(DType io) const { return io; }

  // The native stream the steps and ops() run on (a CUstream), for a transport that orders its
  // communication after them; nullptr for backends without one (host memory).
  virtual void* compute_stream() { return nullptr; }

  virtual void forward(const StepForwardArgs& args) = 0;
  virtual void backward(const StepBackwardArgs& args) = 0;
};

}  // namespace dist
}  // namespace tile
