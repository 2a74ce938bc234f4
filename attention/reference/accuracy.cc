#include "attention/reference/accuracy.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace tile {
namespace reference {
namespace {

std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", x);
  return buf;
}

void check_comparable(const TensorView& a, const std::string& a_name, const TensorView& ref) {
  if (!a.defined()) throw std::invalid_argument(a_name + ": expected a tensor, got none");
  if (a.device.kind != DeviceKind::cpu)
    throw std::invalid_argument(a_name + ": expected a cpu tensor, got device " + a.device.str());
  if (!is_float(a.dtype))
    throw std::invalid_argument(a_name + ": expected a float dtype, got " + dtype_name(a.dtype));
  if (a.sizes() != ref.sizes())
    throw std::invalid_argument(a_name + ": expected shape " + ref.shape_str() + " (the reference's), got " + a.shape_str());
}

}  // namespace

DiffStats diff_stats(const TensorView& a, const TensorView& ref) {
  check_comparable(ref, "ref", ref);
  check_comparable(a, "tensor", ref);
  DiffStats d;
  double sum_abs = 0.0, sum_sq = 0.0, ref_sq = 0.0;
  int64_t counted = 0;
  const int64_t n = ref.numel();
  for (int64_t e = 0; e < n; ++e) {
    const double x = load_as_double(a.dtype, a.data, a.offset_of_linear(e));
    const double r = load_as_double(ref.dtype, ref.data, ref.offset_of_linear(e));
    if (std::isnan(r)) continue;  // the reference decides where NaN is allowed
    if (std::isnan(x)) {
      ++d.new_nans;
      continue;
    }
    // Equal infinities (an LSE of -inf) are no difference; Inf against a finite reference is an
    // infinite one and fails the rule.
    const double diff = x == r ? 0.0 : std::fabs(x - r);
    d.max_abs = std::max(d.max_abs, diff);
    sum_abs += diff;
    sum_sq += diff * diff;
    if (std::isfinite(r)) ref_sq += r * r;
    ++counted;
  }
  d.mean_abs = counted ? sum_abs / static_cast<double>(counted) : 0.0;
  d.rel_l2 = ref_sq > 0.0 ? std::sqrt(sum_sq / ref_sq) : std::sqrt(sum_sq);
  return d;
}

TensorAccuracy check_tensor(const std::string& name, const TensorView& kernel, const TensorView& naive,
                            const TensorView& ref64, DType dtype, double k) {
  check_comparable(ref64, name + " ref64", ref64);
  check_comparable(kernel, name + " kernel", ref64);
  check_comparable(naive, name + " naive", ref64);
  TensorAccuracy t;
  t.name = name;
  t.k = k;
  t.kernel = diff_stats(kernel, ref64);
  t.naive = diff_stats(naive, ref64);
  t.rounding_floor = 0.0;
  for (int64_t e = 0; e < ref64.numel(); ++e) {
    const double r = load_as_double(ref64.dtype, ref64.data, ref64.offset_of_linear(e));
    if (std::isfinite(r)) t.rounding_floor = std::max(t.rounding_floor, std::fabs(round_to_dtype(dtype, r) - r));
  }
  t.bound = k * t.naive.max_abs + 2.0 * t.rounding_floor;
  t.pass = t.kernel.new_nans == 0 && t.kernel.max_abs <= t.bound;
  return t;
}

std::string TensorAccuracy::format() const {
  std::string s;
  s += name + " max diff: " + sci(kernel.max_abs) + "\n";
  s += name + " mean diff: " + sci(kernel.mean_abs) + "\n";
  s += name + " rel-L2: " + sci(kernel.rel_l2) + "\n";
  s += name + " naive max diff: " + sci(naive.max_abs) + ", mean diff: " + sci(naive.mean_abs) +
       ", rel-L2: " + sci(naive.rel_l2) + "\n";
  s += name + " rule: " + sci(kernel.max_abs) + " <= " + sci(k) + " * " + sci(naive.max_abs) + " + 2 * " +
       sci(rounding_floor) + " = " + sci(bound);
  if (kernel.new_nans) s += ", " + std::to_string(kernel.new_nans) + " NaN where the reference has none";
  s += pass ? "  ok\n" : "  FAILED\n";
  return s;
}

bool AccuracyReport::pass() const {
  for (const TensorAccuracy& t : tensors)
    if (!t.pass) return false;
  return true;
}

std::string AccuracyReport::format() const {
  std::string s, failed;
  for (const TensorAccuracy& t : tensors) {
    s += t.format();
    if (!t.pass) failed += (failed.empty() ? "" : ", ") + t.name;
  }
  s += failed.empty() ? "PASS\n" : "FAIL (" + failed + ")\n";
  return s;
}

AccuracyReport check_attention_accuracy(const AttentionTensors& kernel, const AttentionTensors& naive,
                                        const AttentionTensors& ref64, DType dtype) {
  AccuracyReport report;
  auto add = [&](const char* name, const TensorView& kt, const TensorView& nt, const TensorView& rt, double k) {
    if (kt.defined()) report.tensors.push_back(check_tensor(name, kt, nt, rt, dtype, k));
  };
  add("Output", kernel.out, naive.out, ref64.out, kOutputTolerance);
  add("dQ", kernel.dq, naive.dq, ref64.dq, kGradientTolerance);
  add("dK", kernel.dk, naive.dk, ref64.dk, kGradientTolerance);
  add("dV", kernel.dv, naive.dv, ref64.dv, kGradientTolerance);
  return report;
}

}  // namespace reference
}  // namespace tile
