// Inputs, options and results of the CPU reference attention (flash-attn's conventions).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "attention/variants/variant_spec.h"
#include "dsl/core/tensor_view.h"

namespace tile {
namespace reference {

// Layouts (flash-attn): batched q (batch, seqlen_q, nheads_q, headdim), k (batch, seqlen_k,
// nheads_k, headdim), v (batch, seqlen_k, nheads_k, headdim_v). Varlen (cu_seqlens given):
// q (total_q, nheads_q, headdim), k/v (total_k, nheads_k, headdim[_v]) and cu_seqlens_q/k are
// int32 prefix sums of length batch + 1. Any float dtype, any strides, cpu only; read exactly.
struct AttnInputs {
  TensorView q, k, v;
  TensorView cu_seqlens_q, cu_seqlens_k;  // both or neither
};

struct AttnOptions {
  std::optional<double> softmax_scale;  // default 1 / sqrt(headdim)
  bool causal = false;                  // bottom-right aligned; same as window_right = 0
  int64_t window_left = -1;             // -1: unbounded
  int64_t window_right = -1;            // -1: unbounded
  double softcap = 0.0;                 // 0: off; else s = softcap * tanh(s / softcap)
  TensorView alibi_slopes;              // optional, (nheads_q) or (batch, nheads_q): the "alibi"
                                        // variant, chained before `variant`
  std::string variant;                  // registered variant(s) joined by '+'; empty: plain
  attention::VariantArgs variant_args;  // cpu tensors and numbers, by name
  int num_threads = 0;                  // 0: std::thread::hardware_concurrency()
};

// out has q's layout with headdim_v; lse is (batch, nheads_q, seqlen_q), or (nheads_q, total_q)
// for varlen: natural log, -inf on rows that see no key.
struct AttnForward {
  HostTensor out;
  HostTensor lse;
};

// dq, dk, dv have the layouts of q, k, v.
struct AttnGrads {
  HostTensor dq, dk, dv;
  std::map<std::string, HostTensor> variant_grads;  // d loss / d each trainable variant argument
};

struct AttnForwardBackward {
  AttnForward fwd;
  AttnGrads grads;
};

}  // namespace reference
}  // namespace tile
