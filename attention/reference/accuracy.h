// The project's accuracy rule (flash-attn's test rule with FA3's rounding floor). For each T in
// out, dQ, dK, dV:
//   max|T_kernel - T_ref64| <= k * max|T_naive - T_ref64| + 2 * max|round_dtype(T_ref64) - T_ref64|
// with k = 2 for out and 3 for the gradients; T_ref64 is the fp64 reference, T_naive the naive
// same-dtype reference. Any NaN in the kernel's result where the reference has none fails.
#pragma once

#include <string>
#include <vector>

#include "dsl/core/tensor_view.h"

namespace tile {
namespace reference {

constexpr double kOutputTolerance = 2.0;    // k for out
constexpr double kGradientTolerance = 3.0;  // k for dQ, dK, dV

struct DiffStats {
  double max_abs = 0.0;   // over elements where both are numbers
  double mean_abs = 0.0;
  double rel_l2 = 0.0;    // ||a - ref||_2 / ||ref||_2 (plain ||a - ref||_2 when ref is all zeros)
  int64_t new_nans = 0;   // NaN in a where ref is not NaN
};

struct TensorAccuracy {
  std::string name;        // "Output", "dQ", "dK", "dV"
  DiffStats kernel;        // kernel vs ref64
  DiffStats naive;         // naive vs ref64
  double rounding_floor;   // max|round_dtype(ref64) - ref64|
  double k;                // tolerance factor
  double bound;            // k * naive.max_abs + 2 * rounding_floor
  bool pass;               // kernel.max_abs <= bound and no new NaN in the kernel's result

  // "Output max diff: 1.2e-03" and the others, one per line, then the rule's verdict.
  std::string format() const;
};

// Element-wise statistics of a against ref (same shape, any strides and float dtypes, cpu).
// Throws std::invalid_argument naming the mismatching argument.
DiffStats diff_stats(const TensorView& a, const TensorView& ref);

// Applies the rule to one tensor. dtype is the kernel's working dtype (what round_dtype rounds to).
TensorAccuracy check_tensor(const std::string& name, const TensorView& kernel, const TensorView& naive,
                            const TensorView& ref64, DType dtype, double k);

struct AccuracyReport {
  std::vector<TensorAccuracy> tensors;
  bool pass() const;
  std::string format() const;  // every tensor's lines, then "PASS" or "FAIL (dK, ...)"
};

// The rule over whichever of out/dq/dk/dv are given (undefined views are skipped, but each given
// kernel tensor needs its naive and ref64 counterparts).
struct AttentionTensors {
  TensorView out, dq, dk, dv;
};
AccuracyReport check_attention_accuracy(const AttentionTensors& kernel, const AttentionTensors& naive,
                                        const AttentionTensors& ref64, DType dtype);

}  // namespace reference
}  // namespace tile
