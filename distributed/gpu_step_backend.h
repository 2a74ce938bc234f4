// The flash-attn API on the GPU as a ring step backend, with GpuTensorOps on the same stream.
// The API runs on attention::GpuBackend (the DSL attention kernels compiled ahead of time). Registered as "gpu" in backend_factory.h by linking this library.
// MLIR-free.
//
// One GpuBackend per GPU per process, shared by every step backend made for that GPU: virtual
// ranks on one GPU then queue all their work — attention, element-wise kernels and the
// in-process transport's device-to-device copies (TensorOps::copy_bytes) — on one stream, whose
// order alone keeps a block from being read before it arrived or overwritten before it left.
// API calls are serialised with a lock (one stream: they would run one after the other anyway,
// and the backend's workspace bookkeeping is not made for concurrent callers). A call returns
// without waiting for the GPU; the tensor ops read results back on the same stream.
#pragma once

#include <memory>

#include "distributed/step_backend.h"

namespace tile {
namespace dist {

// Makes device `ordinal`'s primary context current on the calling thread (each rank's thread
// calls this). Throws rt::DriverUnavailable without a driver or GPU.
std::unique_ptr<AttentionStepBackend> make_gpu_step_backend(int ordinal = 0);

}  // namespace dist
}  // namespace tile
