#include "dsl/runtime/module.h"

#include <utility>
#include <vector>

#include "dsl/runtime/context.h"
#include "dsl/runtime/stream.h"

namespace tile::rt {

Module Module::load_ptx(const char* ptx) {
  ensure_current_context();
  // Capture the JIT's error log: without it a PTX failure says only "invalid PTX".
  std::vector<char> error_log(16384, '\0');
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {error_log.data(),
                    reinterpret_cast<void*>(static_cast<uintptr_t>(error_log.size() - 1))};
  CUmodule module = nullptr;
  CUresult result = driver().cuModuleLoadDataEx(&module, ptx, 2, options, values);
  if (result != CUDA_SUCCESS) {
    std::string call = "cuModuleLoadDataEx(&module, ptx, ...) [PTX JIT log: ";
    call += error_log.data();
    call += "]";
    detail::throw_cuda_error(result, call.c_str(), __FILE__, __LINE__);
  }
  return Module(module, /*jit=*/true);
}

Module Module::load(const void* cubin, size_t cubin_size, const char* ptx) {
  ensure_current_context();
  CUmodule module = nullptr;
  CUresult result = cubin_size > 0 ? driver().cuModuleLoadData(&module, cubin)
                                   : CUDA_ERROR_INVALID_IMAGE;
  if (result == CUDA_SUCCESS) return Module(module, /*jit=*/false);
  const bool wrong_binary = result == CUDA_ERROR_NO_BINARY_FOR_GPU ||
                            result == CUDA_ERROR_INVALID_IMAGE ||
                            result == CUDA_ERROR_INVALID_SOURCE ||
                            result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
  if (wrong_binary && ptx != nullptr) return load_ptx(ptx);
  detail::throw_cuda_error(result, "cuModuleLoadData(&module, cubin)", __FILE__, __LINE__);
}

Module::~Module() {
  if (module_ != nullptr) driver().cuModuleUnload(module_);
}

Module::Module(Module&& other) noexcept
    : module_(std::exchange(other.module_, nullptr)),
      jit_compiled_(std::exchange(other.jit_compiled_, false)) {}

Module& Module::operator=(Module&& other) noexcept {
  if (this != &other) {
    if (module_ != nullptr) driver().cuModuleUnload(module_);
    module_ = std::exchange(other.module_, nullptr);
    jit_compiled_ = std::exchange(other.jit_compiled_, false);
  }
  return *this;
}

CUfunction Module::function(const std::string& name) const {
  CUfunction function = nullptr;
  CUresult result = driver().cuModuleGetFunction(&function, module_, name.c_str());
  if (result != CUDA_SUCCESS) {
    std::string call = "cuModuleGetFunction(&function, module, \"" + name + "\")";
    detail::throw_cuda_error(result, call.c_str(), __FILE__, __LINE__);
  }
  return function;
}

void set_max_dynamic_shared_memory(CUfunction function, int bytes) {
  TILE_CU_CHECK(
      cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
}

void launch(CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem_bytes,
            Stream& stream, void** args) {
  TILE_CU_CHECK(cuLaunchKernel(function, grid.x, grid.y, grid.z, block.x, block.y, block.z,
                               dynamic_smem_bytes, stream.handle(), args, nullptr));
}

}  // namespace tile::rt
