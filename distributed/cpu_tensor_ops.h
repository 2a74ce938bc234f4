// TensorOps on host memory, evaluated immediately on the calling thread.
#pragma once

#include "distributed/tensor_ops.h"

namespace tile {
namespace dist {

class CpuTensorOps : public TensorOps {
 public:
  Device device() const override { return Device::cpu(); }
  DeviceTensor empty(DType dtype, const std::vector<int64_t>& shape) override;
  void fill(const TensorView& dst, double value) override;
  void copy(const TensorView& dst, const TensorView& src) override;
  void accumulate(const TensorView& acc, const TensorView& src) override;
  void merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                     const TensorView& block_lse) override;
  void upload(const TensorView& dst, const TensorView& host_src) override { copy(dst, host_src); }
  void download(const TensorView& host_dst, const TensorView& src) override { copy(host_dst, src); }
  void synchronize() override {}
  void copy_bytes(void* dst, const void* src, size_t bytes) override;
};

}  // namespace dist
}  // namespace tile
