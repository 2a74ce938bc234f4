// TensorOps on one GPU rank's memory (gpu_rank.h): element-wise work runs as the tile-DSL
// kernels of distributed/kernels (compiled ahead of time), queued on the rank's compute stream in
// order with the attention steps; tensors come from the rank's stream-ordered pool, so neither
// allocating nor freeing waits for the device. The ring loop never waits on the host; only
// upload/download (host memory) and synchronize() do. MLIR-free.
#pragma once

#include <memory>

#include "distributed/gpu_rank.h"
#include "distributed/tensor_ops.h"

namespace tile {
namespace dist {

class GpuTensorOps : public TensorOps {
 public:
  // Queues on `rank`'s compute stream; tensors keep the rank alive.
  explicit GpuTensorOps(std::shared_ptr<GpuRank> rank);

  Device device() const override { return Device::cuda(rank_->ordinal()); }
  // Device memory of the rank's pool, returned to it in stream order when the last view goes.
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
  // Copies between virtual ranks on the rank's communication stream, ordered by events
  // (gpu_stream_order.h).
  std::shared_ptr<StreamOrder> stream_order() override { return order_; }

 private:
  rt::Stream& stream() { return rank_->compute_stream(); }
  void run(const attention::KernelCall& call);

  std::shared_ptr<GpuRank> rank_;
  std::shared_ptr<StreamOrder> order_;
};

}  // namespace dist
}  // namespace tile
