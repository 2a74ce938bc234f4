#include "distributed/dist_variant_args.h"

#include <stdexcept>
#include <utility>
#include <vector>

#include "attention/variants/arg_layout.h"
#include "distributed/variant_grad_sum.h"

namespace tile {
namespace dist {
namespace {

// A dim of the caller's tensor that counts heads: which split cuts it.
struct HeadDim {
  int dim = 0;
  bool kv = false;  // ArgDim::nheads_k (else ArgDim::nheads)
};

// The head dims of tensor argument `a` as given (`t`): its declared dims mapped onto the
// tensor's, past an omitted optional batch dim and the batch dim of a collapsed (varlen)
// per-token pair, which the caller's tensor does not have.
std::vector<HeadDim> head_dims_of(const attention::ArgSpec& a, const attention::ProblemDims& d, const TensorView& t) {
  const std::vector<attention::DimLayout> full = attention::dim_layouts(a, d, /*with_batch=*/true);
  int full_rank = 0;
  for (const attention::DimLayout& l : full) full_rank += !l.omitted && !l.collapsed;
  const std::vector<attention::DimLayout> layouts = attention::dim_layouts(a, d, t.rank == full_rank);
  std::vector<HeadDim> out;
  int tensor_dim = 0;
  for (size_t i = 0; i < a.dims.size(); ++i) {
    if (layouts[i].omitted || layouts[i].collapsed) continue;
    if (a.dims[i] == attention::ArgDim::nheads || a.dims[i] == attention::ArgDim::nheads_k)
      out.push_back({tensor_dim, a.dims[i] == attention::ArgDim::nheads_k});
    ++tensor_dim;
  }
  return out;
}

// Rank `rank`'s share of `t` along its head dims.
TensorView heads_share(TensorView t, const std::vector<HeadDim>& dims, const HeadSplit& q_heads,
                       const HeadSplit& kv_heads, int rank) {
  for (const HeadDim& h : dims) {
    const HeadSplit& s = h.kv ? kv_heads : q_heads;
    t = slice(t, h.dim, s.first(rank), s.per_rank());
  }
  return t;
}

}  // namespace

DistVariant check_dist_variant(const RingAttnOptions& o, const attention::ProblemDims& global, const Device& device) {
  // As the API sees it: flash-attn's alibi_slopes option chained in as the "alibi" variant (so
  // a clash between the two is the API's error, and the slopes are checked with the rest).
  attention::VariantArgs args = o.variant_args;
  std::string name = o.variant;
  if (!name.empty() && o.alibi_slopes.defined()) name = attention::with_alibi(name, o.alibi_slopes, args);
  attention::check_variant_args(attention::parse_variant(name, "variant"), args, global, device);
  DistVariant v;
  v.chain = attention::parse_variant(o.variant, "variant");
  v.dims = global;
  return v;
}

attention::VariantArgs args_for_heads(const DistVariant& v, const attention::VariantArgs& args, const HeadSplit& q_heads,
                                      const HeadSplit& kv_heads, int rank) {
  attention::VariantArgs out = args;
  for (const attention::ArgSpec& a : v.chain.args()) {
    if (a.kind != attention::ArgSpec::Kind::tensor) continue;
    attention::VariantArg& arg = out.at(a.name);
    arg.tensor = heads_share(arg.tensor, head_dims_of(a, v.dims, arg.tensor), q_heads, kv_heads, rank);
  }
  return out;
}

std::map<std::string, DeviceTensor> gather_arg_grads(Transport& group, TensorOps& ops, const DistVariant& v,
                                                     const attention::VariantArgs& args,
                                                     const std::map<std::string, DeviceTensor>& local,
                                                     const HeadSplit& q_heads, const HeadSplit& kv_heads) {
  std::map<std::string, DeviceTensor> out;
  for (const attention::ArgSpec& a : v.chain.args()) {
    if (!a.has_grad) continue;
    const TensorView& given = args.at(a.name).tensor;
    DeviceTensor mine = ops.zeros(DType::f32, given.sizes());
    ops.copy(heads_share(mine.view, head_dims_of(a, v.dims, given), q_heads, kv_heads, group.rank()),
             local.at(a.name).view);
    out[a.name] = sum_over_group(group, ops, mine.view);
  }
  return out;
}

}  // namespace dist
}  // namespace tile
