#include "attention/gpu/gpu_backend.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "dsl/runtime/arg_pack.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/module.h"

namespace tile::attention {

std::string instance_name(const std::string& kernel, const Params& params) {
  std::string name = kernel + "__";
  for (char c : params.str()) {
    if (c == '=') continue;
    name += c == ',' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

GpuBackend::GpuBackend(int ordinal) : ordinal_(ordinal) {
  rt::Context::primary(ordinal).make_current();
  stream_ = std::make_unique<rt::Stream>();
}

GpuBackend::~GpuBackend() = default;

// Device allocations are owned by DeviceBuffers kept in a map keyed by address.
namespace {
std::map<void*, rt::DeviceBuffer>& live_buffers() {
  static std::map<void*, rt::DeviceBuffer> buffers;
  return buffers;
}
}  // namespace

void* GpuBackend::alloc_zeroed(size_t bytes) {
  rt::DeviceBuffer buf(bytes ? (bytes + 3) / 4 * 4 : 4);
  // Zeroed on this backend's stream: a plain cuMemset runs on the legacy default stream, which a
  // non-blocking stream does not wait for, so a kernel could read the memory before it is zero.
  TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, buf.size(), stream_->handle()));
  void* p = buf.data();
  live_buffers().emplace(p, std::move(buf));
  return p;
}

void GpuBackend::free(void* p) {
  synchronize();  // kernels queued on the stream may still use it
  live_buffers().erase(p);
}

void GpuBackend::read(void* host_dst, const void* src, size_t bytes) {
  synchronize();
  TILE_CU_CHECK(cuMemcpyDtoH(host_dst, CUdeviceptr(reinterpret_cast<uintptr_t>(src)), bytes));
}

void GpuBackend::write(void* dst, const void* host_src, size_t bytes) {
  synchronize();
  TILE_CU_CHECK(cuMemcpyHtoD(CUdeviceptr(reinterpret_cast<uintptr_t>(dst)), host_src, bytes));
}

const rt::KernelImage& GpuBackend::image_for(const KernelCall& call) const {
  const rt::KernelImage* image = compiled_image(instance_name(call.kernel, call.params));
  if (image == nullptr)
    throw std::invalid_argument("gpu backend: kernel " + call.kernel + " {" + call.params.str() +
                                "} is not among the compiled specialisations (add it to attention/gpu/BUILD)");
  return *image;
}

const std::vector<std::string>& GpuBackend::param_names(const rt::KernelImage& image) {
  auto it = param_names_.find(&image);
  if (it != param_names_.end()) return it->second;
  std::vector<std::string> names;
  for (int i = 0; i < image.num_params; ++i) names.push_back(image.params[i].name);
  return param_names_.emplace(&image, std::move(names)).first->second;
}

void GpuBackend::launch(const KernelCall& call) {
  const rt::KernelImage& image = image_for(call);
  if (std::find(launched_.begin(), launched_.end(), &image) == launched_.end()) launched_.push_back(&image);
  rt::ArgPack pack;
  for (const LaunchArg& a : bind_arguments(call, param_names(image))) {
    switch (a.kind) {
      case LaunchArg::Kind::buffer: pack.pointer(a.data); break;
      case LaunchArg::Kind::i32: pack.i32(a.i); break;
      case LaunchArg::Kind::f32: pack.f32(a.f); break;
    }
  }
  rt::launch_kernel(image, *stream_, rt::Dim3{unsigned(call.grid[0]), unsigned(call.grid[1]), unsigned(call.grid[2])}, pack);
}

void GpuBackend::synchronize() { stream_->synchronize(); }

}  // namespace tile::attention
