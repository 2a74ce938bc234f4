// StreamOrder for a virtual rank on a GPU (stream_order.h): fences are CUDA events recorded on
// the rank's compute stream; a message is a cuMemcpyDtoDAsync on the rank's communication
// stream after cuStreamWaitEvent on the fences it must follow; the compute stream waits for the
// copy's event with cuStreamWaitEvent. Nothing waits on the host. Copies show on the rank's
// "comm" lane when its timeline records. Any number of these may serve one rank (they share its
// streams); the rank's own thread drives them all. MLIR-free.
#pragma once

#include <memory>

#include "distributed/gpu_rank.h"
#include "distributed/stream_order.h"

namespace tile {
namespace dist {

class GpuStreamOrder : public StreamOrder {
 public:
  explicit GpuStreamOrder(std::shared_ptr<GpuRank> rank);

  Fence compute_fence() override;
  Fence copy_after(void* dst, const void* src, size_t bytes, const std::vector<Fence>& after,
                   const CopyInfo& info) override;
  void compute_waits(const Fence& fence) override;

 private:
  std::shared_ptr<GpuRank> rank_;
};

}  // namespace dist
}  // namespace tile
