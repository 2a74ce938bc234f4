// The flash-attn API on the GPU as a ring step backend, with GpuTensorOps on the same stream.
// The API runs on attention::GpuBackend (the DSL attention kernels compiled ahead of time).
// Registered as "gpu" in backend_factory.h by linking this library. MLIR-free.
//
// Each backend made here is one rank's own GpuRank (gpu_rank.h): its own compute stream, API
// workspace pool, tensor pool and communication stream. Virtual ranks on one GPU therefore run
// their API calls concurrently (no lock between them) and their work overlaps on the device;
// the in-process transport orders their messages with events (TensorOps::stream_order()).
// A call returns without waiting for the GPU.
#pragma once

#include <memory>

#include "distributed/gpu_rank.h"
#include "distributed/step_backend.h"

namespace tile {
namespace dist {

// A step backend on `rank`: the API on its (timed) GpuBackend, GpuTensorOps on its pool and
// streams, compute_stream() its compute stream; each step's work is labelled with args.step on
// the rank's timeline.
std::unique_ptr<AttentionStepBackend> make_gpu_step_backend(std::shared_ptr<GpuRank> rank);

// The same on a fresh GpuRank of device `ordinal` (made current on the calling thread). Throws
// rt::DriverUnavailable without a driver or GPU.
std::unique_ptr<AttentionStepBackend> make_gpu_step_backend(int ordinal = 0);

}  // namespace dist
}  // namespace tile
