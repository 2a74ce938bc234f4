// Merging two partial attention results over disjoint key sets, in the numerically stable
// sigmoid / log-sigmoid form ring-flash-attention uses:
//   out = out - sigmoid(block_lse - lse) * (out - block_out)
//   lse = lse - logsigmoid(lse - block_lse)
// which equals the softmax-weighted average of the two outputs and log(exp(lse) + exp(block_lse))
// without forming exp(lse) (no overflow for large scores, no cancellation for far-apart LSEs).
// An LSE of -inf marks a partial that saw no key (an empty row): it contributes nothing. The
// accumulator starts as (out = 0, lse = -inf). Scalar functions here are the one definition of the
// rule; CPU tensor ops apply them per element and GPU kernels must match them.
#pragma once

namespace tile {
namespace dist {

// log(sigmoid(x)) = -softplus(-x), stable for every finite x; -inf at -inf, 0 at +inf.
float log_sigmoid(float x);
// 1 / (1 + exp(-x)), stable for every x.
float sigmoid(float x);

// Merges one element of a partial result into the accumulator. `out` and `block_out` are one
// output element of the same row; `lse`/`block_lse` that row's LSEs. Does not update lse: one row
// has many output elements, so the LSE update is separate and applied once per row, after the
// elements of that row were merged with the old LSE.
float merged_output(float out, float lse, float block_out, float block_lse);
// The row's LSE after the merge.
float merged_lse(float lse, float block_lse);

}  // namespace dist
}  // namespace tile
