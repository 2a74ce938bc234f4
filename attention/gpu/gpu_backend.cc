#include "attention/gpu/gpu_backend.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"
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

GpuBackend::GpuBackend(int ordinal) : ordinal_(ordinal), stream_(rt::Stream::borrow(nullptr)) {
  rt::Context::primary(ordinal).make_current();
  own_stream_ = std::make_unique<rt::Stream>();
  stream_ = rt::Stream::borrow(own_stream_->handle());
}

GpuBackend::GpuBackend(int ordinal, CUstream stream) : ordinal_(ordinal), stream_(rt::Stream::borrow(stream)) {
  rt::Context::primary(ordinal).make_current();
}

GpuBackend::~GpuBackend() {
  // Kernels still queued (on our stream or a caller's) may use the workspace.
  const StreamWorkspacePool::Stats s = workspace_.stats();
  if (s.in_use + s.idle + s.graph_owned > 0) rt::driver().cuCtxSynchronize();  // no throw from here
}

void GpuBackend::use_stream(void* stream) {
  rt::Context::primary(ordinal_).make_current();  // the caller's thread may have none current
  stream_ = rt::Stream::borrow(static_cast<CUstream>(stream));
}

int GpuBackend::persistent_programs() const {
  if (!programs_) programs_ = std::max(1, rt::Context::primary(ordinal_).multiprocessor_count());
  return programs_;
}

void* GpuBackend::alloc_zeroed(size_t bytes) { return workspace_.alloc_zeroed(bytes, stream_.handle()); }

void GpuBackend::free(void* p) { workspace_.free(p); }

void GpuBackend::read(void* host_dst, const void* src, size_t bytes) {
  // Earlier work on the stream may still be writing `src`: copy in stream order (a cuMemcpyDtoH
  // runs on the legacy default stream, which a non-blocking stream does not wait for), then
  // wait, since the host reads the copy when this returns.
  TILE_CU_CHECK(cuMemcpyDtoHAsync(host_dst, CUdeviceptr(reinterpret_cast<uintptr_t>(src)), bytes, stream_.handle()));
  stream_.synchronize();
}

void GpuBackend::write(void* dst, const void* host_src, size_t bytes) {
  // In stream order: earlier work on the stream may still read `dst`.
  TILE_CU_CHECK(cuMemcpyHtoDAsync(CUdeviceptr(reinterpret_cast<uintptr_t>(dst)), host_src, bytes, stream_.handle()));
  stream_.synchronize();  // host_src may go away when we return
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

rt::ArgPack GpuBackend::pack_arguments(const KernelCall& call, const rt::KernelImage& image) {
  rt::ArgPack pack;
  for (const LaunchArg& a : bind_arguments(call, param_names(image))) {
    switch (a.kind) {
      case LaunchArg::Kind::buffer: pack.pointer(a.data); break;
      case LaunchArg::Kind::i32: pack.i32(a.i); break;
      case LaunchArg::Kind::f32: pack.f32(a.f); break;
    }
  }
  return pack;
}

void GpuBackend::launch(const KernelCall& call) {
  const rt::KernelImage& image = image_for(call);
  if (std::find(launched_.begin(), launched_.end(), &image) == launched_.end()) launched_.push_back(&image);
  rt::ArgPack pack = pack_arguments(call, image);
  rt::launch_kernel(image, stream_, rt::Dim3{unsigned(call.grid[0]), unsigned(call.grid[1]), unsigned(call.grid[2])}, pack);
}

void GpuBackend::synchronize() { stream_.synchronize(); }

}  // namespace tile::attention
