// Loaded GPU code: a module from cubin bytes (falling back to the driver's PTX JIT when the
// cubin does not fit the device), kernel lookup and launch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dsl/runtime/cuda_driver.h"

namespace tile::rt {

class Stream;

// Grid or block extents (cuda.h has no dim3; that type belongs to the CUDA runtime).
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr Dim3() = default;
  constexpr Dim3(unsigned x_, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

class Module {
 public:
  // Loads `cubin` in the current context (device 0's primary one if none). If the driver rejects
  // the cubin (e.g. another architecture) and `ptx` is given, JIT-compiles the PTX instead;
  // the JIT's error log is part of the exception when that fails too.
  static Module load(const void* cubin, size_t cubin_size, const char* ptx = nullptr);
  // JIT-compiles PTX text only.
  static Module load_ptx(const char* ptx);

  Module() = default;
  ~Module();
  Module(Module&& other) noexcept;
  Module& operator=(Module&& other) noexcept;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CUmodule handle() const { return module_; }
  bool jit_compiled() const { return jit_compiled_; }
  // Throws CudaError naming the kernel when the module has no such entry point.
  CUfunction function(const std::string& name) const;

 private:
  Module(CUmodule module, bool jit) : module_(module), jit_compiled_(jit) {}
  CUmodule module_ = nullptr;
  bool jit_compiled_ = false;
};

// Raises a kernel's dynamic shared memory limit; needed before launching with more than 48 KiB.
void set_max_dynamic_shared_memory(CUfunction function, int bytes);

// Launches `function` with cuLaunchKernel. `args` holds one pointer per kernel parameter.
// Dynamic shared memory above 48 KiB needs set_max_dynamic_shared_memory first.
void launch(CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem_bytes,
            Stream& stream, void** args);

}  // namespace tile::rt
