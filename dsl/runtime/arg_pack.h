// Builds a kernel argument list at run time (when the caller is not a generated typed stub),
// checked against the kernel's declared parameters before anything is launched.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "dsl/runtime/kernel_image.h"

namespace tile::rt {

class ArgPack {
 public:
  ArgPack& pointer(const void* p) { return add(ParamKind::kPointer, &p, sizeof(p)); }
  ArgPack& i32(int32_t v) { return add(ParamKind::kI32, &v, sizeof(v)); }
  ArgPack& i64(int64_t v) { return add(ParamKind::kI64, &v, sizeof(v)); }
  ArgPack& f32(float v) { return add(ParamKind::kF32, &v, sizeof(v)); }
  ArgPack& f64(double v) { return add(ParamKind::kF64, &v, sizeof(v)); }

  size_t size() const { return kinds_.size(); }
  ParamKind kind(size_t i) const { return kinds_[i]; }
  // The bytes of argument i (8-byte slot; the first param_kind_size() bytes are the value).
  const void* value(size_t i) const { return &slots_[i]; }

  // One pointer per argument, as cuLaunchKernel takes them. Valid until the pack changes.
  void** pointers();

  // Throws std::invalid_argument naming the kernel, the position, the parameter and both
  // kinds when the pack does not match `image`'s parameter list.
  void check_against(const KernelImage& image) const;

 private:
  ArgPack& add(ParamKind kind, const void* bytes, size_t size) {
    uint64_t slot = 0;
    std::memcpy(&slot, bytes, size);
    slots_.push_back(slot);
    kinds_.push_back(kind);
    return *this;
  }
  std::vector<uint64_t> slots_;  // every parameter kind fits in 8 bytes
  std::vector<ParamKind> kinds_;
  std::vector<void*> pointers_;
};

// Checks `args` against `image` and launches it.
void launch_kernel(const KernelImage& image, Stream& stream, Dim3 grid, ArgPack& args);

}  // namespace tile::rt
