// The "naive same-dtype" reference: plain softmax(Q K^T * scale) V and its gradients computed
// the way a simple PyTorch reference.py does in the inputs' dtype (f16/bf16) on a GPU: every
// elementwise step is evaluated in fp32 and rounded to the dtype (scores, scaling, softcap,
// bias, softmax probabilities, out; backward dP, dS, the softcap/scale chain, dQ/dK/dV), and
// every matmul accumulates in fp32 before one rounding. Its error against the fp64 reference
// is the yardstick of the accuracy rule. Same features and layouts as reference_fp64.h.
#pragma once

#include "attention/reference/attention_types.h"

namespace tile {
namespace reference {

// out in the inputs' dtype, lse in f32 (logsumexp of the rounded scores).
AttnForward naive_attention_forward(const AttnInputs& inputs, const AttnOptions& options);

// dq, dk, dv in the inputs' dtype. dout is rounded to the dtype first.
AttnGrads naive_attention_backward(const AttnInputs& inputs, const AttnOptions& options, const TensorView& dout);

AttnForwardBackward naive_attention_forward_backward(const AttnInputs& inputs, const AttnOptions& options,
                                                     const TensorView& dout);

}  // namespace reference
}  // namespace tile
