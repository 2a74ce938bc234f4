#include "distributed/cpu_tensor_ops.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "distributed/lse_merge.h"

namespace tile {
namespace dist {
namespace {

void check_cpu(const TensorView& v, const char* what) {
  if (v.device.kind != DeviceKind::cpu)
    throw std::invalid_argument(std::string(what) + ": CpuTensorOps needs host memory, got " + describe(v));
}

}  // namespace

DeviceTensor CpuTensorOps::empty(DType dtype, const std::vector<int64_t>& shape) {
  DeviceTensor t;
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  // At least one byte so that an empty tensor still has a non-null (defined) pointer.
  const size_t bytes = std::max<size_t>(1, static_cast<size_t>(n) * dtype_size(dtype));
  // 64-byte alignment: any dtype, and what vectorised host loops like.
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (p == nullptr) throw std::bad_alloc();
  t.storage = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t.view = TensorView::contiguous(p, dtype, shape, Device::cpu());
  return t;
}

void CpuTensorOps::fill(const TensorView& dst, double value) {
  check_cpu(dst, "fill");
  for (int64_t i = 0, n = dst.numel(); i < n; ++i) store_from_double(dst.dtype, dst.data, dst.offset_of_linear(i), value);
}

void CpuTensorOps::copy(const TensorView& dst, const TensorView& src) {
  check_cpu(dst, "copy dst");
  check_cpu(src, "copy src");
  check_same_shape(dst, src, "copy");
  for (int64_t i = 0, n = dst.numel(); i < n; ++i)
    store_from_double(dst.dtype, dst.data, dst.offset_of_linear(i),
                      load_as_double(src.dtype, src.data, src.offset_of_linear(i)));
}

void CpuTensorOps::accumulate(const TensorView& acc, const TensorView& src) {
  check_cpu(acc, "accumulate acc");
  check_cpu(src, "accumulate src");
  check_same_shape(acc, src, "accumulate");
  if (acc.dtype != DType::f32) throw std::invalid_argument("accumulate: expected an f32 accumulator, got " + describe(acc));
  float* a = static_cast<float*>(acc.data);
  for (int64_t i = 0, n = acc.numel(); i < n; ++i) {
    float& x = a[acc.offset_of_linear(i)];
    x += static_cast<float>(load_as_double(src.dtype, src.data, src.offset_of_linear(i)));
  }
}

void CpuTensorOps::merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                                 const TensorView& block_lse) {
  for (const TensorView* v : {&out, &lse, &block_out, &block_lse}) check_cpu(*v, "merge_partial");
  check_merge_partial_args(out, lse, block_out, block_lse);
  float* o = static_cast<float*>(out.data);
  float* l = static_cast<float*>(lse.data);
  const float* bl = static_cast<const float*>(block_lse.data);
  for (int64_t b = 0; b < out.size(0); ++b)
    for (int64_t s = 0; s < out.size(1); ++s)
      for (int64_t h = 0; h < out.size(2); ++h) {
        float& row_lse = l[lse.offset_of({b, h, s})];
        const float row_block_lse = bl[block_lse.offset_of({b, h, s})];
        for (int64_t d = 0; d < out.size(3); ++d) {
          float& x = o[out.offset_of({b, s, h, d})];
          const float y = static_cast<float>(load_as_double(block_out.dtype, block_out.data, block_out.offset_of({b, s, h, d})));
          x = merged_output(x, row_lse, y, row_block_lse);
        }
        row_lse = merged_lse(row_lse, row_block_lse);
      }
}

void CpuTensorOps::copy_bytes(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }

}  // namespace dist
}  // namespace tile
