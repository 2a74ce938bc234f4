// Registers every (kernel, parameters) pair of the table in kernel_table.h: the set the project
// builds ahead of time. The interpreter backend may build other parameter sets on demand from
// the same kernel functions.
#include "attention/kernels/alibi.h"
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
        const bool alibi = !s.plain_only;
        Params f = fwd_params(s, t, softcap), p = bwd_params(s, t, softcap);
        register_kernel({fwd_kernel_name(Variant::plain), f, fwd});
        if (alibi) register_kernel({fwd_kernel_name(Variant::alibi), f, alibi_forward});
        register_kernel({kPreprocessKernel, p, attention_bwd_preprocess});
        register_kernel({kDqConvertKernel, p, attention_dq_convert});
        for (bool atomic : {true, false}) {
          register_kernel({dkdv_kernel_name(Variant::plain), dkdv_params(p, atomic), dkdv});
          if (alibi) register_kernel({dkdv_kernel_name(Variant::alibi), dkdv_params(p, atomic), alibi_bwd_dkdv});
        }
        register_kernel({dq_kernel_name(Variant::plain), p, dq});
        if (alibi) register_kernel({dq_kernel_name(Variant::alibi), p, alibi_bwd_dq});
      }
  return true;
}

const bool registered = register_all();

}  // namespace
}  // namespace tile::attention
