// The flash-attn API on the CPU interpreter (attention/interp_backend: the DSL attention kernels
// run by dsl/interp on host memory) as a ring step backend, with CpuTensorOps. Registered as
// "interp" in backend_factory.h by linking this library. Needs MLIR at run time: CI and tools.
#pragma once

#include <memory>

#include "distributed/step_backend.h"

namespace tile {
namespace dist {

// num_threads: interpreter threads (0: all cores); virtual ranks run concurrently, so they
// divide the cores among themselves.
std::unique_ptr<AttentionStepBackend> make_interp_step_backend(int num_threads = 0);

}  // namespace dist
}  // namespace tile
