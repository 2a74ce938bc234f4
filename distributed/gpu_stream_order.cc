#include "distributed/gpu_stream_order.h"

#include <stdexcept>
#include <string>

#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"

namespace tile {
namespace dist {
namespace {

// An ordering event: no timing (cheaper to record and wait on). Destroying it while a wait on it
// is still queued is fine: the driver releases it once the device is done with it.
struct FenceEvent {
  CUevent event = nullptr;
  FenceEvent() { TILE_CU_CHECK(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING)); }
  ~FenceEvent() {
    if (event) rt::driver().cuEventDestroy(event);
  }
  FenceEvent(const FenceEvent&) = delete;
  FenceEvent& operator=(const FenceEvent&) = delete;
};

StreamOrder::Fence record_on(rt::Stream& stream) {
  auto f = std::make_shared<FenceEvent>();
  TILE_CU_CHECK(cuEventRecord(f->event, stream.handle()));
  return f;
}

CUevent event_of(const StreamOrder::Fence& f) { return static_cast<const FenceEvent*>(f.get())->event; }

std::string describe(const StreamOrder::CopyInfo& info, size_t bytes) {
  return std::to_string(bytes) + " bytes, rank " + std::to_string(info.from) + " -> " + std::to_string(info.to);
}

}  // namespace

GpuStreamOrder::GpuStreamOrder(std::shared_ptr<GpuRank> rank) : rank_(std::move(rank)) {
  if (!rank_) throw std::invalid_argument("GpuStreamOrder: no GpuRank");
}

StreamOrder::Fence GpuStreamOrder::compute_fence() { return record_on(rank_->compute_stream()); }

StreamOrder::Fence GpuStreamOrder::copy_after(void* dst, const void* src, size_t bytes, const std::vector<Fence>& after,
                                             const CopyInfo& info) {
  // On the receiving rank's thread, which need not be the one that made the GpuRank.
  rt::Context::primary(rank_->ordinal()).make_current();
  rt::Stream& comm = rank_->comm_stream();
  for (const Fence& f : after)
    if (f) TILE_CU_CHECK(cuStreamWaitEvent(comm.handle(), event_of(f), 0));
  auto span = [&] {
    TimelineSpan s;
    s.name = "p2p copy";
    s.detail = describe(info, bytes);
    s.comm = true;
    s.step = info.step;
    return s;
  };
  rank_->timed(comm, span, [&] {
    TILE_CU_CHECK(cuMemcpyDtoDAsync(CUdeviceptr(reinterpret_cast<uintptr_t>(dst)),
                                    CUdeviceptr(reinterpret_cast<uintptr_t>(src)), bytes, comm.handle()));
  });
  return record_on(comm);
}

void GpuStreamOrder::compute_waits(const Fence& fence) {
  if (fence) TILE_CU_CHECK(cuStreamWaitEvent(rank_->compute_stream().handle(), event_of(fence), 0));
}

}  // namespace dist
}  // namespace tile
