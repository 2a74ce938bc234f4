// Backend that runs the attention kernels on the GPU: kernels compiled ahead of time from the DSL
// (the tile_kernel library :attention_kernels), device memory and launches through dsl/runtime.
// MLIR-free: this is what the GPU machine runs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/gpu/compiled_images.h"
#include "attention/host/backend.h"
#include "dsl/runtime/kernel_image.h"
#include "dsl/runtime/stream.h"

namespace tile::attention {

// "attn_fwd" + {HEAD_DIM=128,...} -> "attn_fwd__block_m128_..._softcapfalse" (the instance name
// kernel_instances.bzl gives the compiled kernel).
std::string instance_name(const std::string& kernel, const Params& params);

// compiled_image(instance) and compiled_instances(): compiled_images.h (need no GPU).

class GpuBackend : public Backend {
 public:
  // Uses device `ordinal`'s primary context and a stream of its own. Throws
  // rt::DriverUnavailable where there is no driver or GPU.
  explicit GpuBackend(int ordinal = 0);
  ~GpuBackend() override;

  Device device() const override { return Device::cuda(ordinal_); }
  std::string name() const override { return "gpu"; }
  void* alloc_zeroed(size_t bytes) override;
  void free(void* p) override;
  void read(void* host_dst, const void* src, size_t bytes) override;
  void write(void* dst, const void* host_src, size_t bytes) override;
  void launch(const KernelCall& call) override;
  void synchronize() override;

  rt::Stream& stream() { return *stream_; }
  // Distinct compiled kernels launched so far, in first-launch order.
  const std::vector<const rt::KernelImage*>& kernels_run() const { return launched_; }
  // The compiled kernel for a call; throws std::invalid_argument naming the missing
  // specialisation when it was not compiled.
  const rt::KernelImage& image_for(const KernelCall& call) const;

 private:
  int ordinal_;
  std::unique_ptr<rt::Stream> stream_;
  std::vector<const rt::KernelImage*> launched_;
  // Each image's parameter names, built once: launches bind their arguments to them by name.
  const std::vector<std::string>& param_names(const rt::KernelImage& image);
  std::map<const rt::KernelImage*, std::vector<std::string>> param_names_;
};

}  // namespace tile::attention
