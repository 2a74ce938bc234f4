#include "attention/variants/arg_layout.h"

namespace tile::attention {

std::vector<DimLayout> dim_layouts(const ArgSpec& a, const ProblemDims& d, bool with_batch, const TensorView* given) {
  std::vector<DimLayout> out(a.dims.size());
  int tensor_dim = 0;  // the caller's dim that the next present declared dim maps to
  for (size_t i = 0; i < a.dims.size(); ++i) {
    DimLayout& l = out[i];
    const ArgDim dim = a.dims[i];
    const bool token_pair = dim == ArgDim::batch && i + 1 < a.dims.size() &&
                            (a.dims[i + 1] == ArgDim::seqlen_q || a.dims[i + 1] == ArgDim::seqlen_k);
    if (dim == ArgDim::batch && i == 0 && a.batch_optional && !with_batch) {
      l.omitted = true;
      l.size = d.batch;
      continue;
    }
    if (token_pair && d.varlen) {
      l.collapsed = true;
      l.size = d.batch;
      continue;
    }
    if (i > 0 && a.dims[i - 1] == ArgDim::batch && (dim == ArgDim::seqlen_q || dim == ArgDim::seqlen_k)) l.token_of = dim;
    switch (dim) {
      case ArgDim::batch: l.size = d.batch; break;
      case ArgDim::nheads: l.size = d.nheads; break;
      case ArgDim::nheads_k: l.size = d.nheads_k; break;
      case ArgDim::seqlen_q: l.size = d.varlen && l.token_of == dim ? d.total_q : d.seqlen_q; break;
      case ArgDim::seqlen_k: l.size = d.varlen && l.token_of == dim ? d.total_k : d.seqlen_k; break;
      case ArgDim::any: l.size = -1; break;
    }
    if (given && tensor_dim < given->rank) {
      l.stride = given->stride(tensor_dim);
      if (dim == ArgDim::any) l.size = given->size(tensor_dim);
    }
    ++tensor_dim;
  }
  return out;
}

}  // namespace tile::attention
