// Attention in float64 on the CPU: the ground truth that kernels are measured against.
// Features (flash-attn semantics): softmax_scale, bottom-right causal, window_size, softcap,
// ALiBi, GQA/MQA, varlen. Rows that see no key give out 0, LSE -inf and zero gradients.
// Memory is O(inputs); time O(nheads_q * seqlen_q * seqlen_k * headdim), spread over threads.
#pragma once

#include "attention/reference/attention_types.h"

namespace tile {
namespace reference {

// out (f64, q's layout with headdim_v) and lse (f64, natural log).
AttnForward attention_forward(const AttnInputs& inputs, const AttnOptions& options);

// Gradients of sum(out * dout) with respect to q, k, v (f64, the layouts of q, k, v); dk/dv sum
// over the q heads of each kv group. dout has out's shape, any float dtype.
AttnGrads attention_backward(const AttnInputs& inputs, const AttnOptions& options, const TensorView& dout);

// Both, sharing the forward pass.
AttnForwardBackward attention_forward_backward(const AttnInputs& inputs, const AttnOptions& options,
                                               const TensorView& dout);

}  // namespace reference
}  // namespace tile
