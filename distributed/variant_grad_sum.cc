#include "distributed/variant_grad_sum.h"

#include <vector>

namespace tile {
namespace dist {

DeviceTensor sum_over_group(Transport& group, TensorOps& ops, const TensorView& mine) {
  const int world = group.world_size();
  const size_t bytes = contiguous_bytes(mine, "sum_over_group");
  std::vector<int64_t> all_shape = mine.sizes();
  all_shape.insert(all_shape.begin(), world);
  DeviceTensor all = ops.empty(mine.dtype, all_shape);
  group.all_gather(mine.data, all.view.data, bytes);
  DeviceTensor sum = ops.zeros(DType::f32, mine.sizes());
  for (int p = 0; p < world; ++p) ops.accumulate(sum.view, all.view.select(0, p));
  return sum;
}

ArgGradSum::ArgGradSum(TensorOps& ops, const std::string& variant, const attention::VariantArgs& args) {
  for (const attention::ArgSpec& a : attention::parse_variant(variant, "variant").args()) {
    if (!a.has_grad) continue;
    const std::vector<int64_t> shape = args.at(a.name).tensor.sizes();
    step_[a.name] = ops.empty(DType::f32, shape);
    sums_[a.name] = ops.zeros(DType::f32, shape);
  }
}

attention::VariantArgs ArgGradSum::step_views() const {
  attention::VariantArgs out;
  for (const auto& [name, t] : step_) out[name] = attention::VariantArg::of(t.view);
  return out;
}

void ArgGradSum::add_step(TensorOps& ops) {
  for (auto& [name, sum] : sums_) ops.accumulate(sum.view, step_.at(name).view);
}

}  // namespace dist
}  // namespace tile
