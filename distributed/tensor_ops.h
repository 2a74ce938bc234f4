// The few element-wise operations the ring needs besides attention itself, on the memory of one
// device: allocation, fill, dtype-converting copy, fp32 accumulation, and the LSE merge of a
// partial output. A backend supplies them for its memory (CpuTensorOps for host memory; a GPU
// implementation runs them as small kernels on the compute stream, in stream order with the
// attention steps, so the ring loop never synchronises the host).
#pragma once

#include <memory>
#include <vector>

#include "distributed/device_tensor.h"
#include "distributed/stream_order.h"

namespace tile {
namespace dist {

class TensorOps {
 public:
  virtual ~TensorOps() = default;

  virtual Device device() const = 0;
  // Contiguous, uninitialised.
  virtual DeviceTensor empty(DType dtype, const std::vector<int64_t>& shape) = 0;
  virtual void fill(const TensorView& dst, double value) = 0;
  // dst = src element-wise (same shape, any strides), converting dtype with round-to-nearest.
  virtual void copy(const TensorView& dst, const TensorView& src) = 0;
  // acc += src element-wise; acc is f32 (the accumulators of dq, dk, dv).
  virtual void accumulate(const TensorView& acc, const TensorView& src) = 0;
  // Merges a partial attention result into the fp32 accumulators with lse_merge.h's rule:
  // out (b, s, h, d) f32, lse (b, h, s) f32, block_out (b, s, h, d) any float, block_lse
  // (b, h, s) f32. Views may be strided (zigzag merges into the second half of the rows).
  virtual void merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                             const TensorView& block_lse) = 0;
  // Host <-> this device; host views are contiguous CPU tensors of the same dtype and shape.
  virtual void upload(const TensorView& dst, const TensorView& host_src) = 0;
  virtual void download(const TensorView& host_dst, const TensorView& src) = 0;
  // Waits for every queued operation (a no-op for synchronous CPU ops).
  virtual void synchronize() = 0;
  // Raw bytes between two buffers of this device, in order with the queued operations (what the
  // in-process transport moves for virtual ranks sharing this device's memory).
  virtual void copy_bytes(void* dst, const void* src, size_t bytes) = 0;
  // How the in-process transport orders messages of virtual ranks sharing this device against
  // the work queued here (stream_order.h): a GPU's copy stream and events. Null for memory whose
  // operations are synchronous (host memory): copy_bytes then moves them at the receiver's wait.
  virtual std::shared_ptr<StreamOrder> stream_order() { return nullptr; }

  DeviceTensor zeros(DType dtype, const std::vector<int64_t>& shape) {
    DeviceTensor t = empty(dtype, shape);
    fill(t.view, 0.0);
    return t;
  }
};

// Argument checks every TensorOps implementation makes, throwing std::invalid_argument naming
// `what`: equal shapes; and merge_partial's contract above (dtypes and the (b, s, h, d) /
// (b, h, s) shapes).
void check_same_shape(const TensorView& a, const TensorView& b, const char* what);
void check_merge_partial_args(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                              const TensorView& block_lse);

}  // namespace dist
}  // namespace tile
