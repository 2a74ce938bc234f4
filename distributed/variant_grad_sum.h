// Gradients of a registered variant's trainable arguments (ArgSpec::with_grad) when one rank's
// share of the attention runs as several API calls (the ring's steps) and the problem's rows as
// several ranks: every call writes d loss / d argument for its own (query, key) pairs, and the
// gradient is the sum over all of them, in fp32.
#pragma once

#include <map>
#include <string>

#include "attention/variants/variant_spec.h"
#include "distributed/device_tensor.h"
#include "distributed/tensor_ops.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

// Every rank of `group` passes an f32 contiguous tensor of one shape; each gets the sum, added in
// rank order so every rank holds the same bits. (all_gather, then sums: for the small tensors of
// variant arguments, heads x buckets, there is nothing to gain from a reduce collective.)
DeviceTensor sum_over_group(Transport& group, TensorOps& ops, const TensorView& mine);

// The running sums of one rank's calls: per trainable argument of `variant`, a buffer a call
// writes into (StepBackwardArgs::variant_grads) and an f32 accumulator it is added to.
class ArgGradSum {
 public:
  ArgGradSum() = default;
  // `args`: the arguments the calls get (their shapes are the gradients').
  ArgGradSum(TensorOps& ops, const std::string& variant, const attention::VariantArgs& args);
  bool empty() const { return sums_.empty(); }
  attention::VariantArgs step_views() const;  // for the next call; overwritten by it
  void add_step(TensorOps& ops);              // after the call: its gradients into the sums
  const std::map<std::string, DeviceTensor>& sums() const { return sums_; }

 private:
  std::map<std::string, DeviceTensor> step_, sums_;
};

}  // namespace dist
}  // namespace tile
