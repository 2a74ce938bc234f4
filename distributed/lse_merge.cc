#include "distributed/lse_merge.h"

#include <cmath>

namespace tile {
namespace dist {

float log_sigmoid(float x) {
  // min(x, 0) - log1p(exp(-|x|)): the exp argument is never positive, so it cannot overflow.
  return std::fmin(x, 0.0f) - std::log1p(std::exp(-std::fabs(x)));
}

float sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

float merged_output(float out, float lse, float block_out, float block_lse) {
  // -inf - -inf is NaN in the formula: decide the empty cases explicitly.
  if (std::isinf(block_lse) && block_lse < 0) return out;  // the block saw no key
  if (std::isinf(lse) && lse < 0) return block_out;        // nothing accumulated yet
  return out - sigmoid(block_lse - lse) * (out - block_out);
}

float merged_lse(float lse, float block_lse) {
  if (std::isinf(block_lse) && block_lse < 0) return lse;
  if (std::isinf(lse) && lse < 0) return block_lse;
  return lse - log_sigmoid(lse - block_lse);
}

}  // namespace dist
}  // namespace tile
