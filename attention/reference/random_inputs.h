// Random attention inputs owned in HostTensors, for tests, self-checks and accuracy CLIs.
#pragma once

#include <cstdint>
#include <vector>

#include "attention/reference/attention_types.h"

namespace tile {
namespace reference {

struct AttnShape {
  int64_t batch = 1, seqlen_q = 1, seqlen_k = 1, nheads_q = 1, nheads_k = 1, headdim = 1;
  int64_t headdim_v = 0;  // 0: same as headdim
  DType dtype = DType::f64;
  // Non-empty: varlen with these per-sequence lengths (batch/seqlen_* above are then ignored).
  std::vector<int64_t> varlen_seqlens_q, varlen_seqlens_k;
};

// Owns q, k, v, dout (uniform in [-1, 1], rounded to dtype) and, for varlen, cu_seqlens (i32).
struct OwnedInputs {
  HostTensor q, k, v, dout, cu_seqlens_q, cu_seqlens_k;
  AttnInputs inputs() const;
};

OwnedInputs make_random_inputs(const AttnShape& shape, uint64_t seed);

}  // namespace reference
}  // namespace tile
