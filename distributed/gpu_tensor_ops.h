// TensorOps on one GPU's memory: element-wise work runs as the tile-DSL kernels of
// distributed/kernels (compiled ahead of time), queued on the given stream in order with the
// attention steps, so the ring loop never waits on the host except to free memory or to move data
// to and from the host. MLIR-free.
#pragma once

#include "distributed/tensor_ops.h"
#include "dsl/runtime/stream.h"

namespace tile {
namespace dist {

class GpuTensorOps : public TensorOps {
 public:
  // Works in device `ordinal`'s primary context (made current on the calling thread) and queues
  // on `stream`, which must outlive this object and every tensor it allocates.
  GpuTensorOps(int ordinal, rt::Stream& stream);

  Device device() const override { return Device::cuda(ordinal_); }
  // Device memory; freeing it first waits for the stream (queued kernels may still use it).
  DeviceTensor empty(DType dtype, const std::vector<int64_t>& shape) override;
  void fill(const TensorView& dst, double value) override;
  void copy(const TensorView& dst, const TensorView& src) override;
  void accumulate(const TensorView& acc, const TensorView& src) override;
  void merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                     const TensorView& block_lse) override;
  void upload(const TensorView& dst, const TensorView& host_src) override;
  void download(const TensorView& host_dst, const TensorView& src) override;
  void synchronize() override;
  void copy_bytes(void* dst, const void* src, size_t bytes) override;

 private:
  int ordinal_;
  rt::Stream& stream_;
};

}  // namespace dist
}  // namespace tile
