// A registered variant (attention/variants) in the distributed modes. The caller gives its
// arguments whole, as the single-device API takes them for the whole problem. Under Ulysses a
// rank holds the whole sequence for a slice of the heads, so each rank's step gets every
// argument in that form, derived from the argument's declared dims (variant_spec.h), never from
// its name: per-token and per-sequence dims whole, q-head dims (ArgDim::nheads) and k/v-head dims
// (ArgDim::nheads_k) sliced to the rank's heads the way q and k are (ulysses_exchange.h's
// HeadSplit). Trainable arguments' gradients (ArgSpec::with_grad) come back whole on every rank.
#pragma once

#include <map>
#include <string>

#include "attention/variants/variant_spec.h"
#include "distributed/ring_attention.h"
#include "distributed/ulysses_exchange.h"

namespace tile {
namespace dist {

// options.variant parsed, with the global problem its arguments were checked against.
struct DistVariant {
  attention::VariantChain chain;
  attention::ProblemDims dims;
  bool defined() const { return !chain.empty(); }
};

// The single-device API's checks of options.variant and options.variant_args against the global
// problem (a name that is not registered, an argument missing, unknown or misshapen is
// std::invalid_argument naming it), done before anything moves. Undefined when no variant.
DistVariant check_dist_variant(const RingAttnOptions& options, const attention::ProblemDims& global,
                               const Device& device);

// The arguments of rank `rank`'s step: views into `args` (no copies), head dims sliced.
attention::VariantArgs args_for_heads(const DistVariant& v, const attention::VariantArgs& args, const HeadSplit& q_heads,
                                      const HeadSplit& kv_heads, int rank);

// Every rank of `group` passes the f32 gradients of its heads' share (`local`, by name, shaped
// like args_for_heads' tensors); each gets the gradients of the whole arguments (shaped like
// `args`' tensors). Each rank scatters its share into a zeroed whole tensor and the group sums
// them (sum_over_group): head slices are disjoint, so their sum is a gather (adding zeros is
// exact); a k/v head replicated over ranks, or an argument without head dims, is shared by
// them, and the sum of the shares is its gradient.
std::map<std::string, DeviceTensor> gather_arg_grads(Transport& group, TensorOps& ops, const DistVariant& v,
                                                     const attention::VariantArgs& args,
                                                     const std::map<std::string, DeviceTensor>& local,
                                                     const HeadSplit& q_heads, const HeadSplit& kv_heads);

}  // namespace dist
}  // namespace tile
