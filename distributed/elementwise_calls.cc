#include "distributed/elementwise_calls.h"

#include <cctype>
#include <stdexcept>

#include "distributed/device_tensor.h"
#include "distributed/tensor_ops.h"

namespace tile {
namespace dist {
namespace {

using attention::KernelCall;
using attention::LaunchArg;

// Must match the walk parameters the kernels were compiled with (elementwise_instances.bzl).
constexpr int kBlockRows = 16, kBlockCols = 64, kNumWarps = 4;

// A view as the kernels walk it: 4 sizes and strides.
struct Walk4 {
  int64_t size[4], stride[4];
};

Walk4 walk_of(const TensorView& v, const char* what) {
  std::vector<int64_t> sizes = v.sizes(), strides(v.strides.begin(), v.strides.begin() + v.rank);
  // Merge adjacent dims (i, i+1) that address like one dim, until rank 4.
  for (size_t i = 0; sizes.size() > 4 && i + 1 < sizes.size();) {
    if (strides[i] == strides[i + 1] * sizes[i + 1]) {
      sizes[i] *= sizes[i + 1];
      strides[i] = strides[i + 1];
      sizes.erase(sizes.begin() + static_cast<long>(i) + 1);
      strides.erase(strides.begin() + static_cast<long>(i) + 1);
    } else {
      ++i;
    }
  }
  if (sizes.size() > 4)
    throw std::invalid_argument(std::string(what) + ": the element-wise kernels walk at most 4 dims, got " +
                                describe(v));
  while (sizes.size() < 4) {
    sizes.insert(sizes.begin(), 1);
    strides.insert(strides.begin(), 0);
  }
  Walk4 w;
  for (int d = 0; d < 4; ++d) {
    if (strides[static_cast<size_t>(d)] < 0)
      throw std::invalid_argument(std::string(what) + ": negative strides are not supported, got " + describe(v));
    w.size[d] = sizes[static_cast<size_t>(d)];
    w.stride[d] = strides[static_cast<size_t>(d)];
  }
  return w;
}

// Elements reachable from the view's pointer, checked against 32-bit offsets.
int64_t extent_of(const TensorView& v, const char* what) {
  int64_t e = 1;
  for (int d = 0; d < v.rank; ++d) e += (v.size(d) - 1) * v.stride(d);
  if (e > INT32_MAX)
    throw std::invalid_argument(std::string(what) + ": offsets beyond 32 bits (" + std::to_string(e) +
                                " elements) in " + describe(v));
  return e;
}

void check_float(const TensorView& v, const char* what) {
  if (v.dtype != DType::bf16 && v.dtype != DType::f16 && v.dtype != DType::f32)
    throw std::invalid_argument(std::string(what) + ": expected bf16, f16 or f32, got " + describe(v));
}

int32_t grid_dim(int64_t n, const char* what) {
  if (n < 1 || n > 65535)
    throw std::invalid_argument(std::string(what) + ": grid dimension " + std::to_string(n) + " outside [1, 65535]");
  return static_cast<int32_t>(n);
}

KernelCall walk_call(const std::string& kernel, const Walk4& w, const char* what) {
  KernelCall c;
  c.kernel = kernel;
  c.params = Params{{"BLOCK_COLS", kBlockCols}, {"BLOCK_ROWS", kBlockRows}, {"NUM_WARPS", kNumWarps}};
  c.grid = {grid_dim((w.size[1] + kBlockRows - 1) / kBlockRows, what), grid_dim(w.size[2], what),
            grid_dim(w.size[0], what)};
  c.args.push_back(LaunchArg::i32(w.size[1]));
  c.args.push_back(LaunchArg::i32(w.size[3]));
  return c;
}

void push_operand(KernelCall& c, const TensorView& v, const Walk4& w, const char* what) {
  c.args.push_back(LaunchArg::buffer(v.data, v.dtype, extent_of(v, what)));
  for (int d = 0; d < 4; ++d) c.args.push_back(LaunchArg::i32(w.stride[d]));
}

}  // namespace

KernelCall copy_call(const TensorView& dst, const TensorView& src) {
  check_float(dst, "copy dst");
  check_float(src, "copy src");
  check_same_shape(dst, src, "copy");
  const Walk4 wd = walk_of(dst, "copy dst"), ws = walk_of(src, "copy src");
  for (int d = 0; d < 4; ++d)
    if (wd.size[d] != ws.size[d])
      throw std::invalid_argument("copy: dst " + describe(dst) + " and src " + describe(src) +
                                  " merge into different 4-D walks");
  KernelCall c = walk_call("dist_copy", wd, "copy");
  c.params.set("DST", dst.dtype).set("SRC", src.dtype);
  push_operand(c, dst, wd, "copy dst");
  push_operand(c, src, ws, "copy src");
  return c;
}

KernelCall fill_call(const TensorView& dst, float value) {
  check_float(dst, "fill");
  const Walk4 w = walk_of(dst, "fill");
  KernelCall c = walk_call("dist_fill", w, "fill");
  c.params.set("DST", dst.dtype);
  push_operand(c, dst, w, "fill");
  c.args.push_back(LaunchArg::f32(value));
  return c;
}

KernelCall accumulate_call(const TensorView& acc, const TensorView& src) {
  if (acc.dtype != DType::f32) throw std::invalid_argument("accumulate: expected an f32 accumulator, got " + describe(acc));
  check_float(src, "accumulate src");
  check_same_shape(acc, src, "accumulate");
  const Walk4 wa = walk_of(acc, "accumulate acc"), ws = walk_of(src, "accumulate src");
  for (int d = 0; d < 4; ++d)
    if (wa.size[d] != ws.size[d])
      throw std::invalid_argument("accumulate: acc " + describe(acc) + " and src " + describe(src) +
                                  " merge into different 4-D walks");
  KernelCall c = walk_call("dist_accumulate", wa, "accumulate");
  c.params.set("SRC", src.dtype);
  push_operand(c, acc, wa, "accumulate acc");
  push_operand(c, src, ws, "accumulate src");
  return c;
}

KernelCall merge_call(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                      const TensorView& block_lse) {
  check_merge_partial_args(out, lse, block_out, block_lse);
  check_float(block_out, "merge_partial block_out");
  const Walk4 wo = walk_of(out, "merge_partial out"), wb = walk_of(block_out, "merge_partial block_out");
  KernelCall c = walk_call("dist_merge", wo, "merge_partial");
  c.params.set("SRC", block_out.dtype);
  push_operand(c, out, wo, "merge_partial out");
  c.args.push_back(LaunchArg::buffer(lse.data, DType::f32, extent_of(lse, "merge_partial lse")));
  for (int d = 0; d < 3; ++d) c.args.push_back(LaunchArg::i32(lse.stride(d)));
  push_operand(c, block_out, wb, "merge_partial block_out");
  c.args.push_back(LaunchArg::buffer(block_lse.data, DType::f32, extent_of(block_lse, "merge_partial block_lse")));
  for (int d = 0; d < 3; ++d) c.args.push_back(LaunchArg::i32(block_lse.stride(d)));
  return c;
}

std::string elementwise_instance_name(const KernelCall& call) {
  std::string name = call.kernel + "__";
  for (char ch : call.params.str()) {
    if (ch == '=') continue;
    name += ch == ',' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return name;
}

}  // namespace dist
}  // namespace tile
