// Registers every (kernel, parameters) pair of plain attention in the table of kernel_table.h.
// Variants' kernels are made on demand (attention/variants/variant_kernels.cc). The interpreter
// backend may build other parameter sets on demand from the same kernel functions.
#include <set>
#include <string>

#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/kernel_table.h"

namespace tile::attention {
namespace {

void fwd(KernelBuilder& k, const Params& p) { attention_forward(k, p, nullptr); }
void dkdv(KernelBuilder& k, const Params& p) { attention_bwd_dkdv(k, p, nullptr); }
void dq(KernelBuilder& k, const Params& p) { attention_bwd_dq(k, p, nullptr); }

bool register_all() {
  for (const BlockShape& s : block_shapes())
    for (DType t : kernel_dtypes())
      for (bool softcap : {false, true}) {
        if (softcap && s.plain_only) continue;
        Params f = fwd_params(s, t, softcap), p = bwd_params(s, t, softcap);
        register_kernel({fwd_kernel_name(), f, fwd});
        register_kernel({kPreprocessKernel, p, attention_bwd_preprocess});
        register_kernel({kDqConvertKernel, p, attention_dq_convert});
        for (bool atomic : {true, false}) register_kernel({dkdv_kernel_name(), dkdv_params(p, atomic), dkdv});
        register_kernel({dq_kernel_name(), p, dq});
      }
  // The block mask's per-key-block ranges (no variant involved), at both block shapes of each
  // head-dim bucket.
  std::set<std::string> seen;
  for (const BlockShape& s : block_shapes())
    for (const Blocks& b : {s.fwd, s.bwd})
      if (seen.insert(block_mask_params(b).str()).second)
        register_kernel({kBlockMaskColumnsKernel, block_mask_params(b), attention_block_mask_columns});
  return true;
}

const bool registered = register_all();

}  // namespace
}  // namespace tile::attention
