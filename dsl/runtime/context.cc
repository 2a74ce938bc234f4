#include "dsl/runtime/context.h"

#include <map>
#include <memory>
#include <mutex>

namespace tile::rt {

Context& Context::primary(int ordinal) {
  static std::mutex mutex;
  // Primary contexts are retained for the life of the process: releasing them at exit races
  // with other static destructors that still free device memory.
  static auto* contexts = new std::map<int, Context*>();
  Context* context = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = contexts->find(ordinal);
    if (it == contexts->end()) {
      CUdevice device = 0;
      TILE_CU_CHECK(cuDeviceGet(&device, ordinal));
      CUcontext handle = nullptr;
      TILE_CU_CHECK(cuDevicePrimaryCtxRetain(&handle, device));
      it = contexts->emplace(ordinal, new Context(ordinal, device, handle)).first;
    }
    context = it->second;
  }
  context->make_current();
  return *context;
}

void Context::make_current() const { TILE_CU_CHECK(cuCtxSetCurrent(context_)); }

void Context::synchronize() const {
  make_current();
  TILE_CU_CHECK(cuCtxSynchronize());
}

std::string Context::device_name() const {
  char name[256] = {0};
  TILE_CU_CHECK(cuDeviceGetName(name, sizeof(name) - 1, device_));
  return name;
}

int Context::attribute(CUdevice_attribute attribute) const {
  int value = 0;
  TILE_CU_CHECK(cuDeviceGetAttribute(&value, attribute, device_));
  return value;
}

int Context::multiprocessor_count() const {
  return attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
}

int Context::compute_capability() const {
  return 10 * attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) +
         attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
}

int Context::max_shared_memory_per_block_optin() const {
  return attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
}

CUcontext ensure_current_context() {
  CUcontext current = nullptr;
  TILE_CU_CHECK(cuCtxGetCurrent(&current));
  if (current == nullptr) current = Context::primary(0).handle();
  return current;
}

int device_count() {
  if (!driver_available()) return 0;
  int count = 0;
  if (driver().cuDeviceGetCount(&count) != CUDA_SUCCESS) return 0;
  return count;
}

}  // namespace tile::rt
