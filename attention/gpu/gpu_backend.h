// Backend that runs the attention kernels on the GPU: kernels compiled ahead of time from the DSL
// (the tile_kernel library :attention_kernels), device memory and launches through dsl/runtime.
// MLIR-free: this is what the GPU machine runs.
//
// Asynchronous like flash-attn: an API call validates, queues its kernels on the backend's
// stream and returns without waiting for the GPU. Workspace comes from a StreamWorkspacePool
// (no device allocation after the first call of a shape, no host wait on free), so calls can be
// captured into a CUDA graph. read() and write() copy in stream order and wait, as host memory
// is involved (the varlen functions read cu_seqlens back to validate them). To read results in
// any other way (a copy on another stream, CUDA events on the host) call synchronize() first.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/gpu/compiled_images.h"
#include "attention/gpu/stream_workspace_pool.h"
#include "attention/host/backend.h"
#include "dsl/runtime/arg_pack.h"
#include "dsl/runtime/kernel_image.h"
#include "dsl/runtime/stream.h"

namespace tile::attention {

// "attn_fwd" + {HEAD_DIM=128,...} -> "attn_fwd__block_m128_..._softcapfalse" (the instance name
// kernel_instances.bzl gives the compiled kernel).
std::string instance_name(const std::string& kernel, const Params& params);

// compiled_image(instance) and compiled_instances(): compiled_images.h (need no GPU).

class GpuBackend : public Backend {
 public:
  // Uses device `ordinal`'s primary context (made current on the calling thread) and a
  // non-blocking stream of its own. Throws rt::DriverUnavailable where there is no driver or GPU.
  explicit GpuBackend(int ordinal = 0);
  // Runs on the caller's `stream` (borrowed, never destroyed here; null is the legacy default
  // stream), as flash-attn runs on PyTorch's current stream: the work is ordered with the
  // caller's. No stream of its own is made.
  GpuBackend(int ordinal, CUstream stream);
  // Waits for the context's work before the workspace is freed. A CUDA graph captured through
  // this backend uses its workspace: it must not be replayed after the backend is gone.
  ~GpuBackend() override;

  // The stream the next calls order their work on (borrowed; null: the legacy default stream).
  // Also makes the device's primary context current on the calling thread.
  void use_stream(void* stream);

  Device device() const override { return Device::cuda(ordinal_); }
  std::string name() const override { return "gpu"; }
  void* alloc_zeroed(size_t bytes) override;
  void free(void* p) override;
  void read(void* host_dst, const void* src, size_t bytes) override;
  void write(void* dst, const void* host_src, size_t bytes) override;
  void launch(const KernelCall& call) override;
  // Waits for the work queued on the stream. The host API never calls it.
  void synchronize() override;
  // One program per multiprocessor (the forward's blocks take one each).
  int persistent_programs() const override;

  // The stream the calls run on (the backend's own or the caller's).
  rt::Stream& stream() { return stream_; }
  // Workspace bookkeeping (allocations, reuses, buffers held).
  StreamWorkspacePool::Stats workspace_stats() const { return workspace_.stats(); }
  // Frees the idle workspace buffers (waits for the context first), as torch.cuda.empty_cache.
  void release_idle_workspace() { workspace_.release_idle(); }
  // Distinct compiled kernels launched so far, in first-launch order.
  const std::vector<const rt::KernelImage*>& kernels_run() const { return launched_; }
  // The compiled kernel for a call; throws std::invalid_argument naming the missing
  // specialisation when it was not compiled.
  const rt::KernelImage& image_for(const KernelCall& call) const;

 private:
  int ordinal_;
  std::unique_ptr<rt::Stream> own_stream_;  // when not on a caller's stream
  rt::Stream stream_;                       // borrowed: own_stream_'s or the caller's
  StreamWorkspacePool workspace_;
  std::vector<const rt::KernelImage*> launched_;
  mutable int programs_ = 0;  // persistent_programs(), asked once
  // Each image's parameter names, built once: launches bind their arguments to them by name.
  const std::vector<std::string>& param_names(const rt::KernelImage& image);
  // The call's arguments bound by name to `image`'s declared parameters (bind_arguments) and
  // packed in their order.
  rt::ArgPack pack_arguments(const KernelCall& call, const rt::KernelImage& image);
  std::map<const rt::KernelImage*, std::vector<std::string>> param_names_;
};

}  // namespace tile::attention
